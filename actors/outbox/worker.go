package outbox

import (
	"cmp"
	"container/heap"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Store is what the worker needs of durable storage; *persist.Store has it.
type Store interface {
	// OutboxDue calls fn with the key of every entry not yet done and when
	// its next attempt is due.
	OutboxDue(fn func(at time.Time, key string) error) error
	OutboxEntry(key string) (persist.OutboxEntry, bool, error)
	RetryOutbox(e persist.OutboxEntry, prev time.Time) error
	FinishOutbox(e persist.OutboxEntry, failed bool) error
	// PurgeFailedOutbox removes the entries that failed for good before a
	// time.
	PurgeFailedOutbox(before time.Time) (int, error)
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
	// Concurrency, when not 0, is how many of this target's deliveries run
	// at once instead of Config.Concurrency.
	Concurrency int
	// Ordered, when set, delivers the entries of one stream to one
	// destination one at a time, in the order of their keys' seqs: the
	// next waits until the one before is done with (sent, or failed for
	// good). A webhook receiver hears about a ticket in order.
	Ordered bool
	// Failed, when set, runs before an entry that failed for good is put
	// away: the fallback of the call that did not happen (a handoff falls
	// back to a Helpdesk ticket). Until it succeeds the entry stays due and
	// is tried again, so a fallback is never lost.
	Failed func(ctx context.Context, key string, payload []byte, cause error) error
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
	// Poll is how often the worker reads storage's list of the entries not
	// yet done, in case it was not told of one (a commit whose outcome was
	// unknown), and the longest it sleeps. Default 1 minute.
	Poll time.Duration
	// FailedRetention is how long an entry that failed for good is kept,
	// with its last error, for people to look at; older ones are removed
	// about once an hour. Default 7 days.
	FailedRetention time.Duration
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
	if c.FailedRetention <= 0 {
		c.FailedRetention = 7 * 24 * time.Hour
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
//
// It keeps, in memory, each target's entries by when they are due (read from
// storage at start, then told of new ones by Added), so that finding what is
// due costs no storage scan however many entries have come and gone; every
// Poll it reads storage's list again, in case it was not told of one.
type Worker struct {
	store   Store
	targets map[string]Target
	cfg     Config
	m       *metrics

	kick    chan struct{} // new entries, or a delivery finished: look again
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pending atomic.Int64

	mu     sync.Mutex
	queues map[string]*queue // by target
	known  map[string]bool   // the keys queued or under way
	synced time.Time         // when storage's list was last read
	purged time.Time         // when failed entries were last purged (the loop's own)
}

// Start starts a worker over store for targets (by persist.OutboxEntry's
// Target), registering its metrics on reg (nil: none).
func Start(store Store, targets map[string]Target, cfg Config, reg prometheus.Registerer) *Worker {
	cfg.EnsureDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{
		store: store, targets: targets, cfg: cfg, m: newMetrics(reg, targets),
		kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
		queues: map[string]*queue{}, known: map[string]bool{},
	}
	for name, t := range targets {
		w.queues[name] = w.newQueue(t)
	}
	w.sync()
	w.wg.Add(1)
	go w.loop()
	return w
}

// Added tells the worker of entries a commit has just stored: it looks at
// once. It never blocks.
func (w *Worker) Added(entries []persist.OutboxEntry) {
	w.mu.Lock()
	for _, e := range entries {
		w.enqueue(e.NextAt, e.Key)
	}
	w.mu.Unlock()
	w.poke()
}

// enqueue files key under its target to be tried at at, unless it is known
// already. The caller holds mu.
func (w *Worker) enqueue(at time.Time, key string) {
	if w.known[key] {
		return
	}
	w.known[key] = true
	w.m.pending.Set(float64(w.pending.Add(1)))
	w.requeue(at, key)
}

// requeue files a known key again. The caller holds mu.
func (w *Worker) requeue(at time.Time, key string) {
	k := ParseKey(key)
	w.queueOf(k).file(at, key, k)
}

// queueOf is the queue of k's target, made on first use: for a destination
// of a target with many, or for a target the worker does not know (whose
// entries fail for good). The caller holds mu.
func (w *Worker) queueOf(k Key) *queue {
	q := w.queues[k.Target]
	if q == nil {
		q = &queue{}
		if t, ok := w.targets[k.Kind()]; ok {
			q = w.newQueue(t)
		}
		w.queues[k.Target] = q
	}
	return q
}

func (w *Worker) newQueue(t Target) *queue {
	return &queue{limit: cmp.Or(t.Concurrency, w.cfg.Concurrency), ordered: t.Ordered, groups: map[string]*group{}}
}

// release ends the delivery of key: done with it, or due again at next.
// The caller holds mu.
func (w *Worker) release(target, key string, next time.Time, done bool) {
	q := w.queues[target]
	q.running--
	q.finish(key, next, done)
}

// sync reads storage's list of the entries not yet done and files those
// the worker was not told of (all of them at start).
func (w *Worker) sync() {
	var found []dueEntry
	err := w.store.OutboxDue(func(at time.Time, key string) error {
		found = append(found, dueEntry{at: at, key: key})
		return nil
	})
	if err != nil {
		w.cfg.Logger.Error("outbox: reading the entries not yet done", slog.Any("err", err))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range found {
		w.enqueue(d.at, d.key)
	}
	w.synced = w.cfg.Now()
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
		if w.cfg.Now().Sub(w.synced) >= w.cfg.Poll {
			w.sync()
		}
		if now := w.cfg.Now(); now.Sub(w.purged) >= purgeEvery {
			w.purged = now
			w.purge(now)
		}
		timer.Reset(w.dispatch())
	}
}

// purgeEvery is how often the failed entries past FailedRetention are
// removed.
const purgeEvery = time.Hour

// purge removes the entries that failed for good longer than
// FailedRetention ago.
func (w *Worker) purge(now time.Time) {
	n, err := w.store.PurgeFailedOutbox(now.Add(-w.cfg.FailedRetention))
	switch {
	case err != nil:
		w.cfg.Logger.Error("outbox: removing old failed entries", slog.Any("err", err))
	case n > 0:
		w.cfg.Logger.Info("outbox: removed failed entries past their retention", slog.Int("entries", n),
			slog.Duration("retention", w.cfg.FailedRetention))
	}
}

// dispatch starts a delivery of every due entry whose target has a free
// slot, and returns how long to wait before looking again: until the
// earliest entry of a target with a free slot is due, at most Poll (a
// delivery that ends pokes the loop).
func (w *Worker) dispatch() time.Duration {
	now := w.cfg.Now()
	wait := w.cfg.Poll
	w.mu.Lock()
	defer w.mu.Unlock()
	for target, q := range w.queues {
		for len(q.due) > 0 && !q.due[0].at.After(now) && (q.limit == 0 || q.running < q.limit) {
			d := heap.Pop(&q.due).(dueEntry)
			if !q.claim(d) {
				continue
			}
			q.running++
			w.wg.Add(1)
			go w.deliver(target, d.key, now)
		}
		if len(q.due) > 0 && (q.limit == 0 || q.running < q.limit) {
			wait = min(wait, max(q.due[0].at.Sub(now), time.Millisecond))
		}
	}
	return wait
}

// deliver makes one attempt at the entry of key, as it is stored now, and
// stores what became of it.
func (w *Worker) deliver(target, key string, now time.Time) {
	defer w.wg.Done()
	next, done := time.Time{}, true // when to try again, or done with it
	defer func() {
		w.mu.Lock()
		if done {
			delete(w.known, key)
			w.m.pending.Set(float64(w.pending.Add(-1)))
		}
		w.release(target, key, next, done)
		w.mu.Unlock()
		w.poke()
	}()
	e, found, err := w.store.OutboxEntry(key)
	switch {
	case err != nil:
		w.cfg.Logger.Error("outbox: reading an entry", slog.String("key", key), slog.Any("err", err))
		next, done = now.Add(w.cfg.MinBackoff), false
		return
	case !found: // done meanwhile (told of twice)
		return
	case e.NextAt.After(now): // moved meanwhile
		next, done = e.NextAt, false
		return
	}
	t, ok := w.targets[e.Target]
	if !ok {
		next, done = w.settle(e, engine.Permanent(errUnknownTarget(e.Target)))
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(w.ctx, w.attemptTimeout(e))
	err = t.Deliver(ctx, e.Key, e.Payload)
	cancel()
	w.m.latency.WithLabelValues(e.Target).Observe(time.Since(start).Seconds())
	next, done = w.settle(e, err)
}

// settle stores what became of an attempt, and says when to try again,
// or that the entry is done with.
func (w *Worker) settle(e persist.OutboxEntry, err error) (next time.Time, done bool) {
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
		if ferr := w.fallBack(e, err); ferr != nil {
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
		// The entry stays as it was stored: due, so tried again shortly.
		w.cfg.Logger.Error("outbox: storing a delivery's outcome", slog.String("key", e.Key), slog.Any("err", serr))
		return now.Add(w.cfg.MinBackoff), false
	}
	w.m.deliveries.WithLabelValues(e.Target, result).Inc()
	if result == ResultRetried {
		return e.NextAt, false
	}
	return time.Time{}, true
}

// lastAttempt is the least time an attempt is given, the last one too.
const lastAttempt = time.Second

// attemptTimeout bounds an attempt at e: AttemptTimeout, or less by e's
// deadline, so that a target that must succeed within a time (a handoff)
// is not held past it by a call that hangs.
func (w *Worker) attemptTimeout(e persist.OutboxEntry) time.Duration {
	return min(w.cfg.AttemptTimeout, max(w.deadline(e).Sub(w.cfg.Now()), lastAttempt))
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
func (w *Worker) fallBack(e persist.OutboxEntry, cause error) error {
	t, ok := w.targets[e.Target]
	if !ok || t.Failed == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.AttemptTimeout)
	defer cancel()
	return t.Failed(ctx, e.Key, e.Payload, cause)
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
