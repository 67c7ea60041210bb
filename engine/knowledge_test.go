package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

func helpCentre(t *testing.T) *engine.Knowledge {
	t.Helper()
	return engine.NewKnowledge(loadArticles(t))
}

func ids(hits []engine.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Article.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	k := helpCentre(t)
	tests := []struct {
		query string
		first string // "" for no hit at all
	}{
		{"How do I return an item?", "returns-how"},
		{"unsubscribe", "newsletter"},
		{"Which payment methods do you accept?", "payment-methods"},
		{"Vilka betalningsalternativ finns det?", "sv-betalning"}, // a compound, matched by its start
		{"Kan jag betala med Swish?", "sv-betalning"},             // Swedish before English
		{"Can I pay with Swish?", "payment-methods"},              // and the other way round
		{"football", ""},
		{"hello, can you help me please?", ""},
	}
	for _, tt := range tests {
		hits := k.Search(tt.query, 3)
		if tt.first == "" {
			if len(hits) != 0 {
				t.Errorf("Search(%q) = %v, want nothing", tt.query, ids(hits))
			}
			continue
		}
		if len(hits) == 0 || hits[0].Article.ID != tt.first {
			t.Errorf("Search(%q) = %v, want %s first", tt.query, ids(hits), tt.first)
		}
		for i := 1; i < len(hits); i++ {
			if hits[i].Score > hits[i-1].Score || hits[i].Score <= 0 {
				t.Errorf("Search(%q): scores %v are not positive and best first", tt.query, hits)
			}
		}
	}
}

// A word in an article's title (an FAQ's question) counts for more than the
// same word in a body; a search returns at most n articles, and only ones
// that match.
func TestSearchRanksTitlesFirst(t *testing.T) {
	k := engine.NewKnowledge([]engine.Article{
		{ID: "body", Title: "Delivery", Body: "Parcels ship in two days. Gift cards are sent by e-mail."},
		{ID: "title", Title: "Gift cards", Body: "Choose an amount and a greeting."},
		{ID: "other", Title: "Sizes", Body: "See the size guide."},
	})
	if got := ids(k.Search("gift cards", 5)); strings.Join(got, ",") != "title,body" {
		t.Errorf("Search(gift cards) = %v, want title,body", got)
	}
	if got := k.Search("gift cards", 1); len(got) != 1 {
		t.Errorf("Search(…, 1) = %v", ids(got))
	}
	for _, n := range []int{0, -1} {
		if got := k.Search("gift cards", n); got != nil {
			t.Errorf("Search(…, %d) = %v, want nil", n, ids(got))
		}
	}
}

// The index is its own: changing the articles it was built from changes
// nothing; an empty or nil index finds nothing.
func TestNewKnowledge(t *testing.T) {
	articles := []engine.Article{{ID: "a", Title: "Returns", Body: "Free within 30 days."}}
	k := engine.NewKnowledge(articles)
	articles[0] = engine.Article{ID: "b", Title: "Shipping", Body: "Two days."}
	if got := ids(k.Search("returns", 1)); len(got) != 1 || got[0] != "a" || k.Len() != 1 {
		t.Errorf("after the caller's change: %v", got)
	}
	var none *engine.Knowledge
	for _, k := range []*engine.Knowledge{engine.NewKnowledge(nil), none} {
		if k.Search("returns", 3) != nil || k.Relevant(engine.Question{Text: "returns"}, 3) != nil || k.Len() != 0 {
			t.Error("an empty index found something")
		}
	}
}

func answer(t *testing.T, r engine.Retrieval, text string, history ...string) engine.Answer {
	t.Helper()
	q := engine.Question{Text: text}
	for _, h := range history {
		q.History = append(q.History, engine.TranscriptLine{From: engine.PartyShopper, Text: h},
			engine.TranscriptLine{From: engine.PartyAI, Text: "an answer"})
	}
	a, err := r.Answer(t.Context(), engine.DefaultSettings().AI, q)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The confidence is meaningful against the default min_confidence (0.6):
// above it for a question that clearly matches one article, below it for
// one about something else, and for one two articles answer equally well.
func TestRetrievalConfidence(t *testing.T) {
	r := engine.Retrieval{Knowledge: helpCentre(t)}
	min := engine.DefaultSettings().AI.MinConfidence
	for _, text := range []string{"How do I reset my password?", "Can I check out as a guest?", "Do you have half sizes in boots?"} {
		if a := answer(t, r, text); a.Handoff || a.Confidence < min || a.Confidence > 1 {
			t.Errorf("%q: %+v, want an answer with confidence in [%v, 1]", text, a, min)
		}
	}
	for _, text := range []string{"What's the weather like in Stockholm tomorrow?", "Can you recommend a good pizza place?"} {
		if a := answer(t, r, text); !a.Handoff && a.Confidence >= min {
			t.Errorf("%q: %+v, want a handoff or a confidence below %v", text, a, min)
		}
	}

	twins := engine.Retrieval{Knowledge: engine.NewKnowledge([]engine.Article{
		{ID: "a", Title: "How long does delivery take?", Body: "Two to three days."},
		{ID: "b", Title: "How long does delivery take?", Body: "Two to three days."},
		{ID: "c", Title: "Returns", Body: "Free."},
	})}
	if a := answer(t, twins, "How long does delivery take?"); a.Confidence > 0.5 || a.Sources[0] != "a" {
		t.Errorf("a tie: %+v, want confidence at most 0.5 and the first of the two", a)
	}
}

// Handoffs without a search: a person asked for, a question about the
// shopper's own order, nothing to search, a question that refers to what
// was never said; no knowledge at all.
func TestRetrievalHandsOff(t *testing.T) {
	r := engine.Retrieval{Knowledge: helpCentre(t)}
	for _, text := range []string{"Can I talk to a real person?", "Where is my order 10234?", "hi", "", "help!", "how much?"} {
		if a := answer(t, r, text); !a.Handoff || a.Text != "" {
			t.Errorf("%q: %+v, want a handoff", text, a)
		}
	}
	if a := answer(t, r, "Can I change it?"); !a.Handoff && a.Confidence >= 0.6 {
		t.Errorf("an unresolved reference: %+v, want a low confidence", a)
	}
	for _, k := range []*engine.Knowledge{nil, engine.NewKnowledge(nil)} {
		if a := answer(t, engine.Retrieval{Knowledge: k}, "How do I return an item?"); !a.Handoff {
			t.Errorf("no knowledge: %+v, want a handoff", a)
		}
	}
}

// A short question, or one that refers back, is searched with the
// shopper's previous message.
func TestRetrievalReadsHistory(t *testing.T) {
	r := engine.Retrieval{Knowledge: helpCentre(t)}
	tests := []struct {
		text, before, want string
	}{
		{"and for shoes?", "Where is the size guide?", "shoe-sizes"},
		{"how long is it valid?", "I want to buy a gift card for my mum", "gift-cards-buy"},
		{"what about socks?", "How do I return a sweater?", "non-returnable"},
	}
	for _, tt := range tests {
		a := answer(t, r, tt.text, tt.before)
		if a.Handoff || a.Confidence < 0.6 || a.Sources[0] != tt.want {
			t.Errorf("%q after %q: %+v, want %s", tt.text, tt.before, a, tt.want)
		}
	}
	// the caller may leave the question itself at the end of the history
	q := engine.Question{Text: "and for shoes?", History: []engine.TranscriptLine{
		{From: engine.PartyShopper, Text: "Where is the size guide?"},
		{From: engine.PartyShopper, Text: "and for shoes?"},
	}}
	if got := r.Knowledge.Relevant(q, 1); len(got) != 1 || got[0].ID != "shoe-sizes" {
		t.Errorf("Relevant = %v, want shoe-sizes", got)
	}
}

// The answer is the article's body (an FAQ's answer), within a message's
// length, resting on that article.
func TestRetrievalAnswerText(t *testing.T) {
	long := strings.Repeat("Returns are free within thirty days. ", 600) // 22,200 runes
	r := engine.Retrieval{Knowledge: engine.NewKnowledge([]engine.Article{
		{ID: "r", Title: "How do I return an item?", Body: "  " + long},
		{ID: "s", Title: "Shipping", Body: "Two days."},
	})}
	a := answer(t, r, "How do I return an item?")
	if utf8.RuneCountInString(a.Text) != engine.MaxTextRunes || !strings.HasPrefix(a.Text, "Returns are free") || len(a.Sources) != 1 || a.Sources[0] != "r" {
		t.Errorf("answer of %d runes from %v", utf8.RuneCountInString(a.Text), a.Sources)
	}
}

func TestRetrievalHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := engine.Retrieval{Knowledge: helpCentre(t)}.Answer(ctx, engine.DefaultSettings().AI, engine.Question{Text: "returns"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A shopper's message is untrusted input: whatever its text, and whatever
// an article says, searching and answering never panic, find only articles
// that exist, best first, and answer with a confidence from 0 to 1.
func FuzzRetrieval(f *testing.F) {
	for _, s := range []string{
		"How do I return an item?", "", "hi", "Where is my order 10234?", "and for shoes?",
		"Vilka betalningsalternativ finns det?", "don't''’’ x", "🙂🙂", "\xff\xfe", "leveranstiden" + strings.Repeat("x", 300),
		"a@b.c", "charged twice", "returns returns returns returns",
	} {
		f.Add(s, "Returns are free.")
	}
	f.Fuzz(func(t *testing.T, text, body string) {
		k := engine.NewKnowledge([]engine.Article{
			{ID: "returns", Title: "How do I return an item?", Body: "Free within 30 days."},
			{ID: "fuzz", Title: body, Body: text},
			{ID: "sv", Title: "Hur lång är leveranstiden?", Body: body},
		})
		hits := k.Search(text, 2)
		if len(hits) > 2 || (len(hits) == 2 && hits[1].Score > hits[0].Score) {
			t.Fatalf("Search(%q) = %v", text, hits)
		}
		q := engine.Question{Text: text, History: []engine.TranscriptLine{{From: engine.PartyShopper, Text: body}}}
		a, err := engine.Retrieval{Knowledge: k}.Answer(context.Background(), engine.DefaultSettings().AI, q)
		if err != nil || a.Confidence < 0 || a.Confidence > 1 || (!a.Handoff && len(a.Sources) != 1) ||
			utf8.RuneCountInString(a.Text) > engine.MaxTextRunes {
			t.Fatalf("Answer(%q) = %+v, %v", text, a, err)
		}
	})
}

// Articles without titles, or without bodies, are searched all the same.
func TestSearchOneField(t *testing.T) {
	for _, a := range [][]engine.Article{
		{{ID: "a", Body: "Returns are free."}, {ID: "b", Body: "Shipping takes two days."}},
		{{ID: "a", Title: "Returns are free."}, {ID: "b", Title: "Shipping takes two days."}},
	} {
		hits := engine.NewKnowledge(a).Search("free returns", 2)
		if len(hits) != 1 || hits[0].Article.ID != "a" || !(hits[0].Score > 0) {
			t.Errorf("Search = %+v", hits)
		}
	}
}
