package engine_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// manyArticles is the help centre of testdata/knowledge grown to n
// articles: the real ones, then generated ones of the same shape (a title
// of 4–9 words, a body of 60–180) drawn from the real articles' words and
// 5,000 made-up ones, with Zipf's word frequencies, as a big store's help
// centre would read to the index.
func manyArticles(tb testing.TB, n int) []engine.Article {
	real := loadArticles(tb)
	var vocab []string
	seen := map[string]bool{}
	for _, a := range real {
		for _, w := range strings.Fields(strings.ToLower(a.Title + " " + a.Body)) {
			w = strings.Trim(w, ".,?!:;()\"")
			if w != "" && !seen[w] {
				seen[w] = true
				vocab = append(vocab, w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	syllables := strings.Fields("ka lo mi ne ru sa te vi do fa gu he ja ko li ma no pe ri so tu va")
	for range 5000 {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		vocab = append(vocab, b.String())
	}
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	text := func(words int) string {
		ws := make([]string, words)
		for i := range ws {
			ws[i] = vocab[zipf.Uint64()]
		}
		return strings.Join(ws, " ")
	}
	out := append([]engine.Article(nil), real...)
	for i := len(out); i < n; i++ {
		out = append(out, engine.Article{
			ID:    "gen-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26%5),
			Title: text(4+rng.IntN(6)) + "?",
			Body:  text(60 + rng.IntN(121)),
		})
	}
	return out[:n]
}

func benchQuestions(b *testing.B) []engine.Question {
	var qs []engine.Question
	for _, q := range loadQuestions(b, loadArticles(b)) {
		qs = append(qs, engine.Question{Text: q.text})
	}
	return qs
}

// Indexing a store's whole knowledge, as on every change of its FAQs.
func BenchmarkNewKnowledge1000(b *testing.B) {
	articles := manyArticles(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		engine.NewKnowledge(articles)
	}
}

// One search of the 1,000 articles, for each of the labelled questions in
// turn.
func BenchmarkSearch1000(b *testing.B) {
	k := engine.NewKnowledge(manyArticles(b, 1000))
	qs := benchQuestions(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k.Search(qs[i%len(qs)].Text, 5)
		i++
	}
}

// One answer from the 1,000 articles: the rules, the search and the
// confidence.
func BenchmarkAnswer1000(b *testing.B) {
	r := engine.Retrieval{Knowledge: engine.NewKnowledge(manyArticles(b, 1000))}
	qs := benchQuestions(b)
	s := engine.DefaultSettings().AI
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Answer(ctx, s, qs[i%len(qs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
