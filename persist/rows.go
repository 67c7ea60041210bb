package persist

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-chat/parley/engine"
)

// The inbox rows. A ticket's row is written in the batch of every commit that
// changes the ticket, so the rows can never disagree with the logs. Where it
// goes depends on its status:
//
//   - An open or snoozed ticket's row is x/active/<id>: start-up reads these,
//     and nothing of the closed history.
//   - A closed ticket (closed is final) leaves x/active in the batch that
//     closes it and is filed, newest activity first, under each view of the
//     closed list that can ask for it: x/closed/<channel>/<assignee>/<at><id>
//     with channel and assignee each its own or "" (any), so ("", ""), (ch, ""),
//     and for an assigned ticket ("", agent) and (ch, agent). Every list,
//     whichever filters it has, is then one reverse range scan of its own
//     view, however rare the filter's value: a page costs its own rows, never
//     a year of history. The view ("", "") holds the row; the others hold
//     nothing and point at it by the same <at><id>, so a closed ticket costs
//     one row and at most three small keys.
//   - x/closedat/<id> holds the at of a closed ticket's view keys, so that a
//     closed row written again finds and replaces its entries, and Row finds
//     any ticket by id.
//
// The number of closed tickets is kept in x/count/closed/<shard>, one key per
// stream shard, written in the batch that closes a ticket under the lock of
// its stream's shard: no commit waits on another shard's closing, and
// start-up sums 256 keys instead of counting a year of tickets.

// RowPosition is a place in a list ordered newest activity first: the rows
// after it are those updated earlier, or at the same time with a smaller id.
type RowPosition struct {
	UnixNano int64 // the row's UpdatedAt
	ID       string
}

// ClosedQuery asks for a page of closed tickets, newest activity first.
type ClosedQuery struct {
	Channel  engine.Channel // "" means every channel
	Assignee string         // an agent id; "" means anyone
	After    *RowPosition   // nil means from the newest
	Limit    int            // at most this many rows; <= 0 means 50
}

func activeKey(id string) []byte { return key(activePrefix, id) }

func closedAtKey(id string) []byte { return key(closedAtPrefix, id) }

func countKey(shard int) []byte {
	return binary.BigEndian.AppendUint16([]byte(countPrefix), uint16(shard))
}

// viewPrefix is the prefix of one view of the closed tickets.
func viewPrefix(ch engine.Channel, assignee string) []byte {
	return key(closedPrefix, string(ch), assignee)
}

// appendPosition appends the <at><id> of a view key.
func appendPosition(b []byte, unixNano int64, id string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano)^1<<63)
	return append(b, id...)
}

// views returns the views a closed row is filed under.
func views(r *engine.TicketRow) [][]byte {
	v := [][]byte{viewPrefix("", ""), viewPrefix(r.Channel, "")}
	if r.Assignee != nil && r.Assignee.ID != "" {
		v = append(v, viewPrefix("", r.Assignee.ID), viewPrefix(r.Channel, r.Assignee.ID))
	}
	return v
}

// fileClosed adds a closed row's view keys and position to b.
func fileClosed(b *pebble.Batch, r *engine.TicketRow) error {
	at := r.UpdatedAt.UnixNano()
	for i, prefix := range views(r) {
		var val []byte
		if i == 0 {
			val = appendRow(nil, r)
		}
		if err := b.Set(appendPosition(prefix, at, r.ID), val, nil); err != nil {
			return err
		}
	}
	return b.Set(closedAtKey(r.ID), appendPosition(nil, at, ""), nil)
}

// unfileClosed adds the deletion of a closed row's view keys to b.
func unfileClosed(b *pebble.Batch, r *engine.TicketRow) error {
	at := r.UpdatedAt.UnixNano()
	for _, prefix := range views(r) {
		if err := b.Delete(appendPosition(prefix, at, r.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// closeRow moves a closed row into the closed views in b, out of the active
// rows, replacing the entries of an earlier closed row of the ticket (a row
// with a lower version never replaces a higher one). It reports whether the
// ticket is closed for the first time. The caller holds the stream's lock.
func (s *Store) closeRow(b *pebble.Batch, r *engine.TicketRow) (first bool, err error) {
	prev, found, err := s.closedRow(r.ID)
	if err != nil {
		return false, err
	}
	if found {
		if prev.Version > r.Version {
			return false, nil
		}
		if err := unfileClosed(b, &prev); err != nil {
			return false, err
		}
	}
	if err := b.Delete(activeKey(r.ID), nil); err != nil {
		return false, err
	}
	return !found, fileClosed(b, r)
}

// closedRow reads a closed ticket's row by id.
func (s *Store) closedRow(id string) (engine.TicketRow, bool, error) {
	pos, found, err := s.get(closedAtKey(id))
	if err != nil || !found {
		return engine.TicketRow{}, false, err
	}
	if len(pos) != 8 {
		return engine.TicketRow{}, false, fmt.Errorf("%w: position of closed ticket %q", errCorrupt, id)
	}
	return s.primaryRow(append(append(viewPrefix("", ""), pos...), id...))
}

// primaryRow reads the row under a key of the view ("", "").
func (s *Store) primaryRow(k []byte) (engine.TicketRow, bool, error) {
	v, found, err := s.get(k)
	if err != nil || !found {
		return engine.TicketRow{}, false, err
	}
	r, err := decodeRow(v)
	if err != nil {
		return engine.TicketRow{}, false, fmt.Errorf("persist: row %q: %w", k, err)
	}
	return r, true, nil
}

// ActiveRows calls fn for the row of every open and snoozed ticket, in one
// range scan that reads nothing of the closed ones; the inbox is rebuilt from
// it at start-up. fn must not call Close.
func (s *Store) ActiveRows(fn func(engine.TicketRow) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.scan([]byte(activePrefix), nil, false, func(k, v []byte) (bool, error) {
		r, err := decodeRow(v)
		if err != nil {
			return false, fmt.Errorf("persist: row %q: %w", k, err)
		}
		return true, fn(r)
	})
}

// ClosedRows returns a page of closed tickets, newest activity first, read by
// one range scan of the view that q's filters name.
func (s *Store) ClosedRows(q ClosedQuery) ([]engine.TicketRow, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if q.Limit <= 0 {
		q.Limit = 50
	}
	prefix := viewPrefix(q.Channel, q.Assignee)
	upper := upperBound(prefix)
	if q.After != nil {
		upper = appendPosition(append([]byte(nil), prefix...), q.After.UnixNano, q.After.ID)
	}
	primary := q.Channel == "" && q.Assignee == ""
	out := make([]engine.TicketRow, 0, min(q.Limit, 256))
	err := s.scanRange(prefix, upper, true, func(k, v []byte) (bool, error) {
		var r engine.TicketRow
		var err error
		if primary {
			r, err = decodeRow(v)
		} else {
			var found bool
			r, found, err = s.primaryRow(append(viewPrefix("", ""), k[len(prefix):]...))
			if err == nil && !found {
				err = fmt.Errorf("%w: view key %q without its row", errCorrupt, k)
			}
		}
		if err != nil {
			return false, fmt.Errorf("persist: closed row %q: %w", k, err)
		}
		out = append(out, r)
		return len(out) < q.Limit, nil
	})
	return out, err
}

// Row returns a ticket's row, open, snoozed or closed, by id; false if the
// conversation is not a ticket (or does not exist).
func (s *Store) Row(id string) (engine.TicketRow, bool, error) {
	if err := s.enter(); err != nil {
		return engine.TicketRow{}, false, err
	}
	defer s.leave()
	v, found, err := s.get(activeKey(id))
	if err != nil {
		return engine.TicketRow{}, false, err
	}
	if !found {
		return s.closedRow(id)
	}
	r, err := decodeRow(v)
	if err != nil {
		return engine.TicketRow{}, false, fmt.Errorf("persist: row of %q: %w", id, err)
	}
	return r, true, nil
}

// ClosedCount is the number of closed tickets. It reads no storage.
func (s *Store) ClosedCount() int { return int(s.closedCount.Load()) }

// loadClosedCount reads the closed-ticket count of every stream shard.
func (s *Store) loadClosedCount() error {
	return s.scan([]byte(countPrefix), nil, false, func(k, v []byte) (bool, error) {
		n, ok := beUint64(v)
		if !ok || len(k) != len(countPrefix)+2 {
			return false, fmt.Errorf("%w: closed count %q", errCorrupt, k)
		}
		// A shard key beyond today's shards (written with more of them)
		// still counts; it is just never written again.
		if shard := int(binary.BigEndian.Uint16(k[len(countPrefix):])); shard < shards {
			s.streams[shard].closed = n
		}
		s.closedCount.Add(int64(n))
		return true, nil
	})
}
