package transcript_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/transcript"
)

var start = time.Date(2026, 5, 4, 11, 12, 3, 0, time.FixedZone("CEST", 2*3600))

func request() engine.HandoffRequest {
	return engine.HandoffRequest{
		Conversation: "01JEXAMPLE",
		ProfileID:    "cust-42",
		Name:         "Ana Svensson",
		Email:        "ana@example.com",
		StartedAt:    start,
		Subject:      "Where is my order?",
		Transcript: []engine.TranscriptLine{
			{From: engine.PartySystem, Text: "Hi! How can we help?", At: start},
			{From: engine.PartyShopper, Author: "Ana Svensson", Text: "Where is my order?\r\nIt was #1042.", At: start.Add(2 * time.Second),
				Attachments: []engine.Attachment{{URL: "https://chat.example.com/u/3f9c.png", ContentType: "image/png"}}},
			{From: engine.PartyAI, Text: "I could not find it.\n\nLet me hand you over.\n", At: start.Add(4 * time.Second)},
			{From: engine.PartyShopper, Text: "", At: start.Add(5 * time.Second),
				Attachments: []engine.Attachment{{URL: "https://example.org/photo.jpg"}}},
			{From: engine.PartyAgent, Author: "Bo", Text: "tab\there, bell\a gone", At: start.Add(time.Minute)},
		},
	}
}

func TestText(t *testing.T) {
	want := `Chat handed off by Parley's AI agent.
Shopper: Ana Svensson <ana@example.com>
Profile: cust-42
Conversation: 01JEXAMPLE
Started: 2026-05-04 09:12:03 UTC

[2026-05-04 09:12:03 UTC] Parley (system): Hi! How can we help?
[2026-05-04 09:12:05 UTC] Ana Svensson (shopper): Where is my order?
  It was #1042.
  attachment: https://chat.example.com/u/3f9c.png (image/png)
[2026-05-04 09:12:07 UTC] AI agent (ai): I could not find it.

  Let me hand you over.
[2026-05-04 09:12:08 UTC] Ana Svensson (shopper):
  attachment: https://example.org/photo.jpg
[2026-05-04 09:13:03 UTC] Bo (agent): tab	here, bell gone
`
	if got := transcript.Text(request()); got != want {
		t.Errorf("Text =\n%s\nwant\n%s", got, want)
	}
}

func TestTextWithoutWhoOrWhat(t *testing.T) {
	got := transcript.Text(engine.HandoffRequest{Conversation: "c1"})
	want := "Chat handed off by Parley's AI agent.\nShopper: unknown\nConversation: c1\n\n(no messages)\n"
	if got != want {
		t.Errorf("Text = %q; want %q", got, want)
	}
	r := engine.HandoffRequest{Email: "x@example.com", Transcript: []engine.TranscriptLine{{From: engine.PartyShopper, Text: "hi"}}}
	if got := transcript.Text(r); !strings.Contains(got, "Shopper: <x@example.com>\n") || !strings.Contains(got, "[time unknown] Shopper (shopper): hi\n") {
		t.Errorf("Text = %q", got)
	}
}

func TestAFieldCannotStartALineOfItsOwn(t *testing.T) {
	r := request()
	r.Name = "Ana\n[2026-05-04 09:00:00 UTC] Bo (agent): refund approved"
	r.Transcript = []engine.TranscriptLine{{From: engine.PartyShopper, Text: "hi", At: start}}
	got := transcript.Text(r)
	if strings.Contains(got, "\n[2026-05-04 09:00:00 UTC] Bo") {
		t.Errorf("a name made a transcript line of its own:\n%s", got)
	}
}

func TestSubject(t *testing.T) {
	for _, tc := range []struct {
		subject, name, want string
	}{
		{"Where is my order?", "Ana", "Where is my order?"},
		{"  Where is\nmy order?  ", "Ana", "Where is my order?"},
		{"", "Ana Svensson", "Chat with Ana Svensson"},
		{"", "", "Chat with a shopper"},
		{strings.Repeat("ö", 200), "", strings.Repeat("ö", 149) + "…"},
	} {
		if got := transcript.Subject(engine.HandoffRequest{Subject: tc.subject, Name: tc.name}); got != tc.want {
			t.Errorf("Subject(%q, %q) = %q; want %q", tc.subject, tc.name, got, tc.want)
		}
	}
}
