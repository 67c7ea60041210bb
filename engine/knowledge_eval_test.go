package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// tally counts what the AI agent did with a set of questions.
type tally struct {
	questions     int
	answered      int // answered from the right article
	handedOff     int // handed off a question it had to hand off
	wrongArticle  int // answered a question from another article
	wrongAnswer   int // answered a question it had to hand off
	wrongHandoffs int // handed off a question an article answers
}

func (c tally) correct() int { return c.answered + c.handedOff }
func (c tally) wrong() int   { return c.wrongArticle + c.wrongAnswer }

func (c tally) String() string {
	return fmt.Sprintf("%d/%d correct (%.0f%%): %d answered right, %d handed off right; "+
		"%d answered from the wrong article, %d answered instead of handed off, %d handed off needlessly",
		c.correct(), c.questions, 100*float64(c.correct())/float64(c.questions),
		c.answered, c.handedOff, c.wrongArticle, c.wrongAnswer, c.wrongHandoffs)
}

func (c *tally) add(want, got string) {
	c.questions++
	switch {
	case got == want && got == handoff:
		c.handedOff++
	case got == want:
		c.answered++
	case got == handoff:
		c.wrongHandoffs++
	case want == handoff:
		c.wrongAnswer++
	default:
		c.wrongArticle++
	}
}

// The bars of TestKnowledgeQuestions, at the store's default
// min_confidence: the share of questions handled right, and the most
// shoppers given an answer that does not fit (from the wrong article, or
// where a person was due). The dev questions are the ones the search was
// tuned on, and their bar is the target; the held-out bar is a floor under
// what the held-out questions scored on their one look (31/61, 7 wrong),
// to catch a regression, not a target (docs/architecture.md).
var bars = map[string]struct {
	minCorrect float64
	maxWrong   int
}{
	"dev":  {0.85, 4},
	"test": {0.45, 8},
}

// TestKnowledgeQuestions asks the built-in answerer every labelled question
// of testdata/knowledge and holds each set to its bar. Run it with -v for
// the figures of docs/architecture.md: every miss, the tallies at the
// default min_confidence and at others, and how often the right article is
// among the few a model would be given.
func TestKnowledgeQuestions(t *testing.T) {
	articles := loadArticles(t)
	questions := loadQuestions(t, articles)
	k := engine.NewKnowledge(articles)
	r := engine.Retrieval{Knowledge: k}
	s := engine.DefaultSettings().AI
	thresholds := []float64{0.5, s.MinConfidence, 0.7, 0.8}
	tallies := map[string][]tally{"dev": make([]tally, len(thresholds)), "test": make([]tally, len(thresholds))}
	inTop := map[string][4]int{} // first, in the top 3, in the top 5, of the answerable
	for _, q := range questions {
		var history []engine.TranscriptLine
		for _, h := range q.history {
			history = append(history,
				engine.TranscriptLine{From: engine.PartyShopper, Text: h},
				engine.TranscriptLine{From: engine.PartyAI, Text: "(an answer)"})
		}
		eq := engine.Question{Text: q.text, History: history}
		a, err := r.Answer(context.Background(), s, eq)
		if err != nil {
			t.Fatal(err)
		}
		for i, th := range thresholds {
			got := handoff
			if !a.Handoff && a.Confidence >= th {
				got = a.Sources[0]
			}
			tallies[q.set][i].add(q.want, got)
			if th == s.MinConfidence && got != q.want {
				best := "-"
				if len(a.Sources) > 0 {
					best = a.Sources[0]
				}
				t.Logf("%-4s miss: %q: want %s, got %s (best %s, confidence %.2f, handoff %v)",
					q.set, q.text, q.want, got, best, a.Confidence, a.Handoff)
			}
		}
		if q.want != handoff {
			n := inTop[q.set]
			n[3]++
			for i, a := range k.Relevant(eq, 5) {
				if a.ID == q.want {
					n[2]++
					if i < 3 {
						n[1]++
					}
					if i == 0 {
						n[0]++
					}
				}
			}
			inTop[q.set] = n
		}
	}
	for _, set := range []string{"dev", "test"} {
		for i, th := range thresholds {
			t.Logf("%-4s at min_confidence %.1f: %v", set, th, tallies[set][i])
		}
		n := inTop[set]
		t.Logf("%-4s the right article first: %d, among the 3 most relevant: %d, among 5: %d, of %d answerable questions", set, n[0], n[1], n[2], n[3])
		c, bar := tallies[set][1], bars[set]
		if float64(c.correct()) < bar.minCorrect*float64(c.questions) || c.wrong() > bar.maxWrong {
			t.Errorf("%s questions below their bar (%.0f%% correct, at most %d wrong answers): %v", set, 100*bar.minCorrect, bar.maxWrong, c)
		}
	}
}
