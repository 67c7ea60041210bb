package engine

import (
	"context"
	"strings"
	"time"
)

// The AI service agent (S10, C4, C6) answers a shopper's messages first,
// from the store's own knowledge, and hands the conversation off when it
// cannot. The ports below are what the conversation asks of it; their
// implementations live at the edge (built-in retrieval in engine, a model
// behind an OpenAI-compatible API in transport/llm, Zendesk and Gorgias in
// transport/zendesk and transport/gorgias), and none is ever called inside
// an actor's Receive.

// Article is a published FAQ or knowledge article (C4): what the AI agent
// may answer from.
type Article struct {
	ID    string
	Title string // the FAQ's question, or the article's title
	Body  string // its answer, or the article's text
}

// ArticlesOf returns the published FAQs and articles of faqs, the AI
// agent's knowledge.
func ArticlesOf(faqs []FAQ) []Article {
	var out []Article
	for _, f := range faqs {
		if f.Published {
			out = append(out, Article{ID: f.ID, Title: f.Question, Body: f.Answer})
		}
	}
	return out
}

// TranscriptLine is one message of a conversation, as an answerer reads the
// conversation so far and a handoff carries it.
type TranscriptLine struct {
	From        Party
	Author      string
	Text        string
	At          time.Time
	Attachments []Attachment
}

// Question is what the AI agent is asked: the shopper's latest message,
// with the conversation before it, oldest first, and the knowledge to
// answer from (the articles most relevant to it).
type Question struct {
	Text     string
	History  []TranscriptLine
	Articles []Article
}

// Answer is what an answerer replies. Confidence is how sure it is, from 0
// to 1; below the store's min_confidence the conversation is handed off
// instead. Handoff says the answerer itself cannot resolve the question.
type Answer struct {
	Text       string
	Confidence float64
	Handoff    bool
	Sources    []string // ids of the articles the answer rests on
}

// Answerer answers a shopper's question (S10). It may take its time: it is
// called outside every actor, with a context that the conversation cancels
// (a newer message, a handoff, the end of the chat) and a timeout.
type Answerer interface {
	Answer(ctx context.Context, s AISettings, q Question) (Answer, error)
}

// HandoffRequest is a conversation handed to people (S10): who the shopper
// is, and the whole transcript with its times.
type HandoffRequest struct {
	Conversation string
	ProfileID    string
	Name         string
	Email        string
	StartedAt    time.Time
	Subject      string // a short summary: the shopper's first message, clipped
	Transcript   []TranscriptLine
}

// HandoffTarget creates a ticket in another helpdesk (Zendesk, Gorgias) and
// returns that ticket's id. It is called from the durable outbox with the
// AI settings current at the attempt; key is the same on every attempt at
// one handoff, for the other side to tell a retry from a new ticket where it
// can. An error marked Permanent is not retried; one marked RetryAfter waits.
type HandoffTarget interface {
	Create(ctx context.Context, s AISettings, key string, r HandoffRequest) (externalID string, err error)
}

// personPhrases are ways a shopper asks for a person, in English and
// Swedish, lower-cased: any of them hands the conversation off at once.
var personPhrases = []string{
	"human", "real person", "a person", "an agent", "live agent", "customer service", "customer support",
	"speak to someone", "talk to someone", "speak with someone", "talk with someone", "representative", "operator",
	"människa", "riktig person", "en person", "handläggare", "kundtjänst", "kundservice",
	"prata med någon", "tala med någon", "prata med en", "tala med en",
}

// WantsPerson reports whether a shopper's message asks for a person ("talk
// to a human", "kan jag prata med en människa?"): the AI agent then hands
// off at once (S10).
func WantsPerson(text string) bool {
	t := strings.ToLower(text)
	for _, p := range personPhrases {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}
