package llm

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

// handoffMark is what a model replies to hand the conversation off.
const handoffMark = "[HANDOFF]"

// maxArticleRunes bounds the articles in one prompt, titles and bodies
// together (about 6,000 tokens): the articles come best first, and what
// passes the bound is left out, so that a prompt fits a small model's
// context.
const maxArticleRunes = 24000

// instructions open the system prompt; the articles follow them.
const instructions = `You are the customer service assistant of an online store, answering a shopper in the store's chat.

Answer only from the store's articles below. Do not use anything else you know, and never make up facts the articles do not state, such as prices, dates, delivery times, order details or policies.
Answer in the shopper's language (the language of their last message), briefly (a few sentences at most) and kindly, as plain text.
If the articles do not answer the question, if the shopper asks for a person, or if the question is about their own order, payment or account in a way only a person can look up, reply with exactly ` + handoffMark + ` and nothing else.

The store's articles:`

// messages is the conversation sent for q: the system prompt with the
// articles, the latest history as user and assistant turns, the question.
// Turns of one role in a row are joined into one, and the turns start with
// the shopper's, since some open models' chat templates refuse anything
// but system, user, assistant, user, ….
func messages(q engine.Question, maxHistory int) []message {
	out := []message{{Role: "system", Content: systemPrompt(q.Articles)}}
	add := func(role, text string) {
		if text = strings.TrimSpace(text); text == "" {
			return
		}
		if last := &out[len(out)-1]; last.Role == role {
			last.Content += "\n\n" + text
			return
		}
		if role == "assistant" && len(out) == 1 {
			return // a welcome before the shopper's first word
		}
		out = append(out, message{Role: role, Content: text})
	}
	for _, l := range history(q, maxHistory) {
		switch l.From {
		case engine.PartyShopper:
			add("user", lineText(l))
		case engine.PartyAI, engine.PartyAgent:
			add("assistant", lineText(l))
		}
	}
	add("user", q.Text)
	return out
}

// history is the latest lines of q.History that go with the question,
// without system messages, nor the question itself if the caller left it
// at the end.
func history(q engine.Question, n int) []engine.TranscriptLine {
	h := q.History
	if k := len(h); k > 0 && h[k-1].From == engine.PartyShopper && h[k-1].Text == q.Text {
		h = h[:k-1]
	}
	var out []engine.TranscriptLine
	for i := len(h) - 1; i >= 0 && len(out) < n; i-- {
		if h[i].From != engine.PartySystem {
			out = append(out, h[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// lineText is a message as the model reads it: its text, and a note of
// each attachment (the model sees no images).
func lineText(l engine.TranscriptLine) string {
	t := l.Text
	for range l.Attachments {
		t += "\n[an attachment]"
	}
	return t
}

// systemPrompt is the instructions and the articles, best first, within
// maxArticleRunes.
func systemPrompt(articles []engine.Article) string {
	var b strings.Builder
	b.WriteString(instructions)
	left := maxArticleRunes
	for i, a := range articles {
		title := strings.TrimSpace(a.Title)
		body := strings.TrimSpace(a.Body)
		n := utf8.RuneCountInString(title) + utf8.RuneCountInString(body)
		if n > left {
			if i > 0 {
				break
			}
			body = clip(body, max(0, left-utf8.RuneCountInString(title)))
		}
		left -= n
		fmt.Fprintf(&b, "\n\n---\nArticle %d: %s\n%s", i+1, title, body)
	}
	b.WriteString("\n---")
	return b.String()
}

// contentOf reads the first choice's message content from a reply.
func contentOf(data []byte, key string) (string, error) {
	var r struct {
		Choices []struct {
			Message *struct {
				Content json.RawMessage `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(r.Choices) == 0 {
		if msg := apiMessage(data, key); msg != "" {
			return "", fmt.Errorf("%w: an error: %s", ErrMalformed, msg)
		}
		return "", fmt.Errorf("%w: it has no choices", ErrMalformed)
	}
	m := r.Choices[0].Message
	if m == nil {
		return "", fmt.Errorf("%w: choices[0] has no message", ErrMalformed)
	}
	return textOf(m.Content)
}

// textOf is a message content as text: a string, null (no text), or the
// array of parts that some APIs answer with, whose text parts it joins.
func textOf(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", fmt.Errorf("%w: choices[0].message.content is neither text nor parts of text", ErrMalformed)
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

// answerOf is the Answer of a model's content: a handoff when it is empty
// or holds the handoff mark, else the text, clipped, resting on articles.
func answerOf(content string, articles []engine.Article) engine.Answer {
	text := strings.TrimSpace(content)
	if text == "" || strings.Contains(strings.ToUpper(text), handoffMark) {
		return engine.Answer{Handoff: true}
	}
	ids := make([]string, len(articles))
	for i, a := range articles {
		ids[i] = a.ID
	}
	return engine.Answer{Text: clip(text, engine.MaxTextRunes), Confidence: 1, Sources: ids}
}

// clip cuts s to at most n runes, the last an ellipsis if it was cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
