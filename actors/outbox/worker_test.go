package outbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openStore(t *testing.T, dir string) *persist.Store {
	t.Helper()
	s, err := persist.Open(persist.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// owe stores an entry the way a commit does: in the batch of its event.
func owe(t *testing.T, s *persist.Store, conv, target, payload string) persist.OutboxEntry {
	t.Helper()
	now := time.Now()
	e := persist.OutboxEntry{Key: persist.OutboxKey(conv, 1, target), Target: target, Payload: []byte(payload), Created: now, NextAt: now}
	err := s.Append(context.Background(), persist.Commit{Conversation: conv,
		Events: []engine.Event{{Seq: 1, At: now, Kind: engine.KindStarted, ProfileID: "p1"}},
		Outbox: []persist.OutboxEntry{e}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// recorder is a target that fails as often as told, then succeeds.
type recorder struct {
	mu       sync.Mutex
	failures []error // returned by the first attempts, in order
	got      []string
	keys     []string
	at       []time.Time
	done     chan struct{}
}

func newRecorder(failures ...error) *recorder {
	return &recorder{failures: failures, done: make(chan struct{}, 16)}
}

func (r *recorder) deliver(_ context.Context, key string, payload []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
	r.at = append(r.at, time.Now())
	if len(r.failures) > 0 {
		err := r.failures[0]
		r.failures = r.failures[1:]
		return err
	}
	r.got = append(r.got, string(payload))
	r.done <- struct{}{}
	return nil
}

func fast() Config {
	return Config{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Poll: time.Second}
}

func stop(t *testing.T, w *Worker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitDone(t *testing.T, r *recorder) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the entry was not delivered")
	}
}

func waitEmpty(t *testing.T, s *persist.Store) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, err := s.OutboxCount(); err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox did not empty")
		}
	}
}

// An entry is delivered once, with its key; failures are retried with a
// growing wait until one succeeds, and the entry is then gone.
func TestDeliversAndRetries(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	e := owe(t, s, "c1", "email", "hello")
	r := newRecorder(errors.New("451 try later"), errors.New("connection refused"))
	reg := prometheus.NewRegistry()
	w := Start(s, map[string]Target{"email": {Deliver: r.deliver}}, fast(), reg)
	w.Added(nil) // found in storage at start
	waitDone(t, r)
	waitEmpty(t, s)
	stop(t, w) // every outcome is counted once the worker has stopped
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.keys) != 3 || r.keys[2] != e.Key || r.got[0] != "hello" {
		t.Fatalf("attempts %v, got %v", r.keys, r.got)
	}
	if gap1, gap2 := r.at[1].Sub(r.at[0]), r.at[2].Sub(r.at[1]); gap1 < 15*time.Millisecond || gap2 < gap1/2 {
		t.Fatalf("waits between attempts %v and %v: want back-off from 20 ms, doubling", gap1, gap2)
	}
	if n := testutil.ToFloat64(w.m.deliveries.WithLabelValues("email", ResultRetried)); n != 2 {
		t.Fatalf("retried %v, want 2", n)
	}
	if n := testutil.ToFloat64(w.m.deliveries.WithLabelValues("email", ResultSent)); n != 1 {
		t.Fatalf("sent %v, want 1", n)
	}
}

// A permanent failure is not retried: the entry is kept among the failed
// ones with its error.
func TestPermanentFailureIsKept(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	owe(t, s, "c1", "email", "x")
	r := newRecorder(engine.Permanent(errors.New("550 no such user")))
	w := Start(s, map[string]Target{"email": {Deliver: r.deliver}}, fast(), nil)
	defer stop(t, w)
	w.Added(nil) // found in storage at start
	waitEmpty(t, s)
	failed, err := s.FailedOutbox(10)
	if err != nil || len(failed) != 1 || failed[0].LastError != "550 no such user" || failed[0].Attempts != 1 {
		t.Fatalf("failed entries %+v %v", failed, err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.keys); n != 1 {
		t.Fatalf("%d attempts at a permanent failure", n)
	}
}

// A Retry-After from the other side is honoured.
func TestRetryAfterIsHonoured(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	owe(t, s, "c1", "hook", "x")
	r := newRecorder(engine.RetryAfter(errors.New("429"), 300*time.Millisecond))
	w := Start(s, map[string]Target{"hook": {Deliver: r.deliver}}, fast(), nil)
	defer stop(t, w)
	w.Added(nil) // found in storage at start
	waitDone(t, r)
	if gap := r.at[1].Sub(r.at[0]); gap < 300*time.Millisecond {
		t.Fatalf("retried after %v; the target asked for 300 ms", gap)
	}
}

// What is not delivered survives a restart and is delivered after it.
func TestEntriesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	owe(t, s, "c1", "email", "first")
	owe(t, s, "c2", "email", "second")
	down := newRecorder(errors.New("down"), errors.New("down"), errors.New("down"), errors.New("down"))
	w := Start(s, map[string]Target{"email": {Deliver: down.deliver}}, Config{MinBackoff: time.Hour, Poll: time.Hour}, nil)
	w.Added(nil) // found in storage at start
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		down.mu.Lock()
		n := len(down.keys)
		down.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempts")
		}
	}
	stop(t, w)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	defer s.Close()
	up := newRecorder()
	now := time.Now().Add(2 * time.Hour) // the retries are due by then
	cfg := fast()
	cfg.Now = func() time.Time { return now }
	w = Start(s, map[string]Target{"email": {Deliver: up.deliver}}, cfg, nil)
	defer stop(t, w)
	waitDone(t, up)
	waitDone(t, up)
	waitEmpty(t, s)
}

// An entry failing for longer than GiveUpAfter fails for good.
func TestGivesUpAfterAge(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	owe(t, s, "c1", "email", "x")
	r := newRecorder(errors.New("down"))
	cfg := fast()
	cfg.GiveUpAfter = time.Minute
	cfg.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	w := Start(s, map[string]Target{"email": {Deliver: r.deliver}}, cfg, nil)
	defer stop(t, w)
	waitEmpty(t, s)
	if failed, _ := s.FailedOutbox(10); len(failed) != 1 {
		t.Fatalf("failed entries %+v", failed)
	}
}

// A slow target holds up only its own entries.
func TestSlowTargetHoldsUpOnlyItself(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	release := make(chan struct{})
	slow := func(ctx context.Context, _ string, _ []byte) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i := range 3 {
		owe(t, s, "slow"+string(rune('a'+i)), "slow", "x")
	}
	owe(t, s, "fast", "email", "quick")
	r := newRecorder()
	cfg := fast()
	cfg.Concurrency = 1
	w := Start(s, map[string]Target{"slow": {Deliver: slow}, "email": {Deliver: r.deliver}}, cfg, nil)
	w.Added(nil) // found in storage at start
	waitDone(t, r)
	close(release)
	waitEmpty(t, s)
	stop(t, w)
}

// A target's own give-up age bounds its retries (the last attempt comes by
// then), and its fallback runs before a failed entry is put away; a
// fallback that fails keeps the entry due, so it is never lost.
func TestFallbackOfAFailedDelivery(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	owe(t, s, "c1", "zendesk", "handoff")
	var mu sync.Mutex
	var attempts []time.Time
	fallbacks := 0
	down := func(context.Context, string, []byte) error {
		mu.Lock()
		attempts = append(attempts, time.Now())
		mu.Unlock()
		return errors.New("503")
	}
	failed := func(_ context.Context, key string, payload []byte, _ error) error {
		mu.Lock()
		defer mu.Unlock()
		fallbacks++
		if fallbacks == 1 {
			return errors.New("the conversation's actor did not answer")
		}
		return nil
	}
	cfg := Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Hour, Poll: time.Second}
	w := Start(s, map[string]Target{"zendesk": {Deliver: down, GiveUpAfter: 700 * time.Millisecond, Failed: failed}}, cfg, nil)
	w.Added(nil) // found in storage at start
	waitEmpty(t, s)
	stop(t, w)
	mu.Lock()
	defer mu.Unlock()
	if fallbacks != 2 {
		t.Fatalf("%d fallbacks; want one that failed and one that took", fallbacks)
	}
	if last := attempts[len(attempts)-1].Sub(attempts[0]); last > 2*time.Second {
		t.Fatalf("attempts went on for %v past a give-up age of 700 ms", last)
	}
	if failed, _ := s.FailedOutbox(10); len(failed) != 1 {
		t.Fatalf("failed entries %+v", failed)
	}
}

// An entry stored while the worker runs is delivered as soon as the worker
// is told of it, without waiting for its next look at storage; one it was
// not told of is found at that look.
func TestNewEntriesAreDeliveredAtOnce(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	r := newRecorder()
	cfg := fast()
	cfg.Poll = 2 * time.Second
	w := Start(s, map[string]Target{"email": {Deliver: r.deliver}}, cfg, nil)
	defer stop(t, w)
	e := owe(t, s, "told", "email", "told")
	told := time.Now()
	w.Added([]persist.OutboxEntry{e})
	waitDone(t, r)
	if took := time.Since(told); took > time.Second {
		t.Fatalf("an entry the worker was told of took %v", took)
	}
	owe(t, s, "untold", "email", "untold")
	waitDone(t, r)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) != 2 || r.got[1] != "untold" {
		t.Fatalf("delivered %q", r.got)
	}
}

// An ordered target gets one stream's entries for one destination one at a
// time, in seq order, across retries and a restart; another stream, or
// another destination, is not held up by them.
func TestOrderedTargetKeepsEachStreamInOrder(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	now := time.Now()
	var entries []persist.OutboxEntry
	add := func(key string) {
		entries = append(entries, persist.OutboxEntry{Key: key, Target: "hook", Payload: []byte(key), Created: now, NextAt: now})
	}
	// Stored out of order on purpose: the due index sorts by time, not seq.
	add("a/3/hook:x")
	add("a/1.1/hook:x")
	add("a/1.0/hook:x")
	add("a/2/hook:x")
	add("b/1/hook:x")
	add("a/1.0/hook:y")
	err := s.Append(context.Background(), persist.Commit{Conversation: "a",
		Events: []engine.Event{{Seq: 1, At: now, Kind: engine.KindStarted, ProfileID: "p1"}}, Outbox: entries})
	if err != nil {
		t.Fatal(err)
	}
	// The first of stream a for x fails twice, then the process "restarts".
	r := newRecorder()
	var mu sync.Mutex
	fails := 2
	deliver := func(ctx context.Context, key string, payload []byte) error {
		mu.Lock()
		if key == "a/1.0/hook:x" && fails > 0 {
			fails--
			mu.Unlock()
			return errors.New("500")
		}
		mu.Unlock()
		return r.deliver(ctx, key, payload)
	}
	ordered := map[string]Target{"hook": {Deliver: deliver, Ordered: true}}
	w := Start(s, ordered, fast(), nil)
	waitDone(t, r)
	waitDone(t, r) // b and y, held up by nothing
	stop(t, w)
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	w = Start(s, ordered, fast(), nil)
	defer stop(t, w)
	waitEmpty(t, s)
	r.mu.Lock()
	defer r.mu.Unlock()
	var x []string
	for _, k := range r.got {
		if strings.HasPrefix(k, "a/") && strings.HasSuffix(k, ":x") {
			x = append(x, k)
		}
	}
	want := []string{"a/1.0/hook:x", "a/1.1/hook:x", "a/2/hook:x", "a/3/hook:x"}
	if !slices.Equal(x, want) {
		t.Fatalf("stream a to x delivered as %q, want %q (all: %q)", x, want, r.got)
	}
	if i := slices.Index(r.got, "b/1/hook:x"); i < 0 || i > 1 {
		t.Fatalf("stream b waited behind a's failing first: %q", r.got)
	}
}

// An entry that failed for good is kept, with its last error, for
// FailedRetention after it was made, then removed.
func TestFailedEntriesAreKeptForTheirRetention(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	now := time.Now()
	for _, e := range []persist.OutboxEntry{
		{Key: "old/1/hook", Target: "hook", Created: now.Add(-8 * 24 * time.Hour), NextAt: now, LastError: "500"},
		{Key: "new/1/hook", Target: "hook", Created: now.Add(-6 * 24 * time.Hour), NextAt: now, LastError: "500"},
	} {
		err := s.Append(context.Background(), persist.Commit{Conversation: strings.Split(e.Key, "/")[0],
			Events: []engine.Event{{Seq: 1, At: now, Kind: engine.KindStarted, ProfileID: "p1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishOutbox(e, true); err != nil {
			t.Fatal(err)
		}
	}
	w := Start(s, map[string]Target{"hook": {Deliver: newRecorder().deliver}}, fast(), nil)
	defer stop(t, w)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		failed, err := s.FailedOutbox(10)
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) == 1 && failed[0].Key == "new/1/hook" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("failed entries %+v: want the 6-day-old one kept and the 8-day-old one gone (retention 7 days)", failed)
		}
	}
}
