package engine

import (
	"context"
	"math"
	"strings"
	"unicode/utf8"
)

// Retrieval is the built-in answerer of the AI agent (S10), the default
// when no model is configured: it answers a question with the one
// published FAQ or article that matches it best, word for word (for an
// FAQ, its answer), and says how sure it is. It needs no network and no
// model, and it never writes a word the store did not write.
//
// Its confidence, from 0 to 1, is meant to be held against the store's
// min_confidence (0.6 by default): it grows with the share of the
// question's words (weighted by how rare they are in the knowledge, and
// less for a word found only in an article's body) that the best article
// contains, and it is scaled down when a second article matches nearly as
// well. A question that clearly matches one article scores 0.6 or more;
// one about something the store never wrote about, or one that two
// articles answer equally well, scores less. docs/architecture.md has how
// often it is right.
//
// Some questions it hands off without searching (Answer.Handoff), because
// only a person can help: a shopper asking for a person, a complaint, a
// question about their own order (an order number, an e-mail address,
// something that has not arrived), and a message with no words to search
// ("hi", "help").
type Retrieval struct {
	// Knowledge is the index to answer from; nil answers nothing, handing
	// every question off. Replace it (a new Retrieval, or a new pointer
	// under the caller's lock) when the FAQs change.
	Knowledge *Knowledge
}

var _ Answerer = Retrieval{}

// Answer answers q from r.Knowledge (see Retrieval). q.Articles is not
// read: Retrieval searches all of its knowledge. The answer's text is the
// best article's body clipped to MaxTextRunes, its Sources that article's
// id. It is given even when the confidence is below s.MinConfidence: the
// caller decides to hand off. The only error is ctx's.
func (r Retrieval) Answer(ctx context.Context, s AISettings, q Question) (Answer, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	if needsPerson(q.Text) {
		return Answer{Handoff: true}, nil
	}
	qt, unresolved := r.Knowledge.questionQuery(q)
	if len(qt) == 0 || r.Knowledge.Len() == 0 {
		return Answer{Handoff: true}, nil
	}
	rk := r.Knowledge.rank(qt, language(q.Text))
	docs := rk.order(2)
	if len(docs) == 0 {
		return Answer{Handoff: true}, nil
	}
	best := r.Knowledge.articles[docs[0]]
	runnerUp := 0.0
	if len(docs) > 1 {
		runnerUp = rk.score[docs[1]]
	}
	c := confidence(rk.matched[docs[0]]/rk.total, rk.score[docs[0]], runnerUp)
	if unresolved {
		c *= unresolvedShare
	}
	return Answer{
		Text:       clip(strings.TrimSpace(best.Body), MaxTextRunes),
		Confidence: c,
		Sources:    []string{best.ID},
	}, nil
}

// Relevant returns the at most n articles that best match q, best first,
// searched as Retrieval searches (with the earlier messages when q is short
// or refers back to them): the articles to give a model as q.Articles.
func (k *Knowledge) Relevant(q Question, n int) []Article {
	if k.Len() == 0 {
		return nil
	}
	qt, _ := k.questionQuery(q)
	hits := k.rank(qt, language(q.Text)).top(n)
	out := make([]Article, len(hits))
	for i, h := range hits {
		out[i] = h.Article
	}
	return out
}

// How much earlier messages count in a question's search.
const (
	shortQuestion = 2   // a question with this many terms or fewer is short
	historyWeight = 0.5 // a term of the shopper's previous message counts this much
	// unresolvedShare scales the confidence of a short question that
	// refers back to something when there is nothing before it ("Can I
	// change it?"): whatever it matches, it is a guess.
	unresolvedShare = 0.5
)

// questionQuery is the query for q: its own terms, and when it is short or
// refers back ("and for shoes?", "how long is it valid?") the terms of the
// shopper's previous message at a lower weight. unresolved says q is short
// and refers back, but there is no previous message to refer to.
func (k *Knowledge) questionQuery(q Question) (qt []queryTerm, unresolved bool) {
	if k == nil || !hasContent(q.Text) {
		return nil, false // "hi", "help", "how much?": nothing to search
	}
	seen := map[string]bool{}
	qt = k.query(q.Text, 1, nil, seen)
	back := refersBack(q.Text)
	if len(qt) > shortQuestion && !back {
		return qt, false
	}
	prev, ok := previousQuestion(q)
	if !ok {
		return qt, back && len(qt) <= shortQuestion
	}
	return k.query(prev, historyWeight, qt, seen), false
}

// hasContent reports whether text has a word that says what it is about:
// one that is not a stop word.
func hasContent(text string) bool {
	for _, w := range words(text) {
		if utf8.RuneCountInString(w) >= 2 && !stopWords[w] {
			return true
		}
	}
	return false
}

// previousQuestion is the shopper's last message before q.
func previousQuestion(q Question) (string, bool) {
	h := q.History
	if n := len(h); n > 0 && h[n-1].From == PartyShopper && h[n-1].Text == q.Text {
		h = h[:n-1] // the caller included the question itself
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].From == PartyShopper && strings.TrimSpace(h[i].Text) != "" {
			return h[i].Text, true
		}
	}
	return "", false
}

// refersBack reports whether text leans on what was said before: it
// starts with "and", "what about", "och", or has a pronoun for a thing.
func refersBack(text string) bool {
	ws := words(text)
	if len(ws) == 0 {
		return false
	}
	if backOpeners[ws[0]] || (len(ws) > 1 && ws[0] == "what" && ws[1] == "about") {
		return true
	}
	for _, w := range ws {
		if backPronouns[w] {
			return true
		}
	}
	return false
}

var (
	backOpeners  = setOf(`and also och också men but`)
	backPronouns = setOf(`it its that this they them those these den dem dom denna detta dessa`)
)

// confidence turns a search's outcome into a confidence from 0 to 1: the
// coverage (the share of the question's weight the best article matched)
// to the power 0.7, which forgives a word or two of the shopper's own,
// scaled by how far the best article stands above the runner-up, from one
// half on a tie to one at a lead of a sixth of its score or more.
func confidence(coverage, best, runnerUp float64) float64 {
	if best <= 0 {
		return 0
	}
	lead := (best - runnerUp) / best
	c := math.Pow(coverage, 0.7) * min(1, 0.5+3*lead)
	return max(0, min(1, c))
}
