package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// loadArticles reads testdata/knowledge/articles.txt: entries that start
// with "=== <id>", then the title's line, then the body's lines.
func loadArticles(t testing.TB) []engine.Article {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "knowledge", "articles.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []engine.Article
	var body []string
	flush := func() {
		if len(out) > 0 {
			out[len(out)-1].Body = strings.TrimSpace(strings.Join(body, "\n"))
		}
		body = nil
	}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "=== "):
			flush()
			out = append(out, engine.Article{ID: strings.TrimSpace(line[4:])})
		case len(out) == 0:
			// the comment before the first entry
		case out[len(out)-1].Title == "":
			out[len(out)-1].Title = line
		default:
			body = append(body, line)
		}
	}
	flush()
	return out
}

// labelled is a question of testdata/knowledge/questions.txt.
type labelled struct {
	set     string // dev or test
	want    string // an article id, or handoff
	text    string
	history []string // earlier shopper messages, oldest first
}

const handoff = "HANDOFF"

func loadQuestions(t testing.TB, articles []engine.Article) []labelled {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "knowledge", "questions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{handoff: true}
	for _, a := range articles {
		ids[a.ID] = true
	}
	var out []labelled
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "|")
		for j := range f {
			f[j] = strings.TrimSpace(f[j])
		}
		if len(f) < 3 || (f[0] != "dev" && f[0] != "test") || !ids[f[1]] {
			t.Fatalf("questions.txt:%d: want <dev|test> | <article id|HANDOFF> | <question>: %q", i+1, line)
		}
		out = append(out, labelled{set: f[0], want: f[1], text: f[2], history: f[3:]})
	}
	return out
}
