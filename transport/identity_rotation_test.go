package transport

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// Rotating the identity secret: tokens signed with the previous secret work
// until the grace window ends, then are refused (1008); the new secret works
// throughout.
func TestIdentitySecretRotation(t *testing.T) {
	oldSecret := []byte("the-old-store-secret")
	start0 := time.Now()
	var offset atomic.Int64
	now := func() time.Time { return start0.Add(time.Duration(offset.Load())) }
	h := start(t, Config{PreviousIdentitySecret: oldSecret, PreviousSecretUntil: start0.Add(time.Hour), Now: now})
	mint := func(secret []byte) string {
		tok, err := identity.Mint(secret, engine.Visitor{ProfileID: "p-rot", Name: "Ada"}, 24*time.Hour, start0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if _, w := h.hello(mint(oldSecret)); w["visitor"].(frame)["logged_in"] != true {
		t.Fatalf("old secret inside the grace window: %v", w)
	}
	offset.Store(int64(2 * time.Hour))
	if _, w := h.hello(mint(testSecret)); w["visitor"].(frame)["logged_in"] != true {
		t.Fatalf("new secret: %v", w)
	}
	c := h.dial(nil)
	c.send(frame{"type": "hello", "token": mint(oldSecret)})
	c.expectError("unauthorized")
	c.expectClose(websocket.StatusPolicyViolation)
}
