package persist

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

// Errors of the store.
var (
	ErrClosed   = errors.New("persist: closed")
	ErrNotFound = errors.New("persist: not found")
	// ErrInUse is Open's answer when another process (or another Store in
	// this one) has the directory open: its LOCK file is held.
	ErrInUse = errors.New("persist: the data directory is in use by another Parley")
)

// Defaults of Options.
const (
	DefaultSnapshotEvery = 64
	DefaultCacheBytes    = 64 << 20
	DefaultCloseTimeout  = 10 * time.Second
)

// shards is the number of stream locks; streams hash onto them with
// engine.Partition.
const shards = 256

// Options configure Open. The zero value of every field means its default.
type Options struct {
	// Dir is the data directory, created if missing.
	Dir string
	// FS is the file system; nil means the real disk (vfs.Default). Tests
	// pass vfs.NewMem() or vfs.NewCrashableMem().
	FS vfs.FS
	// Logger receives the store's and Pebble's own messages; nil means
	// slog.Default().
	Logger *slog.Logger
	// SnapshotEvery is how many events a conversation actor should let pass
	// between snapshots; 0 means 64. The store only reports it: the caller
	// decides when to put a Snapshot in a Commit.
	SnapshotEvery int
	// CacheBytes is the size of Pebble's block cache; 0 means 64 MiB.
	CacheBytes int64
	// MemTableBytes is the size of one Pebble memtable; 0 means Pebble's
	// default.
	MemTableBytes uint64
	// WALSyncInterval is the shortest time between two fsyncs of the
	// write-ahead log. Commits that arrive meanwhile wait for the interval to
	// end and share one fsync, which is what a moderate load needs: unshared,
	// each commit pays for an fsync of its own (docs/performance.md). 0 starts
	// each fsync as soon as the one before it ends, so only commits that
	// arrive during an fsync share the next.
	WALSyncInterval time.Duration
	// CloseTimeout bounds how long Close waits for the calls in progress
	// (an append waiting for its fsync, a read) to return; 0 means 10 s.
	// Calls return within an fsync in a healthy store, so the bound is for a
	// disk that has stopped answering: past it, Close gives up with an error
	// and leaves the database open under those calls.
	CloseTimeout time.Duration
}

// EnsureDefaults fills in the zero fields.
func (o *Options) EnsureDefaults() {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = DefaultSnapshotEvery
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
}

// Store is Parley's durable state on one Pebble database. It is safe for
// concurrent use.
type Store struct {
	db   *pebble.DB
	opts Options
	log  *slog.Logger

	// closing and inflight form the gate of every call: a call counts
	// itself in, then checks closing; Close sets closing, then waits for the
	// count to drain before it closes the database (Pebble panics on a
	// closed DB). The call that brings the count to zero while closing
	// signals drained, so Close sleeps instead of polling.
	closing  atomic.Bool
	inflight atomic.Int64
	drained  chan struct{} // capacity 1
	closeMu  sync.Mutex    // serialises Close; guards dbClosed
	dbClosed bool

	streams [shards]streamShard
	// closedCount is the number of closed tickets, the sum of the shards'
	// counts (rows.go).
	closedCount atomic.Int64
	profiles    [shards]sync.Mutex // guards x/open/<profile>/… compare-and-clear
	cfgMu       sync.Mutex         // guards read-modify-write of cfg/agent + cfg/token
	uploadMu    sync.Mutex         // guards the upload totals (upload.go)
	seed        maphash.Seed       // of the idempotency-key hashes in streamState

	// profileWrites guards the check of a profile event's id and its write.
	profileWrites [shards]sync.Mutex
}

// Open opens (creating if needed) the store in opts.Dir. A directory
// written by an earlier version is migrated to Schema first (migrate.go).
func Open(opts Options) (*Store, error) {
	s, err := openDB(opts)
	if err != nil {
		return nil, err
	}
	if err := s.loadClosedCount(); err != nil {
		return nil, errors.Join(err, s.db.Close())
	}
	if err := s.migrate(); err != nil {
		return nil, errors.Join(err, s.db.Close())
	}
	return s, nil
}

// openDB opens the Pebble database of a store, and nothing more.
func openDB(opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if opts.Dir == "" {
		return nil, errors.New("persist: Options.Dir is required")
	}
	if err := opts.FS.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("persist: create %s: %w", opts.Dir, err)
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	popts := &pebble.Options{
		FS:                 opts.FS,
		Cache:              cache,
		Logger:             pebbleLogger{opts.Logger},
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       opts.MemTableBytes,
	}
	// Every append looks up idempotency keys that are almost never there:
	// bloom filters answer those misses without reading data blocks.
	popts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	if d := opts.WALSyncInterval; d > 0 {
		popts.WALMinSyncInterval = func() time.Duration { return d }
	}
	db, err := pebble.Open(opts.Dir, popts)
	if err != nil {
		if lockHeld(err) {
			return nil, fmt.Errorf("%w: %s (its LOCK file is held)", ErrInUse, opts.Dir)
		}
		return nil, fmt.Errorf("persist: open %s: %w", opts.Dir, err)
	}
	s := &Store{db: db, opts: opts, log: opts.Logger, seed: maphash.MakeSeed(), drained: make(chan struct{}, 1)}
	for i := range s.streams {
		s.streams[i].streams = map[streamID]*streamState{}
	}
	return s, nil
}

// lockHeld reports whether Pebble could not take the directory's lock: the
// file lock is refused with EAGAIN or EACCES (fcntl), or Pebble already
// holds it in this process.
func lockHeld(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) ||
		strings.Contains(err.Error(), "lock held by current process")
}

// Close refuses every new call (ErrClosed), waits for the calls in progress
// to return, then closes the database. It waits at most
// Options.CloseTimeout: past it, it returns an error saying how many calls
// are still in progress and leaves the database open under them, since
// Pebble panics on a closed database; calling Close again waits again. Once
// it has closed the database, Close returns nil.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.dbClosed {
		return nil
	}
	s.closing.Store(true)
	if err := s.drain(s.opts.CloseTimeout); err != nil {
		return err
	}
	s.dbClosed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("persist: close: %w", err)
	}
	return nil
}

// drain waits until no call is in progress, or for bound. closing is set,
// so no call enters any more (a refused one counts itself in and out at
// once), and whichever call brings the count to zero signals drained: drain
// either sees zero or gets that signal.
func (s *Store) drain(bound time.Duration) error {
	if s.inflight.Load() == 0 {
		return nil
	}
	timer := time.NewTimer(bound)
	defer timer.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-s.drained: // maybe stale: the loop looks again
		case <-timer.C:
			if n := s.inflight.Load(); n > 0 {
				calls := "calls"
				if n == 1 {
					calls = "call"
				}
				return fmt.Errorf("persist: close: %d %s still in progress after %v; the database stays open", n, calls, bound)
			}
		}
	}
	return nil
}

// enter counts a call in; it fails once Close has begun. Every successful
// enter is paired with a leave.
func (s *Store) enter() error {
	s.inflight.Add(1)
	if s.closing.Load() {
		s.leave()
		return ErrClosed
	}
	return nil
}

func (s *Store) leave() {
	if s.inflight.Add(-1) == 0 && s.closing.Load() {
		select {
		case s.drained <- struct{}{}:
		default: // a signal is pending already
		}
	}
}

// SnapshotEvery is the configured snapshot interval in events.
func (s *Store) SnapshotEvery() int { return s.opts.SnapshotEvery }

// Checkpoint writes a consistent copy of the whole store into dir, on the
// store's file system, while it keeps serving. dir must not exist. Files are
// hard-linked where the file system allows, so a checkpoint is cheap to take
// but pins disk space until it is removed.
func (s *Store) Checkpoint(dir string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("persist: checkpoint %s: %w", dir, err)
	}
	return nil
}

// get reads one value, copied; found is false when the key is absent.
func (s *Store) get(k []byte) (v []byte, found bool, err error) {
	raw, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("persist: get: %w", err)
	}
	v = append([]byte(nil), raw...)
	return v, true, closer.Close()
}

// scan calls fn for every key with the given prefix, in order (or reverse).
// k and v are only valid during the call.
func (s *Store) scan(prefix, lower []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	if lower == nil {
		lower = prefix
	}
	return s.scanRange(lower, upperBound(prefix), reverse, fn)
}

// scanRange calls fn for every key in [lower, upper), in order (or reverse),
// until fn returns false or an error.
func (s *Store) scanRange(lower, upper []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("persist: iterate: %w", err)
	}
	step, ok := it.Next, it.First()
	if reverse {
		step, ok = it.Prev, it.Last()
	}
	for ; ok; ok = step() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("persist: read: %w", err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("persist: iterate: %w", err)
	}
	return nil
}

// apply writes one batch durably.
func (s *Store) apply(b *pebble.Batch) error {
	defer b.Close()
	if err := s.db.Apply(b, pebble.Sync); err != nil {
		return fmt.Errorf("persist: write: %w", err)
	}
	return nil
}

// pebbleLogger routes Pebble's logger into slog. Fatalf logs at error level
// and panics: a library must not exit the process.
type pebbleLogger struct{ l *slog.Logger }

// Infof logs at debug level: Pebble's news (WALs found, flushes, compactions)
// is for someone looking into storage, not for an operator's every start.
func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.LogAttrs(context.Background(), slog.LevelDebug, fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.LogAttrs(context.Background(), slog.LevelError, fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.LogAttrs(context.Background(), slog.LevelError, msg, slog.String("component", "pebble"), slog.Bool("fatal", true))
	panic("pebble: " + msg)
}

var _ pebble.Logger = pebbleLogger{}

// partition maps an id to its lock shard.
func partition(id string) int { return engine.Partition(id, shards) }
