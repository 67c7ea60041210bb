package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// An inbox preview collapses whitespace exactly as strings.Fields does, and
// hands back the text itself when there is nothing to collapse.
func TestCollapseSpace(t *testing.T) {
	ref := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	cases := []string{"", " ", "a", "a b", " a", "a ", "a  b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b",
		"\u0085", "héllo wörld", "x \x85y", "\xff \xfe", "a b c d"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "é", " ", "  ", "\t", "\n", "\u00a0", "\u3000", "\xff", "z"}
	for range 5000 {
		var b strings.Builder
		for n := rng.IntN(8); n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := collapseSpace(s), ref(s); got != want {
			t.Fatalf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	}
	if s := "already collapsed"; unsafe.StringData(collapseSpace(s)) != unsafe.StringData(s) {
		t.Error("a collapsed text was copied")
	}
}
