package persist

import (
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const (
	kindConv   byte = 'c'
	kindTicket byte = 't'
	// streamCacheCap bounds each shard's cache of stream states (so 65,536
	// streams in all); a miss costs one seek, plus one scan of the
	// conversation's idempotency keys when it next stores a message.
	streamCacheCap = 256
)

// streamID names one stream in the cache without allocating.
type streamID struct {
	kind byte
	id   string
}

func (s streamID) String() string { return string(s.kind) + "/" + s.id }

// streamShard serialises the check-and-apply of the streams hashed onto it
// and caches what those checks need.
type streamShard struct {
	mu      sync.Mutex
	streams map[streamID]*streamState
	closed  uint64 // tickets of the shard's streams closed, as stored
}

// streamState is what the checks of one stream need, as stored. Only
// Append writes event and idempotency keys, always under the shard lock, so
// the cache stays exact while the store is open.
type streamState struct {
	id streamID
	// last is the last seq handed to Pebble: what the next append must
	// continue, whether or not its fsync has returned.
	last uint64
	// durable is the last seq whose append has returned from its fsync, and
	// pending counts the appends handed to Pebble whose fsync has not
	// returned yet (conversation streams only: LastSeq's answer). Pebble
	// shows a batch to readers before its fsync, so a stream with appends
	// pending is never evicted: reading it again from Pebble would take
	// what is visible for durable. Both change outside the shard lock.
	durable atomic.Uint64
	pending atomic.Int64
	// cids holds the hash of every stored (party, client id) of a
	// conversation, loaded on first need: a hash that is absent proves the
	// client id new without a read; one that may be present is confirmed by
	// a read, so a collision costs a read, never a false duplicate.
	cids      *cidFilter
	cidPrefix []byte
}

// next checks that n events with seqs seq(0..n-1) continue the stream and
// returns its last seq as it will be after them.
func (st *streamState) next(n int, seq func(int) uint64) (uint64, error) {
	if n == 0 {
		return st.last, nil
	}
	if got := seq(0); got != st.last+1 {
		return 0, &ConflictError{Stream: st.id.String(), Want: st.last + 1, Got: got}
	}
	return seq(n - 1), nil
}

// synced records that an append that took the stream to last has returned
// from its fsync, durably if ok. The durable seq only grows: appends to a
// stream reach the WAL in seq order, and the fsync of a later one covers the
// earlier ones, whichever of their callers wakes first.
func (st *streamState) synced(last uint64, ok bool) {
	for ok {
		d := st.durable.Load()
		if d >= last || st.durable.CompareAndSwap(d, last) {
			break
		}
	}
	st.pending.Add(-1)
}

// streamLocked returns the cached state of a stream, reading its last seq
// with one reverse seek on a miss. The caller holds sh.mu.
func (s *Store) streamLocked(sh *streamShard, id streamID) (*streamState, error) {
	if st, ok := sh.streams[id]; ok {
		return st, nil
	}
	prefix := streamPrefix(string(id.kind)+"/", id.id)
	st := &streamState{id: id}
	err := s.scan(prefix, nil, true, func(k, _ []byte) (bool, error) {
		seq, ok := beUint64(k[len(prefix):])
		if !ok {
			return false, fmt.Errorf("%w: event key %q", errCorrupt, k)
		}
		st.last = seq
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	// No append of this stream is pending (its entry would be cached), so
	// everything Pebble shows of it is durable.
	st.durable.Store(st.last)
	if len(sh.streams) >= streamCacheCap {
		for k, victim := range sh.streams { // evict an arbitrary entry with no append pending
			if victim.pending.Load() == 0 {
				delete(sh.streams, k)
				break
			}
		}
	}
	sh.streams[id] = st
	return st, nil
}

// loadClientIDs fills st.cids from the conversation's idempotency keys on
// first need, and again, bigger, once the filter has filled.
func (s *Store) loadClientIDs(st *streamState) error {
	if st.cids != nil && !st.cids.full() {
		return nil
	}
	prefix := key(cidPrefix, st.id.id)
	var hashes []uint64
	err := s.scan(prefix, nil, false, func(k, _ []byte) (bool, error) {
		hashes = append(hashes, s.cidHash(k, len(prefix)))
		return true, nil
	})
	if err != nil {
		return err
	}
	f := newCIDFilter(len(hashes))
	for _, h := range hashes {
		f.add(h)
	}
	st.cids, st.cidPrefix = f, prefix
	return nil
}

// cidHash hashes the (party, client id) part of an idempotency key.
func (s *Store) cidHash(k []byte, prefixLen int) uint64 {
	return maphash.Bytes(s.seed, k[prefixLen:])
}
