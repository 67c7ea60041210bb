package engine_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

func TestValidateMessage(t *testing.T) {
	img := engine.Attachment{URL: "https://files.example.com/a.png", ContentType: "image/png"}
	atts := func(n int) []engine.Attachment {
		var out []engine.Attachment
		for range n {
			out = append(out, img)
		}
		return out
	}
	tests := []struct {
		name  string
		id    string
		text  string
		atts  []engine.Attachment
		field string
	}{
		{"plain", "c1", "hello", nil, ""},
		{"emoji", "c1", "👋 hej då", nil, ""},
		{"no client id", "", "hello", nil, "client_id"},
		{"client id at limit", strings.Repeat("x", engine.MaxClientIDLen), "hello", nil, ""},
		{"client id too long", strings.Repeat("x", engine.MaxClientIDLen+1), "hello", nil, "client_id"},
		{"empty", "c1", "", nil, "text"},
		{"only spaces", "c1", " \t\n ", nil, "text"},
		{"attachment without text", "c1", "", atts(1), ""},
		{"max runes, more bytes", "c1", strings.Repeat("ä", engine.MaxTextRunes), nil, ""},
		{"max runes of emoji", "c1", strings.Repeat("🙂", engine.MaxTextRunes), nil, ""},
		{"one rune too many", "c1", strings.Repeat("a", engine.MaxTextRunes+1), nil, "text"},
		{"invalid UTF-8", "c1", "hello \xff", nil, "text"},
		{"max attachments", "c1", "", atts(engine.MaxAttachments), ""},
		{"too many attachments", "c1", "hi", atts(engine.MaxAttachments + 1), "attachments"},
		{"http attachment", "c1", "", []engine.Attachment{{URL: "http://files.example.com/a.png", ContentType: "image/png"}}, ""},
		{"javascript attachment", "c1", "", []engine.Attachment{{URL: "javascript:alert(1)", ContentType: "image/png"}}, "attachments.url"},
		{"data attachment", "c1", "", []engine.Attachment{{URL: "data:image/png;base64,AAAA", ContentType: "image/png"}}, "attachments.url"},
		{"empty url", "c1", "", []engine.Attachment{{URL: "", ContentType: "image/png"}}, "attachments.url"},
		{"no content type", "c1", "", []engine.Attachment{{URL: img.URL}}, "attachments.content_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, engine.ValidateMessage(tt.id, tt.text, tt.atts), tt.field)
		})
	}
}

// TestPreviewClipsRunes checks that a long message previews as its first
// PreviewRunes runes, whitespace collapsed, never cutting a character.
func TestPreviewClipsRunes(t *testing.T) {
	c := engine.NewConversation("c")
	at := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	apply(t, c, engine.StartConversation{ProfileID: "p1", At: at})
	text := "Hej\n\nvärlden " + strings.Repeat("🙂", 200)
	apply(t, c, engine.PostMessage{From: engine.PartyShopper, ClientID: "m", Text: text, At: at})
	want := []rune("Hej världen " + strings.Repeat("🙂", 200))[:engine.PreviewRunes]
	if c.Preview != string(want) {
		t.Errorf("Preview = %q, want %q", c.Preview, string(want))
	}
}

func apply(t *testing.T, c *engine.Conversation, cmd engine.Command) []engine.Event {
	t.Helper()
	events, err := c.Decide(cmd)
	if err != nil {
		t.Fatalf("Decide(%+v): %v", cmd, err)
	}
	for _, e := range events {
		c.Apply(e)
	}
	return events
}

// TestApplyIgnoresOutOfOrder checks the replay rule of Apply: an event that is
// not the next one is ignored, so a log applied twice, or with an event
// repeated or from the future, yields the state of the log applied once.
func TestApplyIgnoresOutOfOrder(t *testing.T) {
	at := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	c := engine.NewConversation("c")
	var log []engine.Event
	for i, cmd := range []engine.Command{
		engine.StartConversation{ProfileID: "p1", ProfileName: "Ada", Welcome: "Hi!", At: at},
		engine.PostMessage{From: engine.PartyShopper, ClientID: "c1", Text: "hello", At: at.Add(time.Minute)},
		engine.PostMessage{From: engine.PartyAgent, AuthorID: "a1", Author: "Ana", ClientID: "r1", Text: "hi", At: at.Add(2 * time.Minute)},
		engine.MarkSeen{By: engine.PartyShopper, UpTo: 3, At: at.Add(3 * time.Minute)},
		engine.PostMessage{From: engine.PartyShopper, ClientID: "c2", Text: "thanks", At: at.Add(4 * time.Minute)},
		engine.EndConversation{By: engine.PartyShopper, At: at.Add(5 * time.Minute)},
	} {
		events := apply(t, c, cmd)
		if len(events) == 0 {
			t.Fatalf("command %d decided no events", i)
		}
		log = append(log, events...)
	}

	once := engine.NewConversation("c")
	for _, e := range log {
		once.Apply(e)
	}
	if !reflect.DeepEqual(once, c) {
		t.Fatalf("applying the log = %+v, want %+v", once, c)
	}
	twice := engine.NewConversation("c")
	for range 2 {
		for _, e := range log {
			twice.Apply(e)
		}
	}
	if !reflect.DeepEqual(twice, c) {
		t.Errorf("applying the log twice = %+v, want %+v", twice, c)
	}

	// Out of order: a later event first is ignored, then the log applies.
	ooo := engine.NewConversation("c")
	ooo.Apply(log[2])
	if ooo.LastSeq != 0 || ooo.LastAgentMsg != 0 {
		t.Fatalf("an event with seq %d changed an empty state: %+v", log[2].Seq, ooo)
	}
	for i, e := range log {
		ooo.Apply(e)
		ooo.Apply(e) // repeated at once
		if i > 0 {
			ooo.Apply(log[i-1]) // an older one
		}
	}
	if !reflect.DeepEqual(ooo, c) {
		t.Errorf("applying with repeats = %+v, want %+v", ooo, c)
	}

	// The ticket log follows the same rule.
	tk := &engine.Ticket{ID: "c"}
	open := engine.NewConversation("c")
	for _, e := range log[:3] {
		open.Apply(e)
	}
	snooze, err := tk.DecideSnooze(open, engine.SnoozeTicket{Until: at.Add(time.Hour), At: at.Add(3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	tk.Apply(snooze[0])
	tk.Apply(snooze[0])
	stale := snooze[0]
	stale.Until = at.Add(99 * time.Hour)
	tk.Apply(stale)
	if tk.LastSeq != 1 || !tk.SnoozedUntil.Equal(at.Add(time.Hour)) {
		t.Errorf("ticket after a repeated snooze = %+v", tk)
	}
}

// TestDecideDoesNotMutate checks that Decide is pure, refusals included.
func TestDecideDoesNotMutate(t *testing.T) {
	at := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	c := engine.NewConversation("c")
	apply(t, c, engine.StartConversation{ProfileID: "p1", At: at})
	apply(t, c, engine.PostMessage{From: engine.PartyShopper, ClientID: "c1", Text: "hi", At: at})
	snapshot := fmt.Sprintf("%+v", *c)
	ids := len(c.ClientIDs)
	for _, cmd := range []engine.Command{
		engine.PostMessage{From: engine.PartyAgent, AuthorID: "a1", ClientID: "r1", Text: "hello", At: at},
		engine.PostMessage{From: engine.PartyShopper, ClientID: "c1", Text: "hi", At: at},
		engine.MarkSeen{By: engine.PartyAgent, UpTo: 2, At: at},
		engine.MarkSeen{By: engine.PartyAgent, UpTo: 9, At: at},
		engine.AssignTicket{Agent: &engine.AgentRef{ID: "a1"}, At: at},
		engine.EndConversation{By: engine.PartyAgent, At: at},
		engine.StartConversation{ProfileID: "p1", At: at},
	} {
		_, _ = c.Decide(cmd)
		if got := fmt.Sprintf("%+v", *c); got != snapshot || len(c.ClientIDs) != ids {
			t.Fatalf("Decide(%T) changed the state:\n%s\nwant\n%s", cmd, got, snapshot)
		}
	}
}

func TestDecideStartValidatesProfile(t *testing.T) {
	at := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"", "a\nb", "\xff", strings.Repeat("p", engine.MaxProfileIDBytes+1), "p\x00"} {
		_, err := engine.NewConversation("c").Decide(engine.StartConversation{ProfileID: id, At: at})
		wantField(t, err, "profile_id")
	}
	events := apply(t, engine.NewConversation("c"), engine.StartConversation{
		ProfileID: "p1", ProfileName: strings.Repeat("N", engine.MaxNameRunes+10), At: at})
	if got := len([]rune(events[0].ProfileName)); got != engine.MaxNameRunes {
		t.Errorf("profile name kept %d runes, want it clipped to %d", got, engine.MaxNameRunes)
	}
	if events[0].Channel != engine.ChannelWebchat {
		t.Errorf("default channel = %q, want webchat", events[0].Channel)
	}
}
