package actors

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

func alertsAfter(t *testing.T, h *harness, d time.Duration) {
	t.Helper()
	s := h.sys.Settings()
	s.WaitingAlertAfter = engine.Duration(d)
	if err := h.sys.PutSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// H10: an alert raised before a restart is not raised again by it; the next
// comes one interval after the stored one, as if nothing had happened.
func TestAlertsSurviveARestart(t *testing.T) {
	h := start(t, Config{})
	alertsAfter(t, h, time.Second)
	inbox := newRecorder()
	h.sys.WatchInbox(inbox)
	conv := h.startChat(ada)
	h.post(ada, conv, "m1", "hello?")
	inbox.waitFor(t, "the first alert", func(r *recorder) bool { return len(r.alerts) == 1 })
	first := *inbox.alerts[0].AlertedAt

	h.restart()
	again := newRecorder()
	h.sys.WatchInbox(again)
	again.waitFor(t, "the next alert", func(r *recorder) bool { return len(r.alerts) >= 1 })
	next := *again.alerts[0].AlertedAt
	if gap := next.Sub(first); gap < time.Second {
		t.Fatalf("the next alert came %v after the last one, across a restart; want the interval, 1s", gap)
	}
}

// H10, H3: a snoozed ticket raises no alert; once it wakes, the customer's
// wait counts again.
func TestSnoozedTicketRaisesNoAlert(t *testing.T) {
	h := start(t, Config{})
	alertsAfter(t, h, time.Second)
	inbox := newRecorder()
	h.sys.WatchInbox(inbox)
	conv := h.startChat(ada)
	h.post(ada, conv, "m1", "hello?")
	if _, err := h.sys.Snooze(context.Background(), conv, time.Now().Add(2*time.Second), "agent-ana"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	inbox.mu.Lock()
	n := len(inbox.alerts)
	inbox.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d alerts while snoozed", n)
	}
	inbox.waitFor(t, "an alert after the snooze ends", func(r *recorder) bool { return len(r.alerts) == 1 })
}
