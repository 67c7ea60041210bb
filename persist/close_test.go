package persist

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// Close waits for a call in progress — here an append held in its fsync —
// and refuses new ones meanwhile; once the call returns, Close closes the
// database and every acknowledged write is there on reopening.
func TestCloseWaitsForCallsInProgress(t *testing.T) {
	s, gate, mem := gatedStore(t, Options{})
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1")}})
	gate.hold()
	done := appendAsync(s, Commit{Conversation: "c1", Events: []engine.Event{message(2, engine.PartyShopper, "m2", "hi")}})
	gate.awaitSync(t)

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	deadline := time.Now().Add(5 * time.Second)
	for s.enter() == nil { // Close has not begun yet
		s.leave()
		if time.Now().After(deadline) {
			t.Fatal("Close does not refuse new calls")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := s.LastSeq("c1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("a call while closing: %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an append was in progress", err)
	case <-time.After(50 * time.Millisecond):
	}

	gate.release()
	if err := answer(t, done, "the append"); err != nil {
		t.Fatal(err)
	}
	if err := answer(t, closed, "Close"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	again := openOn(t, mem, "db")
	if last, err := again.LastSeq("c1"); err != nil || last != 2 {
		t.Fatalf("after reopening, last seq %d, %v; want 2", last, err)
	}
}

// Close is bounded by Options.CloseTimeout: with a call still in progress it
// returns an error saying how many, leaves the database open under that call
// (which then completes), and a later Close closes it.
func TestCloseIsBounded(t *testing.T) {
	s, gate, _ := gatedStore(t, Options{CloseTimeout: 50 * time.Millisecond})
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1")}})
	gate.hold()
	done := appendAsync(s, Commit{Conversation: "c1", Events: []engine.Event{message(2, engine.PartyShopper, "m2", "hi")}})
	gate.awaitSync(t)

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	err := answer(t, closed, "Close with an append held in its fsync")
	if err == nil || !strings.Contains(err.Error(), "1 call still in progress") {
		t.Fatalf("Close past its bound: %v, want an error naming 1 call in progress", err)
	}
	if _, err := s.LastSeq("c1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("a call after a Close that timed out: %v, want ErrClosed", err)
	}

	gate.release()
	if err := answer(t, done, "the append"); err != nil {
		t.Fatalf("the append held while Close gave up: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close once the call returned: %v", err)
	}
}
