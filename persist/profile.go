package persist

import (
	"fmt"

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
func (s *Store) PutProfile(p engine.Profile) error {
	if p.ID == "" {
		return fmt.Errorf("persist: profile without id")
	}
	p.Events = nil
	return s.putRecord(profileKey(p.ID), p)
}

// AddProfileEvent stores one event of a profile durably. Events are keyed by
// (At, ID), so adding the same event twice stores it once.
func (s *Store) AddProfileEvent(profileID string, e engine.ProfileEvent) error {
	if profileID == "" {
		return fmt.Errorf("persist: profile event without profile id")
	}
	return s.putRecord(profileEventKey(profileID, e.At, e.ID), e)
}

// ProfileEvents returns up to limit of a profile's events, newest first
// (limit <= 0: all).
func (s *Store) ProfileEvents(profileID string, limit int) ([]engine.ProfileEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var out []engine.ProfileEvent
	err := s.scan(profileEventPrefix(profileID), nil, true, func(k, v []byte) (bool, error) {
		var e engine.ProfileEvent
		if err := decodeRecord(v, &e); err != nil {
			return false, fmt.Errorf("persist: %q: %w", k, err)
		}
		out = append(out, e)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}
