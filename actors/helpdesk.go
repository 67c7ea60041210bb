package actors

import (
	"context"
	"time"

	"github.com/parley-chat/parley/engine"
)

// Tickets lists inbox rows, newest activity first (H1). me is the caller's
// agent id, for assignee "me". Open and snoozed tickets are the inbox actor's;
// closed ones are read from storage on the caller's goroutine, a page at a
// time, so that the history never passes through the actor's mailbox.
func (s *System) Tickets(ctx context.Context, q TicketQuery, me string) ([]engine.TicketRow, string, error) {
	q.Limit = min(q.Limit, 200)
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Status == "" {
		q.Status = engine.StatusOpen
	}
	if q.Assignee == "me" {
		q.Assignee = me
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	if q.Status == engine.StatusClosed {
		return s.closedTickets(ctx, q, after)
	}
	query := &listQuery{Q: q, After: after, Reply: make(chan any, 1)}
	res, err := s.request(ctx, query.Reply, func() { s.actors.Root.Send(s.inbox, query) })
	if err != nil {
		return nil, "", err
	}
	r := res.(*listResult)
	return r.Rows, r.Next, r.Err
}

// Ticket returns one ticket and its whole conversation log (H4). The log is
// read from storage outside the conversation's mailbox, up to the seq the
// actor answered.
func (s *System) Ticket(ctx context.Context, id string) (TicketView, error) {
	return s.TicketAfter(ctx, id, 0)
}

// TicketAfter is Ticket with only the events after seq after: what a page
// showing the ticket has not seen yet.
func (s *System) TicketAfter(ctx context.Context, id string, after uint64) (TicketView, error) {
	r, err := s.conversation(ctx, id, &readQuery{AsAgent: true})
	if err != nil {
		return TicketView{}, err
	}
	view := r.View
	view.Events, err = s.readEvents(id, after, r.Posted.Seq, 0)
	return view, err
}

// Reply posts an agent's message (H5) and assigns an unassigned ticket to
// them (H6). A repeated clientID answers with the original seq.
func (s *System) Reply(ctx context.Context, id string, agent engine.Agent, text string, attachments []engine.Attachment, clientID string) (Posted, error) {
	r, err := s.conversation(ctx, id, &postCmd{AsAgent: true, Cmd: engine.PostMessage{
		From: engine.PartyAgent, AuthorID: agent.ID, Author: agent.Name, Text: text,
		Attachments: attachments, ClientID: clientID, At: s.cfg.Now().UTC(),
	}})
	if err != nil {
		return Posted{}, err
	}
	return r.Posted, nil
}

// AgentRead records that agents have read the ticket up to seq (H7), which
// clears its unread dot (H1).
func (s *System) AgentRead(ctx context.Context, id string, seq uint64) error {
	_, err := s.conversation(ctx, id, &seenCmd{AsAgent: true,
		Cmd: engine.MarkSeen{By: engine.PartyAgent, UpTo: seq, At: s.cfg.Now().UTC()}})
	return err
}

// Assign assigns the ticket to an agent, or unassigns it with nil (H6).
func (s *System) Assign(ctx context.Context, id string, agent *engine.AgentRef) (engine.TicketRow, error) {
	r, err := s.conversation(ctx, id, &assignCmd{Cmd: engine.AssignTicket{Agent: agent, At: s.cfg.Now().UTC()}})
	if err != nil {
		return engine.TicketRow{}, err
	}
	return r.Row, nil
}

// Snooze hides the ticket until a time or the customer's next message (H3).
func (s *System) Snooze(ctx context.Context, id string, until time.Time, agentID string) (engine.TicketRow, error) {
	r, err := s.conversation(ctx, id, &snoozeCmd{Cmd: engine.SnoozeTicket{
		Until: until.UTC(), AgentID: agentID, At: s.cfg.Now().UTC()}})
	if err != nil {
		return engine.TicketRow{}, err
	}
	return r.Row, nil
}

// Close closes the ticket for good and ends its conversation (H3, S8).
func (s *System) Close(ctx context.Context, id string) (engine.TicketRow, error) {
	r, err := s.conversation(ctx, id, &endCmd{AsAgent: true,
		Cmd: engine.EndConversation{By: engine.PartyAgent, At: s.cfg.Now().UTC()}})
	if err != nil {
		return engine.TicketRow{}, err
	}
	return r.Row, nil
}

// Badge is the number of open tickets with unread customer messages (H2).
func (s *System) Badge(ctx context.Context) (int, error) {
	query := &badgeQuery{Reply: make(chan any, 1)}
	res, err := s.request(ctx, query.Reply, func() { s.actors.Root.Send(s.inbox, query) })
	if err != nil {
		return 0, err
	}
	return res.(int), nil
}

// WatchInbox sends sink the badge, then every changed row and badge, until
// cancel is called or sink refuses one.
func (s *System) WatchInbox(sink InboxSink) (cancel func()) {
	if s.closed.Load() {
		return func() {}
	}
	s.actors.Root.Send(s.inbox, &watchInbox{Sink: sink})
	return func() {
		if !s.closed.Load() {
			s.actors.Root.Send(s.inbox, &unwatchInbox{Sink: sink})
		}
	}
}
