package persist

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// OutboxEntry is a call to another system that a commit owes — an e-mail to
// the agents about a new ticket (H9); later webhooks, handoffs, SMS. It is
// written in the same batch as the event that caused it, so that the two can
// never disagree, and a worker (actors/outbox) delivers it, outside every
// actor, until it is done or fails for good. A restart loses none: what is
// not done is still stored, and due.
type OutboxEntry struct {
	// Key names the entry: the stream and seq of the event that caused it
	// and the target, "<conversation>/<seq>/<target>". It is the idempotency
	// key the other side gets, the same on every attempt.
	Key     string    `json:"key"`
	Target  string    `json:"target"`
	Payload []byte    `json:"payload"` // what to deliver, as the target encodes it
	Created time.Time `json:"created"`
	// Attempts made so far; NextAt is when the next is due; LastError is
	// the last attempt's failure.
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
}

// OutboxKey is the key of the entry an event owes a target.
func OutboxKey(conversation string, seq uint64, target string) string {
	return fmt.Sprintf("%s/%d/%s", conversation, seq, target)
}

// Outbox keys:
//
//	q/e/<key>                      → the entry (a versioned JSON record)
//	q/d/<next at:8 BE><key>        due index: the entries by when their next attempt is due
//	q/f/<key>                      → an entry that failed for good, kept to be looked at
const (
	outboxEntryPrefix  = "q/e/"
	outboxDuePrefix    = "q/d/"
	outboxFailedPrefix = "q/f/"
)

func outboxEntryKey(key string) []byte { return appendKey(nil, outboxEntryPrefix, key) }

func outboxDueKey(at time.Time, key string) []byte {
	b := binary.BigEndian.AppendUint64([]byte(outboxDuePrefix), sortableNanos(at))
	return append(b, key...)
}

// writeOutbox adds the entries of a commit to its batch.
func writeOutbox(b *pebble.Batch, entries []OutboxEntry) error {
	for i := range entries {
		e := &entries[i]
		if e.Key == "" || e.Target == "" {
			return fmt.Errorf("persist: outbox entry without key or target")
		}
		if err := setRecord(b, outboxEntryKey(e.Key), e); err != nil {
			return err
		}
		if err := b.Set(outboxDueKey(e.NextAt, e.Key), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// OutboxDue calls fn with the key of every entry not yet done and when its
// next attempt is due, earliest first.
func (s *Store) OutboxDue(fn func(at time.Time, key string) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.scan([]byte(outboxDuePrefix), nil, false, func(k, _ []byte) (bool, error) {
		n := binary.BigEndian.Uint64(k[len(outboxDuePrefix):])
		return true, fn(time.Unix(0, int64(n^1<<63)), string(k[len(outboxDuePrefix)+8:]))
	})
}

// OutboxEntry reads one entry as it is stored now; false if it is done.
func (s *Store) OutboxEntry(key string) (OutboxEntry, bool, error) {
	var e OutboxEntry
	found, err := s.getRecord(outboxEntryKey(key), &e)
	return e, found, err
}

// OutboxCount is the number of entries not yet done.
func (s *Store) OutboxCount() (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	n := 0
	err := s.scan([]byte(outboxEntryPrefix), nil, false, func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// RetryOutbox stores e with its next attempt due at e.NextAt, durably. prev
// is when the attempt that failed was due. One entry must not be changed
// from two goroutines at once (the worker delivers each by one).
func (s *Store) RetryOutbox(e OutboxEntry, prev time.Time) error {
	return s.batch(func(b *pebble.Batch) error {
		if err := b.Delete(outboxDueKey(prev, e.Key), nil); err != nil {
			return err
		}
		return writeOutbox(b, []OutboxEntry{e})
	})
}

// FinishOutbox removes an entry that is done, durably; one that failed for
// good is kept under q/f/ with its last error. Entries finished at once
// share their fsync.
func (s *Store) FinishOutbox(e OutboxEntry, failed bool) error {
	return s.batch(func(b *pebble.Batch) error {
		if err := b.Delete(outboxDueKey(e.NextAt, e.Key), nil); err != nil {
			return err
		}
		if err := b.Delete(outboxEntryKey(e.Key), nil); err != nil {
			return err
		}
		if failed {
			return setRecord(b, appendKey(nil, outboxFailedPrefix, e.Key), e)
		}
		return nil
	})
}

// FailedOutbox returns up to limit entries that failed for good.
func (s *Store) FailedOutbox(limit int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := s.scanRecords([]byte(outboxFailedPrefix), func(v []byte) error {
		if len(out) >= limit {
			return nil
		}
		var e OutboxEntry
		if err := decodeRecord(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// batch writes what fill puts in one batch, durably.
func (s *Store) batch(fill func(*pebble.Batch) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	b := s.db.NewBatch()
	if err := fill(b); err != nil {
		b.Close()
		return err
	}
	return s.apply(b)
}

// OutboxOf reports on the entries whose key ends with suffix (one
// destination, "/webhook:<id>"): how many are not yet done, how many
// failed for good, and the latest up to limit of those, newest first.
// It reads every entry: for an admin's look, not for a hot path.
func (s *Store) OutboxOf(suffix string, limit int) (pending, failed int, latest []OutboxEntry, err error) {
	err = s.scanRecords([]byte(outboxEntryPrefix), func(v []byte) error {
		var e OutboxEntry
		if err := decodeRecord(v, &e); err != nil {
			return err
		}
		if strings.HasSuffix(e.Key, suffix) {
			pending++
		}
		return nil
	})
	if err != nil {
		return 0, 0, nil, err
	}
	err = s.scanRecords([]byte(outboxFailedPrefix), func(v []byte) error {
		var e OutboxEntry
		if err := decodeRecord(v, &e); err != nil {
			return err
		}
		if strings.HasSuffix(e.Key, suffix) {
			failed++
			latest = append(latest, e)
		}
		return nil
	})
	slices.SortFunc(latest, func(a, b OutboxEntry) int { return b.Created.Compare(a.Created) })
	if len(latest) > limit {
		latest = latest[:limit]
	}
	return pending, failed, latest, err
}

// PurgeFailedOutbox removes, durably, the entries that failed for good and
// were created before before, and returns how many. It reads every failed
// entry: the worker calls it now and then, not on a hot path.
func (s *Store) PurgeFailedOutbox(before time.Time) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	var old [][]byte
	err := s.scan([]byte(outboxFailedPrefix), nil, false, func(k, v []byte) (bool, error) {
		var e OutboxEntry
		if err := decodeRecord(v, &e); err != nil {
			return false, err
		}
		if e.Created.Before(before) {
			old = append(old, slices.Clone(k))
		}
		return true, nil
	})
	s.leave()
	if err != nil || len(old) == 0 {
		return 0, err
	}
	for chunk := range slices.Chunk(old, 4096) {
		err := s.batch(func(b *pebble.Batch) error {
			for _, k := range chunk {
				if err := b.Delete(k, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
