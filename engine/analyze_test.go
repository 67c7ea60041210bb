package engine

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Don't SHIP it!", []string{"dont", "ship", "it"}},
		{"What’s my order's status?", []string{"whats", "my", "orders", "status"}},
		{"e-mail, 14:00 & 2XL", []string{"e", "mail", "14", "00", "2xl"}},
		{"Hur lång är LEVERANSTIDEN?", []string{"hur", "lång", "är", "leveranstiden"}},
		{"'quoted' words' ends", []string{"quoted", "words", "ends"}},
		{"Ångra köpet 🙂 nu", []string{"ångra", "köpet", "nu"}},
		{"", nil},
		{"?!… 🙂", nil},
	}
	for _, tt := range tests {
		if got := words(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// The stemmer must make the forms a shopper and an article use of one word
// the same term, in English and Swedish, and keep different words apart.
func TestStem(t *testing.T) {
	same := [][]string{
		{"shipping", "shipped", "ships", "ship"},
		{"order", "orders", "ordered", "ordering"},
		{"cancel", "cancelled", "cancellation"},
		{"return", "returns", "returned", "returning", "returnable"},
		{"delivery", "deliveries", "delivered", "deliver"},
		{"size", "sizes", "sizing"},
		{"payment", "payments", "pay", "paying"},
		{"betala", "betalning", "betalningar", "betalningen"},
		{"leverans", "leveransen", "leveranser"},
		{"storlek", "storleken", "storlekar"},
		{"presentkort", "presentkortet"},
	}
	for _, ws := range same {
		for _, w := range ws[1:] {
			if stem(w) != stem(ws[0]) {
				t.Errorf("stem(%q) = %q, stem(%q) = %q: want one term", w, stem(w), ws[0], stem(ws[0]))
			}
		}
	}
	different := [][2]string{{"card", "care"}, {"gift", "give"}, {"address", "add"}, {"status", "stat"}, {"return", "retur"}}
	for _, p := range different {
		if stem(p[0]) == stem(p[1]) {
			t.Errorf("stem(%q) = stem(%q) = %q: want two terms", p[0], p[1], stem(p[0]))
		}
	}
	if got := stem("2xl"); got != "2xl" {
		t.Errorf("stem(2xl) = %q: a word with a digit is kept as it is", got)
	}
}

// Phrases and synonyms make a shopper's words and an article's meet.
func TestTermsOfTheSameThing(t *testing.T) {
	tests := [][2]string{
		{"How much is delivery?", "shipping cost"},
		{"Can I send it back?", "return"},
		{"When do I get my money back?", "refund"},
		{"Do you have a size chart?", "size guide"},
		{"promo code", "discount code"},
		{"Is it OK to swap?", "exchange"},
		{"Kan jag skicka tillbaka den?", "returnera"},
	}
	for _, tt := range tests {
		if a, b := terms(tt[0]), terms(tt[1]); !slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))) {
			t.Errorf("terms(%q) = %q, terms(%q) = %q: want the same", tt[0], a, tt[1], b)
		}
	}
	if got := questionTerms("Where is my parcel?"); !slices.Contains(got, stem("track")) {
		t.Errorf("questionTerms(where is my parcel) = %q, want a term for tracking", got)
	}
	for _, text := range []string{"hi!", "Hello, I have a question", "Can you help me, please?", "Hej, tack!"} {
		if got := terms(text); len(got) != 0 {
			t.Errorf("terms(%q) = %q, want none", text, got)
		}
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct{ text, want string }{
		{"How do I return an item?", langEnglish},
		{"Do you take Apple Pay?", langEnglish},
		{"Hur returnerar jag en vara?", langSwedish},
		{"Är frakten gratis?", langSwedish},
		{"Klarna", langUnknown},
		{"", langUnknown},
	}
	for _, tt := range tests {
		if got := language(tt.text); got != tt.want {
			t.Errorf("language(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// Only a person can help with some messages, whatever the knowledge says;
// others only look like them.
func TestNeedsPerson(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"Can I talk to a real person?", true},
		{"I want to speak with someone from customer service", true},
		{"Kan jag prata med en människa?", true},
		{"connect me to an agent please", true},
		{"Where is my order 10234?", true},
		{"Order #48213 is missing a sweater", true},
		{"Please change my e-mail to anna@example.com", true},
		{"I ordered on Monday and it still hasn't arrived", true},
		{"Jag har inte fått mitt paket", true},
		{"I was charged twice", true},
		{"This is the worst service ever", true},
		{"Jag är jättebesviken", true},

		{"Can I return items in person at a store?", false},
		{"Do you ship orders over 1000 kr for free?", false},
		{"I didn't get the confirmation email", false},
		{"The password reset link hasn't arrived", false},
		{"How do I make a complaint about a faulty item?", false},
		{"Can someone else collect my parcel?", false},
		{"What does shipping cost?", false},
	}
	for _, tt := range tests {
		if got := needsPerson(tt.text); got != tt.want {
			t.Errorf("needsPerson(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
