package transcript

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

// MaxSubject is the length, in characters, past which Subject clips.
const MaxSubject = 150

// TimeLayout is how a line's time is written, in UTC.
const TimeLayout = "2006-01-02 15:04:05 UTC"

// Subject is r's subject on one line: r.Subject, or "Chat with <name>"
// without one, clipped to MaxSubject characters.
func Subject(r engine.HandoffRequest) string {
	s := oneLine(r.Subject)
	if s == "" {
		name := oneLine(r.Name)
		if name == "" {
			name = "a shopper"
		}
		s = "Chat with " + name
	}
	if utf8.RuneCountInString(s) <= MaxSubject {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:MaxSubject-1])) + "…"
}

// Text is r as plain text: who, which conversation, then the transcript.
func Text(r engine.HandoffRequest) string {
	var b strings.Builder
	b.WriteString("Chat handed off by Parley's AI agent.\n")
	b.WriteString("Shopper: " + shopper(r) + "\n")
	if r.ProfileID != "" {
		b.WriteString("Profile: " + oneLine(r.ProfileID) + "\n")
	}
	b.WriteString("Conversation: " + oneLine(r.Conversation) + "\n")
	if !r.StartedAt.IsZero() {
		b.WriteString("Started: " + stamp(r.StartedAt) + "\n")
	}
	b.WriteString("\n")
	for _, l := range r.Transcript {
		writeLine(&b, r, l)
	}
	if len(r.Transcript) == 0 {
		b.WriteString("(no messages)\n")
	}
	return b.String()
}

func shopper(r engine.HandoffRequest) string {
	name, email := oneLine(r.Name), oneLine(r.Email)
	switch {
	case name == "" && email == "":
		return "unknown"
	case email == "":
		return name
	case name == "":
		return "<" + email + ">"
	}
	return name + " <" + email + ">"
}

func writeLine(b *strings.Builder, r engine.HandoffRequest, l engine.TranscriptLine) {
	b.WriteString("[" + stamp(l.At) + "] " + author(r, l) + " (" + oneLine(string(l.From)) + "):")
	for i, line := range strings.Split(clean(l.Text), "\n") {
		if i == 0 {
			if line != "" {
				b.WriteString(" " + line)
			}
		} else if line == "" {
			b.WriteString("\n") // a blank line stays blank
		} else {
			b.WriteString("\n  " + line)
		}
	}
	b.WriteString("\n")
	for _, a := range l.Attachments {
		b.WriteString("  attachment: " + oneLine(a.URL))
		if ct := oneLine(a.ContentType); ct != "" {
			b.WriteString(" (" + ct + ")")
		}
		b.WriteString("\n")
	}
}

// author is who wrote l, as the conversation named them, or by their
// part in it.
func author(r engine.HandoffRequest, l engine.TranscriptLine) string {
	if a := oneLine(l.Author); a != "" {
		return a
	}
	switch l.From {
	case engine.PartyShopper:
		if n := oneLine(r.Name); n != "" {
			return n
		}
		return "Shopper"
	case engine.PartyAgent:
		return "Agent"
	case engine.PartyAI:
		return "AI agent"
	case engine.PartySystem:
		return "Parley"
	}
	return "Someone"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "time unknown"
	}
	return t.UTC().Format(TimeLayout)
}

// clean is a message's text with its line ends as "\n", without other
// control characters and trailing blank lines.
func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.TrimRight(s, " \t\n")
}

// oneLine is s with its white space folded, for a field that has one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(clean(s), func(r rune) bool { return unicode.IsSpace(r) }), " ")
}
