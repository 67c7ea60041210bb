package actors

import (
	"context"
	"errors"
	"strings"

	"github.com/parley-chat/parley/engine"
)

// Macros returns every macro, ordered by name (C5).
func (s *System) Macros() []engine.Macro { return s.conf.Macros() }

// Macro returns one macro by id.
func (s *System) Macro(id string) (engine.Macro, bool) { return s.conf.Macro(id) }

// PutMacro creates (empty ID) or replaces a macro and returns it as stored.
// A body with an unknown or malformed placeholder is refused, naming body.
func (s *System) PutMacro(ctx context.Context, m engine.Macro) (engine.Macro, error) {
	return s.conf.PutMacro(m, s.cfg.Now())
}

// DeleteMacro removes a macro; not_found if it does not exist. Replies
// already sent with it stay as they were sent.
func (s *System) DeleteMacro(ctx context.Context, id string) error { return s.conf.DeleteMacro(id) }

// MacroReply is an agent's reply made with a macro (H5).
type MacroReply struct {
	Macro       string // the macro's id
	Text        string // the agent's edit of the macro; blank sends the macro's body
	Attachments []engine.Attachment
	ClientID    string
}

// ReplyWithMacro posts an agent's reply made with a macro, as Reply posts
// one typed in full. Its text is the macro's body, or the agent's edit of it
// when r.Text is given, with the placeholders filled in for this ticket: its
// customer (the stored profile's name and e-mail, or the name the ticket was
// opened with when the store sent no profile), the replying agent and the
// ticket's id. An unknown macro, and a placeholder with no value, are refused
// naming the field whose text held it (macro, or text for an edit).
//
// A repeated client id is answered with the original seq like any repeat,
// even when its macro has changed or gone since: what was sent the first
// time is what the client asked for.
func (s *System) ReplyWithMacro(ctx context.Context, id string, agent engine.Agent, r MacroReply) (Posted, error) {
	if !engine.ValidID(id) {
		return Posted{}, engine.ErrNotFound
	}
	if err := engine.ValidateClientID(r.ClientID); err != nil {
		return Posted{}, err
	}
	row, found, err := s.store.Row(id)
	if err != nil {
		return Posted{}, storageError(s.log, "ticket row", err)
	}
	if !found {
		return Posted{}, engine.ErrNotFound
	}
	text, err := s.macroText(ctx, row, agent, r)
	if err != nil {
		if p, ok := s.storedReply(row, r.ClientID, err); ok {
			return p, nil
		}
		return Posted{}, err
	}
	return s.Reply(ctx, id, agent, text, r.Attachments, r.ClientID)
}

// macroText is the text of a reply made with a macro, checked as a message.
func (s *System) macroText(ctx context.Context, row engine.TicketRow, agent engine.Agent, r MacroReply) (string, error) {
	m, ok := s.conf.Macro(r.Macro)
	if !ok {
		return "", engine.Invalid("macro", "no macro has this id")
	}
	values, err := s.macroValues(ctx, row, agent)
	if err != nil {
		return "", err
	}
	field, text := "text", r.Text
	if strings.TrimSpace(text) == "" {
		field, text = "macro", m.Body
	}
	filled, err := engine.FillPlaceholders(field, text, values)
	if err != nil {
		return "", err
	}
	err = engine.ValidateMessage(r.ClientID, filled, r.Attachments)
	var e *engine.Error
	if field == "macro" && errors.As(err, &e) && e.Field == "text" {
		// The body fits, but filled in for this customer it is too long.
		return "", engine.Invalid("macro", "filled in for this ticket, the reply %s", strings.TrimPrefix(e.Message, "text: "))
	}
	return filled, err
}

// macroValues are what a reply's placeholders stand for on this ticket. The
// stored profile is preferred, as the store keeps it current; a ticket whose
// customer has none is filled with the name it was opened with.
func (s *System) macroValues(ctx context.Context, row engine.TicketRow, agent engine.Agent) (engine.MacroValues, error) {
	v := engine.MacroValues{Name: row.Profile.Name, AgentName: agent.Name, TicketID: row.ID}
	if row.Profile.ID == "" {
		return v, nil
	}
	p, err := s.Profile(ctx, row.Profile.ID)
	switch {
	case engine.ErrorCode(err) == engine.CodeNotFound:
		return v, nil
	case err != nil:
		return v, err
	}
	if strings.TrimSpace(p.Name) != "" {
		v.Name = p.Name
	}
	v.Email = p.Email
	return v, nil
}

// storedReply answers a reply whose text could not be made (refused) but
// whose client id is already stored: it repeats a reply that was sent, and
// gets its seq. The idempotency index is written in the message's own batch,
// so an entry is there exactly when the message is.
func (s *System) storedReply(row engine.TicketRow, clientID string, refused error) (Posted, bool) {
	if engine.ErrorCode(refused) != engine.CodeInvalid {
		return Posted{}, false
	}
	seq, found, err := s.store.ClientIDSeq(row.ID, engine.PartyAgent, clientID)
	if err != nil {
		s.log.Warn("client id lookup failed", "conversation", row.ID, "err", err)
		return Posted{}, false
	}
	return Posted{Conversation: row.ID, Channel: row.Channel, Seq: seq, Duplicate: true}, found
}
