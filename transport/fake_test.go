package transport

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/actors"
)

// brokenLookup is the real backend except that finding a visitor's open
// conversation fails, as it would with a storage error.
type brokenLookup struct {
	*actors.System
}

func (brokenLookup) OpenConversation(context.Context, string) (*actors.ConversationInfo, error) {
	return nil, errors.New("storage on fire")
}

// When the visitor's conversation cannot be looked up at hello, the socket
// hears why (internal, no detail) and is closed with 1011, so that the
// client tries again; the server itself carries on.
func TestHelloLookupFailureClosesWith1011(t *testing.T) {
	h := start(t, Config{})
	srv := New(brokenLookup{h.sys}, Config{IdentitySecret: testSecret, Logger: quietLogger()}, prometheus.NewRegistry())
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
	})
	h2 := &harness{t: t, srv: srv, sys: h.sys, ts: ts}
	c := h2.dial(nil)
	c.send(frame{"type": "hello", "token": token(t, "p1", "Ada")})
	if e := c.expectError("internal"); e["message"] != "internal error" {
		t.Fatalf("error %v: an internal error shows no detail", e)
	}
	c.expectClose(websocket.StatusInternalError)

	// Anonymous visitors need no lookup and are served as usual.
	a := h2.dial(nil)
	a.send(frame{"type": "hello"})
	if w := a.readType("welcome"); w["visitor"].(frame)["logged_in"] != false {
		t.Fatalf("welcome %v", w)
	}
}
