package actors

import (
	"errors"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// The profile actor's writes of the profile (I1). Each reads the stored
// profile and writes what follows from it inside the actor's mailbox, so a
// store's upsert, its events and a chat start's claims never interleave.

// load returns the stored profile, or a new one with only its id (found false).
func (a *profileActor) load() (p engine.Profile, found bool, err error) {
	p, err = a.sys.store.Profile(a.id)
	switch {
	case errors.Is(err, persist.ErrNotFound):
		return engine.Profile{ID: a.id}, false, nil
	case err != nil:
		return p, false, storageError(a.sys.log, "profile", err)
	}
	return p, true, nil
}

// upsert applies the store's values to the profile, creating it if needed.
func (a *profileActor) upsert(m *upsertProfileCmd) *profileWritten {
	p, found, err := a.load()
	if err != nil {
		return &profileWritten{Err: err}
	}
	now := a.sys.cfg.Now().UTC()
	next, changed := p.Apply(m.Update, now)
	if !changed && found {
		return &profileWritten{Profile: p}
	}
	if next.UpdatedAt.IsZero() {
		next.UpdatedAt = now
	}
	if err := a.sys.store.PutProfile(next); err != nil {
		return &profileWritten{Err: storageError(a.sys.log, "put profile", err)}
	}
	return &profileWritten{Profile: next}
}

// addEvent stores an event of the profile, or finds the one stored under its
// id. The first event of a profile the store has not upserted yet creates the
// profile, with only its id, in the same batch.
func (a *profileActor) addEvent(m *addProfileEventCmd) *profileWritten {
	_, found, err := a.load()
	if err != nil {
		return &profileWritten{Err: err}
	}
	var create *engine.Profile
	if !found {
		create = &engine.Profile{ID: a.id, UpdatedAt: a.sys.cfg.Now().UTC()}
	}
	e, added, err := a.sys.store.AddProfileEvent(a.id, m.Event, create)
	if err != nil {
		return &profileWritten{Err: storageError(a.sys.log, "add profile event", err)}
	}
	return &profileWritten{Event: e, Added: added}
}

// claim records what a logged-in shopper's identity token vouches for, their
// name and e-mail, in the fields of the profile the store has not given a
// value (engine.Profile.Claim), so that agents know the customer before the
// store calls the profile API. A claim that changes nothing writes nothing.
func (a *profileActor) claim(v engine.Visitor) error {
	p, _, err := a.load()
	if err != nil {
		return err
	}
	next, changed := p.Claim(v, a.sys.cfg.Now().UTC())
	if !changed {
		return nil
	}
	if err := a.sys.store.PutProfile(next); err != nil {
		return storageError(a.sys.log, "record identity claims", err)
	}
	return nil
}
