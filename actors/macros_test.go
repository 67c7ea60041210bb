package actors

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// lastText is the text of the ticket's latest message.
func (h *harness) lastText(id string) string {
	h.t.Helper()
	view, err := h.sys.Ticket(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := len(view.Events) - 1; i >= 0; i-- {
		if e := view.Events[i]; e.Kind == engine.KindMessage {
			return e.Text
		}
	}
	return ""
}

func (h *harness) macro(name, body string) engine.Macro {
	h.t.Helper()
	m, err := h.sys.PutMacro(context.Background(), engine.Macro{Name: name, Body: body})
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// wantInvalid checks that err refuses the field and says want.
func wantInvalid(t *testing.T, what string, err error, field, want string) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.CodeInvalid || e.Field != field || !strings.Contains(e.Message, want) {
		t.Fatalf("%s: %v, want invalid %s saying %q", what, err, field, want)
	}
}

// A reply with a macro is its body filled in for the ticket's customer, the
// agent and the ticket (H5): from the name the ticket was opened with while
// the store has sent no profile, from the stored profile once it has.
func TestReplyWithMacroFillsTheTicketsCustomer(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(grace)
	h.post(grace, conv, "c1", "Where is my order?")
	hi := h.macro("Hi", "Hi {{first_name}} {{ last_name }}, {{agent_name}} here about ticket {{ticket_id}}.")
	mail := h.macro("Mail", "We wrote to {{email}}, {{name}}.")

	p, err := h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: hi.ID, ClientID: "a1"})
	if err != nil || p.Duplicate || p.Seq != 3 {
		t.Fatalf("reply = %+v, %v", p, err)
	}
	if got, want := h.lastText(conv), "Hi Grace Hopper, Ana here about ticket "+conv+"."; got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
	_, err = h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: mail.ID, ClientID: "a2"})
	wantInvalid(t, "no e-mail known", err, "macro", "{{email}} has no value")

	if err := h.store.PutProfile(engine.Profile{ID: grace.ProfileID, Name: "Grace Brewster Hopper", Email: "grace@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sys.ReplyWithMacro(ctx, conv, bo, MacroReply{Macro: mail.ID, ClientID: "a2"}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.lastText(conv), "We wrote to grace@example.com, Grace Brewster Hopper."; got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
	// The agent's edit of the macro is filled in the same way.
	edit := MacroReply{Macro: hi.ID, Text: "Sorry {{first_name}}, {{agent_name}} again.", ClientID: "a3"}
	if _, err := h.sys.ReplyWithMacro(ctx, conv, bo, edit); err != nil {
		t.Fatal(err)
	}
	if got, want := h.lastText(conv), "Sorry Grace, Bo again."; got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
	edit = MacroReply{Macro: hi.ID, Text: "Your order {{order_id}}", ClientID: "a4"}
	_, err = h.sys.ReplyWithMacro(ctx, conv, bo, edit)
	wantInvalid(t, "an unknown placeholder in the edit", err, "text", "{{order_id}}")
}

// What a macro reply cannot be is refused naming the field, and changes
// nothing; a repeated client id is answered with its original seq even once
// its macro has changed or gone.
func TestReplyWithMacroRefusalsAndRepeats(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	conv := h.startChat(grace)
	m := h.macro("Thanks", "Thanks, {{first_name}}!")
	if _, err := h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: m.ID, ClientID: "a0"}); code(err) != engine.CodeNotFound {
		t.Fatalf("a conversation that is not a ticket yet: %v", err)
	}
	h.post(grace, conv, "c1", "Hello")
	for _, id := range []string{"nope", "../x", ""} {
		if _, err := h.sys.ReplyWithMacro(ctx, id, ana, MacroReply{Macro: m.ID, ClientID: "a0"}); code(err) != engine.CodeNotFound {
			t.Fatalf("ticket %q: %v", id, err)
		}
	}
	_, err := h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: "nope", ClientID: "a0"})
	wantInvalid(t, "an unknown macro", err, "macro", "no macro")
	_, err = h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: m.ID})
	wantInvalid(t, "no client id", err, "client_id", "required")
	long := h.macro("Long", strings.Repeat("x", engine.MaxTextRunes-len("{{name}}"))+"{{name}}")
	_, err = h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: long.ID, ClientID: "a0"})
	wantInvalid(t, "a body too long once filled in", err, "macro", "longer than 4000")
	if got := h.lastText(conv); got != "Hello" {
		t.Fatalf("refused replies sent %q", got)
	}

	first, err := h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: m.ID, ClientID: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	m.Body = "Thank you, {{name}}."
	if _, err := h.sys.PutMacro(ctx, m); err != nil {
		t.Fatal(err)
	}
	again, err := h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: m.ID, ClientID: "a1"})
	if err != nil || !again.Duplicate || again.Seq != first.Seq {
		t.Fatalf("repeat after the macro changed = %+v, %v; want seq %d", again, err, first.Seq)
	}
	if err := h.sys.DeleteMacro(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	h.restart() // the repeat is answered from storage, not from memory
	again, err = h.sys.ReplyWithMacro(ctx, conv, ana, MacroReply{Macro: m.ID, ClientID: "a1"})
	if err != nil || !again.Duplicate || again.Seq != first.Seq || again.Channel != engine.ChannelWebchat {
		t.Fatalf("repeat after the macro was deleted = %+v, %v; want seq %d", again, err, first.Seq)
	}
	if got := h.lastText(conv); got != "Thanks, Grace!" {
		t.Fatalf("last message %q: a repeat was sent again", got)
	}
	if list := h.sys.Macros(); len(list) != 1 || list[0].ID != long.ID {
		t.Fatalf("macros after a restart: %+v", list)
	}
}
