package transport

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/engine"
)

// rawSend writes one masked text frame on a raw connection.
func rawSend(t *testing.T, conn net.Conn, payload string) {
	t.Helper()
	frame := []byte{0x81, 0x80 | byte(len(payload))}
	if len(payload) >= 126 {
		frame = []byte{0x81, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload))}
	}
	mask := []byte{9, 8, 7, 6}
	frame = append(frame, mask...)
	for i := 0; i < len(payload); i++ {
		frame = append(frame, payload[i]^mask[i%4])
	}
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) sockets() int {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return len(h.srv.conns)
}

// A shopper whose client stops reading is disconnected once its queue or
// the write timeout runs out; meanwhile every other shopper is served as
// usual, and the agent posting to the slow shopper's chat is never held up.
func TestSlowReaderIsCutOffWithoutStallingOthers(t *testing.T) {
	h := start(t, Config{WriteTimeout: 200 * time.Millisecond, SendQueue: 8})
	ctx := context.Background()
	addr := strings.TrimPrefix(h.ts.URL, "http://")

	slow := rawDial(t, addr, fmt.Sprintf(`{"type":"hello","token":%q}`, token(t, "p-slow", "Slow")))
	defer slow.Close()
	if err := slow.(*net.TCPConn).SetReadBuffer(1024); err != nil {
		t.Fatal(err)
	}
	rawSend(t, slow, `{"type":"chat.start"}`)
	rawSend(t, slow, `{"type":"message.send","client_id":"s1","text":"hello"}`)
	var conv string
	for deadline := time.Now().Add(5 * time.Second); conv == ""; time.Sleep(10 * time.Millisecond) {
		open, err := h.sys.OpenConversation(ctx, "p-slow")
		if err == nil && open != nil && open.LastSeq >= 2 {
			conv = open.ID
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow shopper's chat never started")
		}
	}

	fast, _ := h.hello(token(t, "p-fast", "Fast"))
	startChat(t, fast)
	if h.sockets() != 2 {
		t.Fatalf("%d sockets, want 2", h.sockets())
	}

	agent := engine.Agent{ID: "agent-1", Name: "Ana"}
	text := strings.Repeat("x", engine.MaxTextRunes)
	cutOff := func() float64 {
		return testutil.ToFloat64(h.srv.m.wsRefused.WithLabelValues(refusedSlow)) +
			testutil.ToFloat64(h.srv.m.wsRefused.WithLabelValues(refusedWrite))
	}
	// Kernel buffers on loopback hold a few megabytes before writes block:
	// keep replying until the server gives up on the socket.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; cutOff() == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the slow socket was never cut off (%d replies)", i)
		}
		if _, err := h.sys.Reply(ctx, conv, agent, text, nil, fmt.Sprintf("a%d", i)); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if i%50 == 0 { // the other shopper is served all along
			sendMessage(t, fast, fmt.Sprintf("f%d", i), "still here")
		}
	}
	for deadline := time.Now().Add(5 * time.Second); h.sockets() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets 5 s after the cut-off, want 1", h.sockets())
		}
	}
	sendMessage(t, fast, "after", "and after")
}
