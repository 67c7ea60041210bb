package twilio_test

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/parley-chat/parley/transport/twilio"
)

func TestSegments(t *testing.T) {
	const (
		basic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
		extension = "^{}\\[~]|€\f"
	)
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"empty", "", 0},
		{"one letter", "a", 1},
		{"ASCII, 160", strings.Repeat("a", 160), 1},
		{"ASCII, 161", strings.Repeat("a", 161), 2},
		{"ASCII, 306", strings.Repeat("a", 306), 2},
		{"ASCII, 307", strings.Repeat("a", 307), 3},
		{"ASCII, 1600", strings.Repeat("a", 1600), 11},
		{"Swedish is GSM-7", "Hej Åsa! Är din beställning från Öland här? Ja, på måndag.", 1},
		{"Swedish, 160", strings.Repeat("åäöÅÄÖ", 26) + "åäöÅ", 1},
		{"Swedish, 161", strings.Repeat("åäöÅÄÖ", 26) + "åäöÅÄ", 2},
		{"the whole basic table", basic, 1},
		{"the basic table twice", basic + basic, 2}, // 256 septets
		{"the extension table costs two", extension, 1},
		{"euros, 80 cost 160", strings.Repeat("€", 80), 1},
		{"euros, 81 cost 162", strings.Repeat("€", 81), 2},
		{"an escape is never split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), 3},
		{"an escape fits at the end", strings.Repeat("a", 151) + "€" + strings.Repeat("a", 153), 2},
		{"a backtick is not GSM-7", "`", 1},
		{"ç is not GSM-7", strings.Repeat("a", 70) + "ç", 2},
		{"a tab is not GSM-7", strings.Repeat("a", 70) + "\t", 2},
		{"a curly quote is not GSM-7", strings.Repeat("a", 69) + "’", 1},
		{"UCS-2, 70", strings.Repeat("ж", 70), 1},
		{"UCS-2, 71", strings.Repeat("ж", 71), 2},
		{"UCS-2, 134", strings.Repeat("ж", 134), 2},
		{"UCS-2, 135", strings.Repeat("ж", 135), 3},
		{"one emoji makes it UCS-2", "Tack för ditt köp! 😊", 1},
		{"emoji cost two units, 35", strings.Repeat("😊", 35), 1},
		{"emoji cost two units, 36", strings.Repeat("😊", 36), 2},
		{"a surrogate pair is never split", strings.Repeat("a", 66) + "😊" + strings.Repeat("a", 66), 3},
		{"a surrogate pair at the end", strings.Repeat("a", 65) + "😊" + strings.Repeat("a", 67), 2},
		{"Swedish and an emoji, 69+2", strings.Repeat("å", 69) + "😊", 2},
		{"an invalid byte is UCS-2", "a\xffb", 1},
		{"Chinese", strings.Repeat("你好", 35), 1},
		{"Chinese, 71", strings.Repeat("你", 71), 2},
	} {
		if got := twilio.Segments(tc.body); got != tc.want {
			t.Errorf("%s: Segments = %d; want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzSegments(f *testing.F) {
	for _, s := range []string{"", "a", "Hej Åsa!", "€€€", "😊", "a\xffb", strings.Repeat("ж", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n := twilio.Segments(body)
		if body == "" {
			if n != 0 {
				t.Errorf("Segments(%q) = %d", body, n)
			}
			return
		}
		// Never fewer than the units over a part's capacity, never more
		// than one part per character.
		units := len(utf16.Encode([]rune(body)))
		if n < 1 || n > max(1, utf8.RuneCountInString(body)) {
			t.Errorf("Segments(%q) = %d for %d characters", body, n, utf8.RuneCountInString(body))
		}
		if units <= 70 && n != 1 {
			t.Errorf("Segments(%q) = %d for %d units", body, n, units)
		}
		if lower := (units + 152) / 153; units > 160 && n < lower {
			t.Errorf("Segments(%q) = %d; at least %d", body, n, lower)
		}
	})
}
