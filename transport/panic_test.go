package transport

import (
	"testing"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func init() {
	// A frame that exists in tests alone: its handler has a bug.
	testFrames = map[string]func(*wsConn){
		"test.panic": func(*wsConn) { panic("a bug in a frame handler") },
	}
}

// A bug that panics while one socket's frame is handled closes that socket
// with 1011 and nothing else: the server, the other shoppers' sockets and
// their chats carry on (S12), and the panic is counted.
func TestPanicClosesOneSocket(t *testing.T) {
	h := start(t, Config{})
	other, _ := h.hello(token(t, "p-other", "Bea"))
	startChat(t, other)

	bad, _ := h.hello(token(t, "p-bad", "Ada"))
	conv := startChat(t, bad)
	bad.send(frame{"type": "test.panic"})
	bad.expectClose(websocket.StatusInternalError)

	if n := testutil.ToFloat64(h.srv.m.panics.WithLabelValues("frame")); n != 1 {
		t.Fatalf("parley_ws_panics_total{where=frame} = %v, want 1", n)
	}
	sendMessage(t, other, "m1", "still here?")

	// The shopper whose socket closed reconnects and resumes where it was.
	again, w := h.hello(token(t, "p-bad", "Ada"))
	if c, _ := w["conversation"].(frame); c == nil || c["id"] != conv {
		t.Fatalf("welcome after the panic: %v", w)
	}
	sendMessage(t, again, "m1", "hello again")
}
