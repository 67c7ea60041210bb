package actors

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/actors/node"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// A page of a profile's events: its default and largest size.
const (
	DefaultProfileEvents = 20
	MaxProfileEvents     = 100
)

// UpsertProfile creates or updates a profile with the store's values (I1):
// each field u gives replaces the stored one, the others stay. It returns the
// profile as stored with the first page of its events and that page's next
// cursor. An invalid value changes nothing and names its field.
func (s *System) UpsertProfile(ctx context.Context, id string, u engine.ProfileUpdate) (engine.Profile, string, error) {
	if !engine.ValidProfileID(id) {
		return engine.Profile{}, "", engine.ErrNotFound
	}
	u, err := u.Normalize()
	if err != nil {
		return engine.Profile{}, "", err
	}
	w, err := s.profileWrite(ctx, id, &upsertProfileCmd{Update: u})
	if err != nil {
		return engine.Profile{}, "", err
	}
	p := w.Profile
	var next string
	p.Events, next, err = s.profileEvents(id, nil, DefaultProfileEvents)
	return p, next, err
}

// AddProfileEvent adds an event the store sends to a profile (I1). Without an
// id the event gets a new one, without a time the time of arrival. Events are
// idempotent by id: a repeat stores nothing and returns the stored event with
// added false. An event for a profile that does not exist yet creates it,
// with only its id.
func (s *System) AddProfileEvent(ctx context.Context, id string, e engine.ProfileEvent) (engine.ProfileEvent, bool, error) {
	if !engine.ValidProfileID(id) {
		return engine.ProfileEvent{}, false, engine.ErrNotFound
	}
	now := s.cfg.Now().UTC()
	if e.ID == "" {
		e.ID = engine.NewID(now)
	}
	if e.At.IsZero() {
		e.At = now
	}
	e, err := e.Normalize(now)
	if err != nil {
		return engine.ProfileEvent{}, false, err
	}
	w, err := s.profileWrite(ctx, id, &addProfileEventCmd{Event: e})
	if err != nil {
		return engine.ProfileEvent{}, false, err
	}
	return w.Event, w.Added, nil
}

// ProfilePage returns a profile with a page of its events, newest first:
// limit of them (0: DefaultProfileEvents; at most MaxProfileEvents), after
// the position cursor names ("": from the newest), and the cursor of the next
// page ("" when this one is the last). Reads run on the caller's goroutine,
// outside the profile's actor: every write is one atomic batch.
func (s *System) ProfilePage(ctx context.Context, id string, limit int, cursor string) (engine.Profile, string, error) {
	if !engine.ValidProfileID(id) {
		return engine.Profile{}, "", engine.ErrNotFound
	}
	after, err := decodeEventCursor(cursor)
	if err != nil {
		return engine.Profile{}, "", err
	}
	if limit <= 0 {
		limit = DefaultProfileEvents
	}
	limit = min(limit, MaxProfileEvents)
	p, err := s.store.Profile(id)
	if errors.Is(err, persist.ErrNotFound) {
		return engine.Profile{}, "", engine.ErrNotFound
	}
	if err != nil {
		return engine.Profile{}, "", storageError(s.log, "profile", err)
	}
	var next string
	p.Events, next, err = s.profileEvents(id, after, limit)
	return p, next, err
}

// profileEvents reads a page of a profile's events and its next cursor.
func (s *System) profileEvents(id string, after *persist.EventPosition, limit int) ([]engine.ProfileEvent, string, error) {
	events, err := s.store.ProfileEventPage(id, after, limit+1)
	if err != nil {
		return nil, "", storageError(s.log, "profile events", err)
	}
	if len(events) <= limit {
		return events, "", nil
	}
	events = events[:limit]
	return events, encodeEventCursor(events[limit-1]), nil
}

// profileWrite sends a write to the profile's actor and returns its answer.
func (s *System) profileWrite(ctx context.Context, id string, msg any) (*profileWritten, error) {
	res, err := s.send(ctx, s.profiles, &node.Envelope{ID: id, Msg: msg})
	if err != nil {
		return nil, err
	}
	w, ok := res.(*profileWritten)
	if !ok {
		return nil, engine.Errorf(engine.CodeInternal, "unexpected answer")
	}
	return w, w.Err
}

// An event cursor is the position of the last event of the previous page:
// its time and id, so that paging lists every event once while events are
// added.
func encodeEventCursor(e engine.ProfileEvent) string {
	raw := strconv.FormatInt(e.At.UnixNano(), 10) + "." + e.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeEventCursor(s string) (*persist.EventPosition, error) {
	if s == "" {
		return nil, nil
	}
	bad := engine.Invalid("events_cursor", "is not a cursor from a previous page")
	if len(s) > 512 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !engine.ValidEventID(id) {
		return nil, bad
	}
	return &persist.EventPosition{UnixNano: n, ID: id}, nil
}
