package engine

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// FAQ kinds: FAQs are shown to shoppers (S3); articles feed the AI agent (C4).
const (
	KindFAQ     = "faq"
	KindArticle = "article"
)

// FAQ is a question and its answer, or a knowledge article.
type FAQ struct {
	ID        string    `json:"id"`
	Question  string    `json:"question"`
	Answer    string    `json:"answer"`
	Published bool      `json:"published"`
	Position  int       `json:"position"`
	Kind      string    `json:"kind"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks an FAQ as written by an admin, naming the field at fault.
func (f FAQ) Validate() error {
	switch {
	case strings.TrimSpace(f.Question) == "":
		return Invalid("question", "is required")
	case utf8.RuneCountInString(f.Question) > 500:
		return Invalid("question", "is longer than 500 characters")
	case strings.TrimSpace(f.Answer) == "":
		return Invalid("answer", "is required")
	case utf8.RuneCountInString(f.Answer) > 20000:
		return Invalid("answer", "is longer than 20000 characters")
	case f.Kind != KindFAQ && f.Kind != KindArticle:
		return Invalid("kind", "must be %q or %q", KindFAQ, KindArticle)
	case f.Position < 0:
		return Invalid("position", "must not be negative")
	}
	return nil
}

// PublishedFAQs returns the FAQs a shopper sees, in order (S3): published
// entries of kind faq, by position then question.
func PublishedFAQs(all []FAQ) []FAQ {
	var out []FAQ
	for _, f := range all {
		if f.Published && f.Kind == KindFAQ {
			out = append(out, f)
		}
	}
	SortFAQs(out)
	return out
}

// SortFAQs orders FAQs by position, then question, then id.
func SortFAQs(faqs []FAQ) {
	sort.SliceStable(faqs, func(i, j int) bool {
		a, b := faqs[i], faqs[j]
		if a.Position != b.Position {
			return a.Position < b.Position
		}
		if a.Question != b.Question {
			return a.Question < b.Question
		}
		return a.ID < b.ID
	})
}

// SampleFAQs are the FAQs a new demo store starts with.
func SampleFAQs() []FAQ {
	return []FAQ{
		{Question: "Where is my order?", Answer: "You can follow your parcel from the link in your shipping confirmation e-mail. Orders ship within 1–2 business days.", Published: true, Position: 1, Kind: KindFAQ},
		{Question: "How do I return an item?", Answer: "Returns are free within 30 days. Start one from My orders → Return, and drop the parcel at any service point.", Published: true, Position: 2, Kind: KindFAQ},
		{Question: "Which payment methods do you accept?", Answer: "Card, invoice and instalments. You choose at checkout.", Published: true, Position: 3, Kind: KindFAQ},
	}
}
