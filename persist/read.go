package persist

import (
	"fmt"

	"github.com/parley-chat/parley/engine"
)

// Load rebuilds a conversation and its ticket from the newest snapshot and the
// events after it, never by replaying the whole log when a snapshot exists.
// It returns ErrNotFound when the conversation has no event. A snapshot that
// cannot be decoded (say, written by a newer version) is logged and ignored:
// the log alone is the truth.
func (s *Store) Load(id string) (*engine.Conversation, *engine.Ticket, error) {
	if err := s.enter(); err != nil {
		return nil, nil, err
	}
	defer s.leave()
	conv, tick := engine.NewConversation(id), &engine.Ticket{ID: id}
	if v, found, err := s.get(snapKey(id)); err != nil {
		return nil, nil, err
	} else if found {
		var sn Snapshot
		if err := decodeRecord(v, &sn); err != nil {
			s.log.Warn("persist: ignoring unreadable snapshot", "conversation", id, "err", err)
		} else {
			conv, tick = &sn.Conversation, &sn.Ticket
			if conv.ClientIDs == nil {
				conv.ClientIDs = map[string]uint64{}
			}
		}
	}
	err := s.events(id, conv.LastSeq, 0, func(e engine.Event) error {
		if e.Seq != conv.LastSeq+1 {
			return fmt.Errorf("%w: %s event %d after %d", errCorrupt, id, e.Seq, conv.LastSeq)
		}
		conv.Apply(e)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if conv.LastSeq == 0 {
		return nil, nil, ErrNotFound
	}
	err = s.ticketEvents(id, tick.LastSeq, func(e engine.TicketEvent) error {
		if e.Seq != tick.LastSeq+1 {
			return fmt.Errorf("%w: %s ticket event %d after %d", errCorrupt, id, e.Seq, tick.LastSeq)
		}
		tick.Apply(e)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return conv, tick, nil
}

// Events calls fn for the conversation's events with seq > after, in order,
// at most limit of them (limit <= 0: all). An error from fn stops the scan and
// is returned. fn must not call Close.
func (s *Store) Events(id string, after uint64, limit int, fn func(engine.Event) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.events(id, after, limit, fn)
}

func (s *Store) events(id string, after uint64, limit int, fn func(engine.Event) error) error {
	prefix := streamPrefix(convPrefix, id)
	n := 0
	return s.scan(prefix, seqKey(prefix, after+1), false, func(_, v []byte) (bool, error) {
		e, err := decodeEvent(v)
		if err != nil {
			return false, fmt.Errorf("persist: event of %s: %w", id, err)
		}
		if err := fn(e); err != nil {
			return false, err
		}
		n++
		return limit <= 0 || n < limit, nil
	})
}

func (s *Store) ticketEvents(id string, after uint64, fn func(engine.TicketEvent) error) error {
	prefix := streamPrefix(ticketPrefix, id)
	return s.scan(prefix, seqKey(prefix, after+1), false, func(_, v []byte) (bool, error) {
		e, err := decodeTicketEvent(v)
		if err != nil {
			return false, fmt.Errorf("persist: ticket event of %s: %w", id, err)
		}
		return true, fn(e)
	})
}

// LastSeq returns the conversation's last durable seq, 0 if it has none:
// the last seq whose append has returned from its fsync. An append still
// waiting for its fsync is not counted, although readers may already see its
// events (Pebble shows a batch before its fsync): a client told of that seq
// could see it vanish in a crash. This is what a client may be told to
// resume from (welcome.conversation.last_seq).
func (s *Store) LastSeq(id string) (uint64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	sh := &s.streams[partition(id)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st, err := s.streamLocked(sh, streamID{kindConv, id})
	if err != nil {
		return 0, err
	}
	return st.durable.Load(), nil
}

// ClientIDSeq returns the seq at which the conversation stored the message
// that from sent under clientID, and whether there is one. It reads the index
// that every append checks, so it answers for messages of any age.
func (s *Store) ClientIDSeq(id string, from engine.Party, clientID string) (uint64, bool, error) {
	if err := s.enter(); err != nil {
		return 0, false, err
	}
	defer s.leave()
	v, found, err := s.get(cidKey(id, from, clientID))
	if err != nil || !found {
		return 0, false, err
	}
	seq, ok := beUint64(v)
	if !ok {
		return 0, false, fmt.Errorf("persist: client id index of %q: a value of %d bytes", id, len(v))
	}
	return seq, true, nil
}

// OpenConversation returns the profile's open conversation on a channel, ""
// if none.
func (s *Store) OpenConversation(profileID string, ch engine.Channel) (string, error) {
	if err := s.enter(); err != nil {
		return "", err
	}
	defer s.leave()
	v, _, err := s.get(openKey(profileID, ch))
	return string(v), err
}
