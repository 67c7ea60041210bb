package actors

import (
	"context"

	"github.com/parley-chat/parley/actors/config"
	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// The actors reach durable storage through these interfaces, which
// *persist.Store implements. Another log (a replicated one, in cluster mode)
// can stand behind them without the actors changing.

// EventLog is the conversations' and tickets' durable logs: what the
// conversation and profile actors read and append.
type EventLog interface {
	// Append writes one commit atomically and returns nil only once it is
	// on disk; a gap or fork is *persist.ConflictError, a stored client id
	// *persist.DuplicateError, and nothing is written then.
	Append(ctx context.Context, c persist.Commit) error
	// Load rebuilds a conversation and its ticket; persist.ErrNotFound if
	// it has no event.
	Load(id string) (*engine.Conversation, *engine.Ticket, error)
	// Events calls fn for up to limit events with seq > after, in order.
	Events(id string, after uint64, limit int, fn func(engine.Event) error) error
	// LastSeq is the conversation's last durable seq: an append still
	// waiting for its fsync is not counted.
	LastSeq(id string) (uint64, error)
	// ClientIDSeq finds the seq of a stored message by its sender's client id.
	ClientIDSeq(id string, from engine.Party, clientID string) (uint64, bool, error)
	// OpenConversation is a profile's open conversation on a channel, or "".
	OpenConversation(profileID string, ch engine.Channel) (string, error)
	// SnapshotEvery is how many events may pass between snapshots.
	SnapshotEvery() int
}

// RowIndex is the inbox's durable projection: one row per ticket, written
// with the ticket's commits. The inbox keeps the open and snoozed rows in
// memory, rebuilt from ActiveRows at start-up; closed tickets stay on disk and
// are listed a page at a time.
type RowIndex interface {
	// ActiveRows calls fn for the row of every open and snoozed ticket.
	ActiveRows(fn func(engine.TicketRow) error) error
	// ClosedRows returns a page of closed tickets, newest activity first.
	ClosedRows(q persist.ClosedQuery) ([]engine.TicketRow, error)
	// ClosedCount is the number of closed tickets, without reading them.
	ClosedCount() int
	// Row is a ticket's stored row, whatever its status; false if none.
	Row(id string) (engine.TicketRow, bool, error)
}

// Profiles is customers' profiles and their events. A profile's actor is
// its one writer; anyone may read.
type Profiles interface {
	// Profile is a profile without its events; persist.ErrNotFound if none.
	Profile(id string) (engine.Profile, error)
	// PutProfile creates or replaces a profile's record.
	PutProfile(p engine.Profile) error
	// AddProfileEvent stores an event, and create as the profile's record
	// when it is not nil, in one batch; an event whose id the profile has
	// already is not stored again: the stored one is returned, with false.
	AddProfileEvent(profileID string, e engine.ProfileEvent, create *engine.Profile) (engine.ProfileEvent, bool, error)
	// ProfileEvents is a profile's latest limit events, newest first.
	ProfileEvents(profileID string, limit int) ([]engine.ProfileEvent, error)
	// ProfileEventPage is up to limit events after a position, newest first.
	ProfileEventPage(profileID string, after *persist.EventPosition, limit int) ([]engine.ProfileEvent, error)
	// ProfileByPhone is the profile with a phone number (E.164).
	ProfileByPhone(phone string) (string, bool, error)
	// SMSOptedOut and SetSMSOptOut keep the numbers that texted STOP.
	SMSOptedOut(phone string) (bool, error)
	SetSMSOptOut(phone string, out bool) error
}

// Storage is everything the actor system keeps on disk.
type Storage interface {
	EventLog
	RowIndex
	Profiles
	Uploads
	config.Storage
	outbox.Store
	// OutboxOf reports on the entries owed to one destination
	// (persist.Store.OutboxOf).
	OutboxOf(suffix string, limit int) (pending, failed int, latest []persist.OutboxEntry, err error)
	// Checkpoint writes a consistent copy of the whole store into dir.
	Checkpoint(dir string) error
}

var _ Storage = (*persist.Store)(nil)
