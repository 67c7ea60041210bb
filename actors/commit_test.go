package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// watchedStore is a store that counts the conversations it loads and can
// be told to refuse appends, as a failing disk would.
type watchedStore struct {
	*persist.Store
	loads     atomic.Int64
	appendErr atomic.Pointer[error]
}

func (s *watchedStore) Load(id string) (*engine.Conversation, *engine.Ticket, error) {
	s.loads.Add(1)
	return s.Store.Load(id)
}

func (s *watchedStore) Append(ctx context.Context, c persist.Commit) error {
	if err := s.appendErr.Load(); err != nil {
		return *err
	}
	return s.Store.Append(ctx, c)
}

// errorLog is a slog handler that keeps the messages logged at ERROR.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler               { return l }
func (l *errorLog) WithGroup(string) slog.Handler                    { return l }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

func (l *errorLog) taken() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// startWatched starts an actor system on a watchedStore that logs into an
// errorLog.
func startWatched(t *testing.T) (*System, *watchedStore, *errorLog) {
	t.Helper()
	store, err := persist.Open(persist.Options{Dir: t.TempDir(), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ws, errs := &watchedStore{Store: store}, &errorLog{}
	sys, err := Start(ws, Config{}, nil, slog.New(errs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sys.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	return sys, ws, errs
}

// A repeat of a client_id older than those the state remembers is not a
// failure: it is acknowledged with its stored seq, logs no error, does not
// reload the conversation from storage, publishes nothing, and leaves the
// state right for the next message (PROTOCOL idempotency, S12).
func TestOldRepeatNeedsNoReload(t *testing.T) {
	sys, store, errs := startWatched(t)
	ctx := context.Background()
	info, _, err := sys.StartChat(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	conv := info.ID
	for i := range engine.RecentClientIDs + 10 {
		if _, err := sys.ShopperPost(ctx, ada, conv, "message", nil, fmt.Sprintf("m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	tab := newRecorder()
	last, _ := store.LastSeq(conv)
	if err := sys.Subscribe(ctx, ada, conv, last, tab); err != nil {
		t.Fatal(err)
	}
	loads := store.loads.Load()
	for range 3 {
		again, err := sys.ShopperPost(ctx, ada, conv, "message", nil, "m0")
		if err != nil || !again.Duplicate || again.Seq != 2 {
			t.Fatalf("old repeat: %+v %v, want the original seq 2", again, err)
		}
	}
	if n := store.loads.Load() - loads; n != 0 {
		t.Errorf("old repeats reloaded the conversation %d times", n)
	}
	if got := errs.taken(); len(got) != 0 {
		t.Errorf("old repeats logged errors: %q", got)
	}
	next, err := sys.ShopperPost(ctx, ada, conv, "message", nil, "fresh")
	if err != nil || next.Duplicate || next.Seq != last+1 {
		t.Fatalf("next message %+v %v, want seq %d", next, err, last+1)
	}
	tab.waitFor(t, "the next message", func(r *recorder) bool { return len(r.events) >= 1 })
	if got := tab.seqs(); len(got) != 1 || got[0] != last+1 {
		t.Fatalf("the subscriber saw seqs %v, want only %d", got, last+1)
	}
}

// A commit that storage refuses for any other reason is answered internal,
// logged, publishes nothing, and the state claims nothing of it: the next
// message takes the seq the refused one would have had.
func TestRefusedCommitClaimsNothing(t *testing.T) {
	sys, store, errs := startWatched(t)
	ctx := context.Background()
	info, _, err := sys.StartChat(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	conv := info.ID
	if _, err := sys.ShopperPost(ctx, ada, conv, "first", nil, "c1"); err != nil {
		t.Fatal(err)
	}
	tab := newRecorder()
	if err := sys.Subscribe(ctx, ada, conv, 2, tab); err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk on fire")
	store.appendErr.Store(&disk)
	if _, err := sys.ShopperPost(ctx, ada, conv, "lost", nil, "c2"); code(err) != engine.CodeInternal {
		t.Fatalf("post while storage fails: %v, want internal", err)
	}
	if len(errs.taken()) == 0 {
		t.Error("a storage failure was not logged")
	}
	store.appendErr.Store(nil)
	p, err := sys.ShopperPost(ctx, ada, conv, "again", nil, "c2")
	if err != nil || p.Duplicate || p.Seq != 3 {
		t.Fatalf("post after the failure: %+v %v, want seq 3", p, err)
	}
	tab.waitFor(t, "seq 3", func(r *recorder) bool { return len(r.events) >= 1 })
	time.Sleep(20 * time.Millisecond)
	if got := tab.seqs(); len(got) != 1 || got[0] != 3 {
		t.Fatalf("the subscriber saw seqs %v, want [3]", got)
	}
	view, err := sys.Ticket(ctx, conv)
	if err != nil || len(view.Events) != 3 || view.Events[2].Text != "again" || view.Row.Preview != "again" {
		t.Fatalf("ticket %+v %v", view, err)
	}
}
