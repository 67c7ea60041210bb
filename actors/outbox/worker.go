package outbox

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Store is what the worker needs of durable storage; *persist.Store has it.
type Store interface {
	DueOutbox(now time.Time, limit int) ([]persist.OutboxEntry, error)
	OutboxEntry(key string) (persist.OutboxEntry, bool, error)
	NextOutboxDue(skip func(key string) bool) (time.Time, bool, error)
	OutboxCount() (int, error)
	RetryOutbox(e persist.OutboxEntry, prev time.Time) error
	FinishOutbox(e persist.OutboxEntry, failed bool) error
}

// Target is where entries of one kind go.
type Target struct {
	// Deliver delivers one entry's payload. key is the entry's idempotency
	// key, the same on every attempt. An error marked engine.Permanent is
	// not retried; one marked engine.RetryAfter is retried no sooner than
	// it asks.
	Deliver func(ctx context.Context, key string, payload []byte) error
	// GiveUpAfter, when not 0, is this target's give-up age instead of
	// Config.GiveUpAfter: the last attempt is due by then.
	GiveUpAfter time.Duration
	// Failed, when set, runs before an entry that failed for good is put
	// away: the fallback of the call that did not happen (a handoff falls
	// back to a Helpdesk ticket). Until it succeeds the entry stays due and
	// is tried again, so a fallback is never lost.
	Failed func(ctx context.Context, key string, payload []byte) error
}

// Config tunes the worker. The zero value of every field means its default.
type Config struct {
	// Concurrency is how many deliveries of one target run at once: a slow
	// or failing target holds up only its own entries. Default 8.
	Concurrency int
	// AttemptTimeout bounds one attempt. Default 30 seconds.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry, which
	// doubles from the first to the last (with ±20% jitter). Defaults 1
	// second and 10 minutes.
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter is the age past which a failing entry fails for good.
	// Default 24 hours.
	GiveUpAfter time.Duration
	// Poll is the longest the worker sleeps without looking, in case a
	// wake-up was missed. Default 1 minute.
	Poll time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives failures. Default: discard.
	Logger *slog.Logger
}

// EnsureDefaults fills in the zero fields.
func (c *Config) EnsureDefaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 30 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.GiveUpAfter <= 0 {
		c.GiveUpAfter = 24 * time.Hour
	}
	if c.Poll <= 0 {
		c.Poll = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Results of a delivery attempt, as counted.
const (
	ResultSent    = "sent"
	ResultRetried = "retried"
	ResultFailed  = "failed"
)

// Worker delivers due entries until stopped.
type Worker struct {
	store   Store
	targets map[string]Target
	cfg     Config
	m       *metrics

	kick     chan struct{} // new entries, or a delivery finished: look again
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	slots    map[string]chan struct{} // per target: its deliveries under way
	mu       sync.Mutex
	inflight map[string]bool // keys being delivered
	pending  atomic.Int64
}

// Start starts a worker over store for targets (by persist.OutboxEntry's
// Target), registering its metrics on reg (nil: none).
func Start(store Store, targets map[string]Target, cfg Config, reg prometheus.Registerer) *Worker {
	cfg.EnsureDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{
		store: store, targets: targets, cfg: cfg, m: newMetrics(reg, targets),
		kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
		slots: map[string]chan struct{}{}, inflight: map[string]bool{},
	}
	for t := range targets {
		w.slots[t] = make(chan struct{}, cfg.Concurrency)
	}
	if n, err := store.OutboxCount(); err == nil {
		w.pending.Store(int64(n))
		w.m.pending.Set(float64(n))
	}
	w.wg.Add(1)
	go w.loop()
	return w
}

// Added tells the worker that a commit stored n new entries: it looks at
// once. It never blocks.
func (w *Worker) Added(n int) {
	w.m.pending.Set(float64(w.pending.Add(int64(n))))
	w.poke()
}

func (w *Worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Stop ends the worker: attempts in progress are cancelled (and stored for
// a retry), and Stop waits for them until ctx ends.
func (w *Worker) Stop(ctx context.Context) error {
	w.cancel()
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Worker) loop() {
	defer w.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.kick:
		case <-timer.C:
		}
		w.dispatch()
		timer.Reset(w.sleep())
	}
}

// dispatch starts a delivery for every due entry not already under way, as
// far as its target has free slots.
func (w *Worker) dispatch() {
	now := w.cfg.Now()
	due, err := w.store.DueOutbox(now, 4*w.cfg.Concurrency)
	if err != nil {
		w.cfg.Logger.Error("outbox: reading due entries", slog.Any("err", err))
		return
	}
	for _, e := range due {
		slots := w.slots[e.Target]
		if slots == nil {
			if w.claim(e.Key) {
				w.settle(e, engine.Permanent(errUnknownTarget(e.Target)))
				w.release(e.Key)
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			continue // the target is busy: its first delivery to end pokes the loop
		}
		if e, ok := w.claimDue(e.Key, now); ok {
			w.wg.Add(1)
			go w.deliver(e)
		} else {
			<-slots
		}
	}
}

// claimDue marks the entry of key under way and reads it again: the list
// dispatch works from may be older than an attempt that ended meanwhile (and
// moved the entry to a later time, or finished it). false leaves it alone.
func (w *Worker) claimDue(key string, now time.Time) (persist.OutboxEntry, bool) {
	if !w.claim(key) {
		return persist.OutboxEntry{}, false
	}
	e, found, err := w.store.OutboxEntry(key)
	if err != nil || !found || e.NextAt.After(now) {
		w.release(key)
		return persist.OutboxEntry{}, false
	}
	return e, true
}

// claim marks key under way, unless it is already.
func (w *Worker) claim(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight[key] {
		return false
	}
	w.inflight[key] = true
	return true
}

func (w *Worker) release(key string) {
	w.mu.Lock()
	delete(w.inflight, key)
	w.mu.Unlock()
}

// sleep is how long to wait before looking again: until the earliest entry
// not under way is due, at most Poll. An entry due already is waiting for a
// slot, and a delivery that ends frees one and pokes the loop.
func (w *Worker) sleep() time.Duration {
	at, ok, err := w.store.NextOutboxDue(w.waiting)
	if err != nil || !ok {
		return w.cfg.Poll
	}
	// An entry due already that dispatch did not start (storage failed to
	// read it) is looked at again shortly, not in a busy loop.
	return min(max(at.Sub(w.cfg.Now()), 50*time.Millisecond), w.cfg.Poll)
}

func (w *Worker) underWay(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inflight[key]
}

// waiting reports whether the entry of key cannot start now: it is under
// way, or its target is busy (the target's first delivery to end pokes the
// loop).
func (w *Worker) waiting(key string) bool {
	if w.underWay(key) {
		return true
	}
	slots := w.slots[key[strings.LastIndexByte(key, '/')+1:]]
	return slots != nil && len(slots) == cap(slots)
}

func (w *Worker) deliver(e persist.OutboxEntry) {
	defer w.wg.Done()
	defer func() {
		w.release(e.Key) // after settle has stored the outcome: see claimDue
		<-w.slots[e.Target]
		w.poke()
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.AttemptTimeout)
	err := w.targets[e.Target].Deliver(ctx, e.Key, e.Payload)
	cancel()
	w.m.latency.WithLabelValues(e.Target).Observe(time.Since(start).Seconds())
	w.settle(e, err)
}

// settle stores what became of an attempt.
func (w *Worker) settle(e persist.OutboxEntry, err error) {
	now := w.cfg.Now()
	log := w.cfg.Logger.With(slog.String("target", e.Target), slog.String("key", e.Key))
	var result string
	var serr error
	switch {
	case err == nil:
		result, serr = ResultSent, w.store.FinishOutbox(e, false)
	case engine.IsPermanent(err) || !now.Before(w.deadline(e)):
		e.Attempts++
		e.LastError = err.Error()
		if ferr := w.fallBack(e); ferr != nil {
			log.Error("outbox: the fallback of a failed delivery failed; trying again", slog.Any("err", ferr))
			prev := e.NextAt
			e.NextAt = now.Add(w.cfg.MinBackoff)
			result, serr = ResultRetried, w.store.RetryOutbox(e, prev)
			break
		}
		log.Warn("outbox: delivery failed for good", slog.Int("attempts", e.Attempts), slog.Any("err", err))
		result, serr = ResultFailed, w.store.FinishOutbox(e, true)
	default:
		prev := e.NextAt
		e.Attempts++
		e.LastError = err.Error()
		e.NextAt = now.Add(w.backoff(e.Attempts, err))
		if dl := w.deadline(e); e.NextAt.After(dl) {
			e.NextAt = dl // the last attempt comes by the give-up age
		}
		log.Info("outbox: delivery failed; retrying", slog.Int("attempts", e.Attempts),
			slog.Time("next", e.NextAt), slog.Any("err", err))
		result, serr = ResultRetried, w.store.RetryOutbox(e, prev)
	}
	if serr != nil {
		// The entry stays as it was stored: due, so tried again.
		w.cfg.Logger.Error("outbox: storing a delivery's outcome", slog.String("key", e.Key), slog.Any("err", serr))
		return
	}
	w.m.deliveries.WithLabelValues(e.Target, result).Inc()
	if result != ResultRetried {
		w.m.pending.Set(float64(w.pending.Add(-1)))
	}
}

// deadline is when entry e has failed for good if not delivered.
func (w *Worker) deadline(e persist.OutboxEntry) time.Time {
	giveUp := w.cfg.GiveUpAfter
	if t := w.targets[e.Target]; t.GiveUpAfter > 0 {
		giveUp = t.GiveUpAfter
	}
	return e.Created.Add(giveUp)
}

// fallBack runs the target's fallback of an entry that failed for good.
func (w *Worker) fallBack(e persist.OutboxEntry) error {
	t, ok := w.targets[e.Target]
	if !ok || t.Failed == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.AttemptTimeout)
	defer cancel()
	return t.Failed(ctx, e.Key, e.Payload)
}

// backoff is the wait before attempt n+1: MinBackoff doubled per attempt up
// to MaxBackoff, with ±20% jitter so that failures spread out, and never
// sooner than the other side asked.
func (w *Worker) backoff(attempts int, err error) time.Duration {
	d := w.cfg.MinBackoff
	for i := 1; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	if ra, ok := engine.RetryDelay(err); ok && ra > d {
		d = ra
	}
	return d
}

type errUnknownTarget string

func (e errUnknownTarget) Error() string { return "outbox: no target " + string(e) }
