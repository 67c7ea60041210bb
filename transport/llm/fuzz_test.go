package llm

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

// A model's reply is untrusted input: whatever the bytes, reading it never
// panics, and an answer read from it is valid text within
// engine.MaxTextRunes that never holds the handoff mark.
func FuzzContent(f *testing.F) {
	for _, s := range []string{
		`{"choices":[{"message":{"role":"assistant","content":"Yes."}}]}`,
		`{"choices":[{"message":{"content":null}}]}`,
		`{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"image_url"}]}}]}`,
		`{"choices":[]}`, `{"error":{"message":"x"}}`, `{"error":"x"}`, `[]`, `null`, `<html>`,
		`{"choices":[{"message":{"content":"[handoff]"}}]}`, `{"choices":[{"message":{"content":"\ud800"}}]}`,
	} {
		f.Add([]byte(s))
	}
	articles := []engine.Article{{ID: "a", Title: "t", Body: "b"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		content, err := contentOf(data, "sk-key")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "llm: ") || strings.Contains(err.Error(), "sk-key") {
				t.Fatalf("err = %q", err)
			}
			return
		}
		a := answerOf(content, articles)
		if a.Handoff {
			return
		}
		if a.Text == "" || utf8.RuneCountInString(a.Text) > engine.MaxTextRunes || !utf8.ValidString(a.Text) ||
			strings.Contains(strings.ToUpper(a.Text), handoffMark) || a.Confidence != 1 {
			t.Fatalf("answer %+v from %q", a, data)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := mustTime(t, "Mon, 02 Mar 2026 10:00:00 GMT")
	tests := []struct {
		v    string
		want string // a duration, or "none"
	}{
		{"0", "0s"}, {"7", "7s"}, {" 120 ", "2m0s"}, {"86400", "24h0m0s"},
		{"86401", "none"}, {"-1", "none"}, {"1.5", "none"}, {"", "none"}, {"soon", "none"},
		{"Mon, 02 Mar 2026 10:01:30 GMT", "1m30s"}, {"Mon, 02 Mar 2026 09:00:00 GMT", "0s"},
		{"Monday, 02-Mar-26 10:00:10 GMT", "10s"}, {"Mon Mar  2 10:00:05 2026", "5s"},
	}
	for _, tt := range tests {
		d, ok := retryAfter(tt.v, now)
		got := "none"
		if ok {
			got = d.String()
		}
		if got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := http.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
