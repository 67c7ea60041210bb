package transport

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The server pings every socket; a peer that stops answering (its machine
// slept, its network dropped it without a word) is dropped, and a shopper
// whose client answers stays connected however quiet the chat.
func TestPeerThatStopsAnsweringPingsIsDropped(t *testing.T) {
	h := start(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond, HelloTimeout: time.Minute})
	alive, _ := h.hello(token(t, "p-alive", "Ada"))
	startChat(t, alive)

	// A client that never reads never sees a ping, so it never answers.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mute, _, err := websocket.Dial(ctx, h.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.CloseNow()
	// (Right after the dial the mute socket may not be counted yet: wait
	// for its drop, then for the count.)
	dropped := func() float64 { return testutil.ToFloat64(h.srv.m.wsRefused.WithLabelValues(refusedPing)) }
	for deadline := time.Now().Add(5 * time.Second); dropped() == 0 || h.sockets() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("5 s after a peer stopped answering pings: %d sockets, %v dropped for ping_timeout; want the answering one only, 1 dropped", h.sockets(), dropped())
		}
	}
	if n := dropped(); n != 1 {
		t.Fatalf("refusals for ping_timeout = %v, want 1", n)
	}

	time.Sleep(300 * time.Millisecond) // several pings go by
	sendMessage(t, alive, "m1", "still connected?")
}
