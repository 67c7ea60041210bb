package persist

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-chat/parley/engine"
)

// Schema is the version of the key layout this code reads and writes,
// recorded as cfg/meta/schema. A data directory without it is schema 1.
//
//	1  every inbox row under x/row/<id>
//	2  open and snoozed rows under x/active/, closed ones in the closed views,
//	   with their count (rows.go)
//	3  profiles found by phone number (x/phone/)
const Schema = 3

const schemaMeta = "schema"

// migrateRowsBatch is how many rows one batch of the migration moves (a
// variable for the tests).
var migrateRowsBatch = 4096

// migrate brings a data directory written by an earlier version to Schema,
// once, at Open. Each step is crash-safe and idempotent: it moves a bounded
// batch of keys at a time, each batch atomic, and a restart after a crash
// goes on with what is left; the version is recorded only once every step
// is done. A directory written by a later version is refused.
func (s *Store) migrate() error {
	v, found, err := s.get(key(metaPrefix, schemaMeta))
	if err != nil {
		return err
	}
	version := 1
	if found {
		if version, err = strconv.Atoi(string(v)); err != nil {
			return fmt.Errorf("%w: schema version %q", errCorrupt, v)
		}
	}
	switch {
	case version == Schema:
		return nil
	case version > Schema:
		return fmt.Errorf("persist: the data directory has schema %d, newer than this version's %d", version, Schema)
	}
	if version < 2 {
		if err := s.migrateRows(); err != nil {
			return fmt.Errorf("persist: migrate the inbox rows: %w", err)
		}
	}
	if err := s.indexPhones(); err != nil {
		return fmt.Errorf("persist: index the profiles' phone numbers: %w", err)
	}
	b := s.db.NewBatch()
	if err := b.Set(key(metaPrefix, schemaMeta), []byte(strconv.Itoa(Schema)), nil); err != nil {
		b.Close()
		return err
	}
	return s.apply(b)
}

// migrateRows moves the rows of schema 1 (x/row/<id>, every ticket) to
// x/active/<id> or the closed views, counting the closed tickets. Each row's
// old key is deleted in the batch that writes the new ones.
func (s *Store) migrateRows() error {
	moved := 0
	var from []byte // past the rows moved: the scan need not step over their tombstones again
	for {
		n, next, err := s.migrateRowBatch(from)
		if err != nil {
			return err
		}
		if moved += n; n < migrateRowsBatch {
			break
		}
		from = next
	}
	if moved > 0 {
		s.log.Info("persist: moved the inbox rows to schema 2", "rows", moved, "closed", s.closedCount.Load())
	}
	return nil
}

// migrateRowBatch moves up to migrateRowsBatch rows, from the key from on
// (nil: the first), in one batch, and returns the key after the last.
func (s *Store) migrateRowBatch(from []byte) (n int, next []byte, err error) {
	b := s.db.NewBatch()
	defer b.Close()
	counts := map[int]uint64{} // shard → its count after the batch
	err = s.scan([]byte(oldRowPrefix), from, false, func(k, v []byte) (bool, error) {
		r, err := decodeRow(v)
		if err != nil {
			return false, fmt.Errorf("row %q: %w", k, err)
		}
		if !bytes.Equal(k, key(oldRowPrefix, r.ID)) {
			return false, fmt.Errorf("%w: row of %q under %q", errCorrupt, r.ID, k)
		}
		if err := b.Delete(k, nil); err != nil {
			return false, err
		}
		if r.Status == engine.StatusClosed {
			err = fileClosed(b, &r)
			shard := partition(r.ID)
			if _, ok := counts[shard]; !ok {
				counts[shard] = s.streams[shard].closed
			}
			counts[shard]++
		} else {
			err = b.Set(activeKey(r.ID), appendRow(nil, &r), nil)
		}
		n++
		next = append(append(next[:0], k...), 0)
		return n < migrateRowsBatch, err
	})
	if err != nil || n == 0 {
		return 0, nil, err
	}
	for shard, c := range counts {
		if err := b.Set(countKey(shard), binary.BigEndian.AppendUint64(nil, c), nil); err != nil {
			return 0, nil, err
		}
	}
	if err := s.db.Apply(b, pebble.Sync); err != nil {
		return 0, nil, fmt.Errorf("persist: write: %w", err)
	}
	for shard, c := range counts {
		s.closedCount.Add(int64(c - s.streams[shard].closed))
		s.streams[shard].closed = c
	}
	return n, next, nil
}

// indexPhones points every profile's phone number at it (x/phone/), for
// profiles written before the index existed. It reads only the profile
// records, jumping over each profile's events, and writes a batch per
// migrateRowsBatch numbers; a number already indexed is left as it is, so
// a restart after a crash goes on where it was.
func (s *Store) indexPhones() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(profilePrefix), UpperBound: upperBound([]byte(profilePrefix))})
	if err != nil {
		return err
	}
	defer it.Close()
	var pending [][2]string // number, profile id
	indexed := 0
	flush := func() error {
		b := s.db.NewBatch()
		for _, p := range pending {
			if err := b.Set(key(phonePrefix, p[0]), []byte(p[1]), nil); err != nil {
				b.Close()
				return err
			}
		}
		indexed += len(pending)
		pending = pending[:0]
		return s.apply(b)
	}
	for ok := it.First(); ok; {
		rest := it.Key()[len(profilePrefix):]
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			return fmt.Errorf("%w: profile key %q", errCorrupt, it.Key())
		}
		id := string(rest[w : w+int(n)])
		if it.SeekGE(profileKey(id)) && bytes.Equal(it.Key(), profileKey(id)) {
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			var p engine.Profile
			if err := decodeRecord(v, &p); err != nil {
				return err
			}
			if p.Phone != "" {
				if _, found, err := s.get(key(phonePrefix, p.Phone)); err != nil {
					return err
				} else if !found {
					pending = append(pending, [2]string{p.Phone, id})
				}
			}
		}
		if len(pending) >= migrateRowsBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		ok = it.SeekGE(upperBound(append(key(profilePrefix, id), '/')))
	}
	if err := it.Error(); err != nil {
		return err
	}
	if len(pending) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if indexed > 0 {
		s.log.Info("persist: indexed the profiles' phone numbers", "profiles", indexed)
	}
	return nil
}
