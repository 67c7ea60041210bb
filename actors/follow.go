package actors

import (
	"context"
	"errors"
	"sync"

	"github.com/parley-chat/parley/engine"
)

// Pacer is a Subscriber that paces the replay of a stored log. Before each
// page of a replay, Subscribe calls Pace with the page's approximate size on
// the wire; Pace returns once the subscriber may take the page, with a
// release to call once the page has been handed over (it may wait until the
// subscriber has drained it), or an error that ends the replay. A socket
// uses it to replay under a server-wide byte budget, one page at a time.
type Pacer interface {
	Pace(ctx context.Context, bytes int) (release func(), err error)
}

// A replay reads and hands over at most replayPage events, or about
// replayPageBytes of them, at a time.
const (
	replayPage      = 64
	replayPageBytes = 256 << 10
)

// Subscribe sends sub every event of the visitor's conversation with seq >
// after, then every new one, in order and without gaps or repeats (S12). A
// conversation that is not the visitor's is not_found.
//
// The conversation's actor only registers the subscriber and answers its
// last seq; the events up to there are read from storage here, on the
// caller's goroutine, a page at a time and paced by the subscriber if it is
// a Pacer. Live events published meanwhile are held back until the replay
// has reached them (see follower), so the subscriber sees one ordered log.
// Only durable events are read: the actor's last seq, and any event it
// published since, are on disk.
func (s *System) Subscribe(ctx context.Context, v engine.Visitor, conversation string, after uint64, sub Subscriber) error {
	if !v.LoggedIn() {
		return engine.ErrNotFound
	}
	f := &follower{sub: sub, last: after, catching: true}
	r, err := s.conversation(ctx, conversation, &subscribeCmd{Owner: v.ProfileID, After: after, Sub: f})
	if err == nil {
		err = s.catchUp(ctx, conversation, f, r.Posted.Seq)
	}
	if err != nil {
		// The actor may still register f after a timeout: cut it loose,
		// so that a stale registration pins nothing of the subscriber.
		f.cancel()
		s.hub.Remove(conversation, Subscriber(f))
	}
	return err
}

// catchUp hands f's subscriber the stored events after its last one up to
// upTo, and up to any live event published meanwhile, then lets live events
// through. With a Pacer, each page's bytes are granted before the page is
// read, so that a replay waiting for its turn holds no events in memory:
// the grant is guessed from the size of the page before (a kilobyte an event
// at first), and a page that came out bigger asks for the rest.
func (s *System) catchUp(ctx context.Context, conversation string, f *follower, upTo uint64) error {
	pacer, _ := f.subscriber().(Pacer)
	perEvent := 1 << 10
	for {
		last, target, done := f.progress(upTo)
		if done {
			return nil
		}
		grant := min(int(min(target-last, replayPage))*perEvent, replayPageBytes)
		p := pages{pacer: pacer}
		if err := p.pace(ctx, grant); err != nil {
			return err
		}
		events, size, err := s.readPage(conversation, last, target, grant)
		if err == nil && size > grant {
			err = p.pace(ctx, size-grant)
		}
		if err == nil && len(events) == 0 {
			err = engine.Errorf(engine.CodeInternal, "could not read the conversation")
		}
		for i := 0; err == nil && i < len(events); i++ {
			if !f.Deliver(conversation, events[i]) {
				err = engine.Errorf(engine.CodeUnavailable, "subscriber too slow")
			}
		}
		p.release()
		if err != nil {
			return err
		}
		perEvent = max(size/len(events), 1)
	}
}

// pages holds the grants a page of a replay took from a Pacer.
type pages struct {
	pacer    Pacer
	releases []func()
}

func (p *pages) pace(ctx context.Context, bytes int) error {
	if p.pacer == nil {
		return nil
	}
	release, err := p.pacer.Pace(ctx, bytes)
	if err != nil {
		p.release()
		return engine.Errorf(engine.CodeUnavailable, "replay stopped: %v", err)
	}
	p.releases = append(p.releases, release)
	return nil
}

func (p *pages) release() {
	for _, r := range p.releases {
		r()
	}
	p.releases = nil
}

// readPage reads the events after after, up to upTo (durable), at most
// replayPage of them and no more than maxBytes' worth (at least one), and
// returns them with their size on the wire.
func (s *System) readPage(conversation string, after, upTo uint64, maxBytes int) ([]engine.Event, int, error) {
	limit := int(min(upTo-after, replayPage))
	events := make([]engine.Event, 0, limit)
	size := 0
	err := s.store.Events(conversation, after, limit, func(e engine.Event) error {
		if len(events) > 0 && size+wireSize(e) > maxBytes {
			return errPageFull
		}
		events = append(events, e)
		size += wireSize(e)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, 0, storageError(s.log, "read events", err)
	}
	return events, size, nil
}

var errPageFull = errors.New("actors: page full")

// readEvents reads the events with after < seq <= upTo, at most limit of
// them (limit <= 0: all), from storage: upTo must be durable.
func (s *System) readEvents(conversation string, after, upTo uint64, limit int) ([]engine.Event, error) {
	if upTo <= after {
		return nil, nil
	}
	if n := upTo - after; limit <= 0 || uint64(limit) > n {
		limit = int(min(n, 1<<20))
	}
	events := make([]engine.Event, 0, min(limit, 1024))
	err := s.store.Events(conversation, after, limit, func(e engine.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, storageError(s.log, "read events", err)
	}
	return events, nil
}

// wireSize estimates the bytes an event takes as a frame: its text and a
// frame's worth of names and numbers.
func wireSize(e engine.Event) int {
	n := 200 + len(e.Text) + len(e.Author) + len(e.ClientID) + len(e.Welcome)
	for _, a := range e.Attachments {
		n += 48 + len(a.URL) + len(a.ContentType)
	}
	return n
}

// Unsubscribe stops delivery to sub. It does not wait.
func (s *System) Unsubscribe(conversation string, sub Subscriber) {
	s.hub.RemoveIf(conversation, func(have Subscriber) bool {
		f, ok := have.(*follower)
		return have == sub || ok && f.subscriber() == sub
	})
}

// follower stands in the hub for a subscriber. It hands on events in seq
// order, each once; while the subscriber catches up on the stored log it
// lets through only the next event, and remembers how far the live log has
// gone so that the catch-up reads up to there.
type follower struct {
	mu       sync.Mutex
	sub      Subscriber // nil once cancelled: a stale registration pins nothing
	last     uint64     // the last seq handed to sub
	live     uint64     // the highest seq published while catching up
	catching bool
}

// Deliver implements Subscriber for live events and the replay alike.
func (f *follower) Deliver(conversation string, e engine.Event) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.sub == nil:
		return false
	case e.Seq <= f.last:
		return true // had it
	case f.catching && e.Seq != f.last+1:
		f.live = max(f.live, e.Seq) // the replay will read it
		return true
	}
	if !f.sub.Deliver(conversation, e) {
		return false
	}
	f.last = e.Seq
	return true
}

// Ended implements Subscriber.
func (f *follower) Ended(conversation string) {
	if sub := f.subscriber(); sub != nil {
		sub.Ended(conversation)
	}
}

// progress says where the catch-up is, and ends it once it has reached both
// upTo and every live event published meanwhile.
func (f *follower) progress(upTo uint64) (last, target uint64, done bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	target = max(upTo, f.live)
	if f.last >= target {
		f.catching = false
		return f.last, target, true
	}
	return f.last, target, false
}

func (f *follower) subscriber() Subscriber {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sub
}

func (f *follower) cancel() {
	f.mu.Lock()
	f.sub = nil
	f.mu.Unlock()
}
