package engine

import (
	"maps"
	"time"
)

// TicketStatus is a ticket's place in the Helpdesk (H3).
type TicketStatus string

// Ticket statuses.
const (
	StatusOpen    TicketStatus = "open"
	StatusSnoozed TicketStatus = "snoozed"
	StatusClosed  TicketStatus = "closed"
)

// ValidStatus reports whether s names a ticket status.
func ValidStatus(s TicketStatus) bool {
	return s == StatusOpen || s == StatusSnoozed || s == StatusClosed
}

// Ticket is the Helpdesk-only state of a ticket. A ticket shares its id with
// its conversation; everything the shopper can see (messages, assignment,
// receipts, the end) is in the conversation, and the ticket adds what only
// agents know.
type Ticket struct {
	ID           string    `json:"id"`
	LastSeq      uint64    `json:"last_seq"`
	SnoozedUntil time.Time `json:"snoozed_until"`
	SnoozedAtSeq uint64    `json:"snoozed_at_seq"` // shopper messages after this conversation seq wake it
	AlertedAt    time.Time `json:"alerted_at"`     // the last waiting alert (H10)
	// Deliveries is what became of each agent's message sent by SMS, by the
	// message's seq: the furthest status reported (I2).
	Deliveries map[uint64]Delivery `json:"deliveries,omitempty"`
}

// Delivery is what a provider reported of one message sent by SMS.
type Delivery struct {
	Status string    `json:"status"`
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
}

// deliveryRank orders delivery states: a report never takes a message back
// to an earlier state (reports may come out of order); a failure is final.
func deliveryRank(status string) int {
	switch status {
	case SMSQueued:
		return 1
	case SMSSent:
		return 2
	case SMSDelivered:
		return 3
	case SMSUndelivered, SMSFailed:
		return 4
	}
	return 0
}

// DecideDelivery records a provider's report of the message at cmd.Of of
// conversation c, sent by SMS. A report that would take the message back to
// an earlier state records nothing. It comes after the ticket closed too:
// the text was sent before.
func (t *Ticket) DecideDelivery(c *Conversation, cmd ReportDelivery) ([]TicketEvent, error) {
	switch {
	case c.LastSeq == 0 || c.Channel != ChannelSMS:
		return nil, ErrNotFound
	case cmd.Of == 0 || cmd.Of > c.LastSeq:
		return nil, Invalid("message", "no message %d in this conversation", cmd.Of)
	case deliveryRank(cmd.Status) == 0:
		return nil, Invalid("status", "unknown delivery status %q", cmd.Status)
	}
	if d, ok := t.Deliveries[cmd.Of]; ok && deliveryRank(d.Status) >= deliveryRank(cmd.Status) {
		return nil, nil
	}
	return []TicketEvent{{Seq: t.LastSeq + 1, At: cmd.At, Kind: TicketDelivery, AtSeq: cmd.Of,
		Status: cmd.Status, Error: clip(cmd.Error, 500)}}, nil
}

// DecideSnooze refuses or accepts a snooze of the ticket of conversation c.
func (t *Ticket) DecideSnooze(c *Conversation, cmd SnoozeTicket) ([]TicketEvent, error) {
	if !c.IsTicket() {
		return nil, ErrNotFound
	}
	if c.Ended {
		return nil, ErrClosed
	}
	if !cmd.Until.After(cmd.At) {
		return nil, Invalid("until", "must be in the future")
	}
	return []TicketEvent{{
		Seq: t.LastSeq + 1, At: cmd.At, Kind: TicketSnoozed,
		Until: cmd.Until, AtSeq: c.LastSeq, AgentID: cmd.AgentID,
	}}, nil
}

// Apply folds one ticket event into the state, ignoring any out of order.
func (t *Ticket) Apply(e TicketEvent) {
	if e.Seq != t.LastSeq+1 {
		return
	}
	t.LastSeq = e.Seq
	switch e.Kind {
	case TicketSnoozed:
		t.SnoozedUntil, t.SnoozedAtSeq = e.Until, e.AtSeq
	case TicketAlerted:
		t.AlertedAt = e.At
	case TicketDelivery:
		if t.Deliveries == nil {
			t.Deliveries = map[uint64]Delivery{}
		}
		t.Deliveries[e.AtSeq] = Delivery{Status: e.Status, Error: e.Error, At: e.At}
	}
}

// DecideAlert raises a waiting alert on the ticket of conversation c at now
// (H10) when one is due by NextAlert; none (nil) otherwise, since the
// customer may have been answered, or the ticket snoozed, meanwhile.
func (t *Ticket) DecideAlert(c *Conversation, now time.Time, after time.Duration, o OfficeHours) []TicketEvent {
	if !c.IsTicket() {
		return nil
	}
	due := NextAlert(Row(c, t, now), after, o)
	if due.IsZero() || now.Before(due) {
		return nil
	}
	return []TicketEvent{{Seq: t.LastSeq + 1, At: now, Kind: TicketAlerted}}
}

// NextAlert is when the ticket of row r next raises a waiting alert (H10):
// `after` into the customer's wait (from their first unanswered message),
// then every `after` from the last alert while the wait goes on; while the
// team is away, at its return. Zero when none will come: the ticket is not
// open (snoozed tickets wait for their wake-up), nobody is waiting, alerts
// are off (after 0), or the team never comes back.
func NextAlert(r TicketRow, after time.Duration, o OfficeHours) time.Time {
	if after <= 0 || r.Status != StatusOpen || r.WaitingSince == nil {
		return time.Time{}
	}
	from := *r.WaitingSince
	if r.AlertedAt != nil && r.AlertedAt.After(from) {
		from = *r.AlertedAt
	}
	at, ok := o.NextOpen(from.Add(after))
	if !ok {
		return time.Time{}
	}
	return at
}

// After returns the ticket as it will be once events are applied, without
// changing t: what is stored with the events before they are applied.
func (t *Ticket) After(events []TicketEvent) Ticket {
	next := *t
	for _, e := range events {
		if e.Kind == TicketDelivery && next.Deliveries != nil {
			next.Deliveries = maps.Clone(next.Deliveries) // t's must not change before the commit
		}
		next.Apply(e)
	}
	return next
}

// Status is the ticket's status at time now: closed once its conversation
// ended; snoozed until the snooze runs out or the customer writes; else open.
func (t *Ticket) Status(c *Conversation, now time.Time) TicketStatus {
	switch {
	case c.Ended:
		return StatusClosed
	case t.snoozed(c) && now.Before(t.SnoozedUntil):
		return StatusSnoozed
	}
	return StatusOpen
}

func (t *Ticket) snoozed(c *Conversation) bool {
	return !t.SnoozedUntil.IsZero() && c.LastShopperMsg <= t.SnoozedAtSeq
}

// ProfileRef names a customer in a ticket row.
type ProfileRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TicketRow is one line of the Helpdesk inbox (H1): a projection of a
// conversation and its ticket. Version grows with every event of either log,
// so a projection that receives rows twice or out of order keeps the newest.
type TicketRow struct {
	ID           string       `json:"id"`
	Channel      Channel      `json:"channel"`
	Status       TicketStatus `json:"status"`
	Profile      ProfileRef   `json:"profile"`
	Preview      string       `json:"preview"`
	Unread       bool         `json:"unread"`
	Assignee     *AgentRef    `json:"assignee"`
	UpdatedAt    time.Time    `json:"updated_at"`
	WaitingSince *time.Time   `json:"waiting_since"`
	SnoozedUntil *time.Time   `json:"snoozed_until,omitempty"`
	AlertedAt    *time.Time   `json:"alerted_at,omitempty"` // the last waiting alert of the current wait
	Version      uint64       `json:"-"`
}

// Row projects a conversation and its ticket into an inbox row at time now.
func Row(c *Conversation, t *Ticket, now time.Time) TicketRow {
	r := TicketRow{
		ID:        c.ID,
		Channel:   c.Channel,
		Status:    t.Status(c, now),
		Profile:   ProfileRef{ID: c.ProfileID, Name: c.ProfileName},
		Preview:   c.Preview,
		Unread:    c.Unread(),
		Assignee:  c.Assignee,
		UpdatedAt: c.ActivityAt,
		Version:   c.LastSeq + t.LastSeq,
	}
	if !c.WaitingSince.IsZero() && !c.Ended {
		w := c.WaitingSince
		r.WaitingSince = &w
	}
	if r.Status == StatusSnoozed {
		u := t.SnoozedUntil
		r.SnoozedUntil = &u
	}
	if r.WaitingSince != nil && t.AlertedAt.After(*r.WaitingSince) {
		a := t.AlertedAt
		r.AlertedAt = &a
	}
	return r
}

// Unread reports whether the ticket has a customer message that no agent has
// read or answered yet: the unread dot (H1). Replying counts as reading.
func (c *Conversation) Unread() bool {
	return !c.Ended && c.LastShopperMsg > c.AgentSeen && c.LastShopperMsg > c.LastAgentMsg
}

// At returns the row as it stands at time now: a snoozed row whose snooze ran
// out is open again.
func (r TicketRow) At(now time.Time) TicketRow {
	if r.Status == StatusSnoozed && r.SnoozedUntil != nil && !now.Before(*r.SnoozedUntil) {
		r.Status = StatusOpen
		r.SnoozedUntil = nil
	}
	return r
}

// CountsForBadge reports whether the row adds one to the unread badge (H2):
// an open ticket with a customer message no agent has read.
func (r TicketRow) CountsForBadge() bool {
	return r.Unread && r.Status == StatusOpen
}
