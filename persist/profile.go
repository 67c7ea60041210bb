package persist

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-chat/parley/engine"
)

// Profile returns a customer profile without its events; ErrNotFound if none.
func (s *Store) Profile(id string) (engine.Profile, error) {
	var p engine.Profile
	found, err := s.getRecord(profileKey(id), &p)
	if err == nil && !found {
		err = ErrNotFound
	}
	p.Events = nil
	return p, err
}

// PutProfile creates or replaces a profile durably. Its Events are not
// stored here: use AddProfileEvent.
//
// The profile's phone number, when it has one, finds it (ProfileByPhone):
// the number's index entry is moved in the same batch. Callers write one
// profile from one goroutine at a time (its profile actor).
func (s *Store) PutProfile(p engine.Profile) error {
	if p.ID == "" {
		return fmt.Errorf("persist: profile without id")
	}
	p.Events = nil
	var old engine.Profile
	if _, err := s.getRecord(profileKey(p.ID), &old); err != nil {
		return err
	}
	return s.batch(func(b *pebble.Batch) error {
		if err := setRecord(b, profileKey(p.ID), p); err != nil {
			return err
		}
		if old.Phone != "" && old.Phone != p.Phone {
			if owner, found, err := s.get(key(phonePrefix, old.Phone)); err != nil {
				return err
			} else if found && string(owner) == p.ID {
				if err := b.Delete(key(phonePrefix, old.Phone), nil); err != nil {
					return err
				}
			}
		}
		if p.Phone != "" {
			return b.Set(key(phonePrefix, p.Phone), []byte(p.ID), nil)
		}
		return nil
	})
}

// ProfileByPhone returns the id of the profile with this phone number
// (E.164), the one that had it last when several did; false if none.
func (s *Store) ProfileByPhone(phone string) (string, bool, error) {
	if err := s.enter(); err != nil {
		return "", false, err
	}
	defer s.leave()
	id, found, err := s.get(key(phonePrefix, phone))
	return string(id), found, err
}

// SMSOptedOut reports whether the number texted STOP and not START since.
func (s *Store) SMSOptedOut(phone string) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.leave()
	_, found, err := s.get(key(smsStopPrefix, phone))
	return found, err
}

// SetSMSOptOut records, durably, that a number texted STOP (out) or
// START (!out).
func (s *Store) SetSMSOptOut(phone string, out bool) error {
	return s.batch(func(b *pebble.Batch) error {
		if out {
			return b.Set(key(smsStopPrefix, phone), nil, nil)
		}
		return b.Delete(key(smsStopPrefix, phone), nil)
	})
}

// AddProfileEvent stores one event of a profile durably, in one batch with
// its entry in the profile's index of event ids and, when create is not nil,
// with create as the profile's record (a profile that its first event
// creates). Events are idempotent by id: when the profile has an event with
// e's id already, nothing is written, and AddProfileEvent returns the stored
// event and false.
func (s *Store) AddProfileEvent(profileID string, e engine.ProfileEvent, create *engine.Profile) (engine.ProfileEvent, bool, error) {
	switch {
	case profileID == "" || e.ID == "":
		return e, false, fmt.Errorf("persist: profile event without profile id or event id")
	case create != nil && create.ID != profileID:
		return e, false, fmt.Errorf("persist: profile %q created with an event of %q", create.ID, profileID)
	}
	if err := s.enter(); err != nil {
		return e, false, err
	}
	defer s.leave()
	mu := &s.profileWrites[partition(profileID)]
	mu.Lock()
	defer mu.Unlock()
	stored, found, err := s.profileEvent(profileID, e.ID)
	if err != nil || found {
		return stored, false, err
	}
	b := s.db.NewBatch()
	err = setRecord(b, profileEventKey(profileID, e.At, e.ID), e)
	if err == nil {
		err = b.Set(profileEventIDKey(profileID, e.ID), binary.BigEndian.AppendUint64(nil, sortableNanos(e.At)), nil)
	}
	if err == nil && create != nil {
		p := *create
		p.Events = nil
		err = setRecord(b, profileKey(profileID), p)
	}
	if err != nil {
		b.Close()
		return e, false, err
	}
	if err := s.apply(b); err != nil {
		return e, false, err
	}
	return e, true, nil
}

// ProfileEvent returns one event of a profile by its id; false if none.
func (s *Store) ProfileEvent(profileID, eventID string) (engine.ProfileEvent, bool, error) {
	if err := s.enter(); err != nil {
		return engine.ProfileEvent{}, false, err
	}
	defer s.leave()
	return s.profileEvent(profileID, eventID)
}

func (s *Store) profileEvent(profileID, eventID string) (engine.ProfileEvent, bool, error) {
	at, found, err := s.get(profileEventIDKey(profileID, eventID))
	if err != nil || !found {
		return engine.ProfileEvent{}, false, err
	}
	if len(at) != 8 {
		return engine.ProfileEvent{}, false, fmt.Errorf("%w: profile event index of %q: a value of %d bytes", errCorrupt, profileID, len(at))
	}
	k := append(append(profileEventPrefix(profileID), at...), eventID...)
	v, found, err := s.get(k)
	if err != nil {
		return engine.ProfileEvent{}, false, err
	}
	if !found {
		return engine.ProfileEvent{}, false, fmt.Errorf("%w: profile %q indexes event %q, which is missing", errCorrupt, profileID, eventID)
	}
	e, err := decodeProfileEvent(v)
	if err != nil {
		return engine.ProfileEvent{}, false, fmt.Errorf("persist: %q: %w", k, err)
	}
	return e, true, nil
}

// EventPosition is a place in a profile's events, which are ordered newest
// first: the events after it happened earlier, or at the same time with a
// smaller id.
type EventPosition struct {
	UnixNano int64 // the event's At
	ID       string
}

// ProfileEventPage returns up to limit of a profile's events (limit <= 0:
// all of them), newest first, starting after the position after (nil: with
// the newest). Paging by the position of each page's last event lists every
// event once, whatever is added meanwhile before the position.
func (s *Store) ProfileEventPage(profileID string, after *EventPosition, limit int) ([]engine.ProfileEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	prefix := profileEventPrefix(profileID)
	upper := upperBound(prefix)
	if after != nil {
		upper = profileEventKey(profileID, time.Unix(0, after.UnixNano), after.ID)
	}
	var out []engine.ProfileEvent
	err := s.scanRange(prefix, upper, true, func(k, v []byte) (bool, error) {
		e, err := decodeProfileEvent(v)
		if err != nil {
			return false, fmt.Errorf("persist: %q: %w", k, err)
		}
		out = append(out, e)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// ProfileEvents returns up to limit of a profile's events, newest first
// (limit <= 0: all).
func (s *Store) ProfileEvents(profileID string, limit int) ([]engine.ProfileEvent, error) {
	return s.ProfileEventPage(profileID, nil, limit)
}

// decodeProfileEvent reads an event record keeping its numbers as they were
// sent (json.Number): an order id of 17 digits or a price of 42.50 must come
// back as it went in, not rounded through a float64.
func decodeProfileEvent(v []byte) (engine.ProfileEvent, error) {
	var e engine.ProfileEvent
	if len(v) == 0 || v[0] != recordV1 {
		return e, fmt.Errorf("%w: unknown record version", errCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(v[1:]))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return e, nil
}
