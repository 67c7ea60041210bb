package transport

import (
	"fmt"
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

// A token that verified is remembered for reconnects, but never past the
// instant it would stop verifying (its expiry plus the leeway), and a token
// that differs from a remembered one in any byte is verified afresh.
func TestRememberedTokensExpireAndMatchExactly(t *testing.T) {
	start0 := time.Now().Truncate(time.Second) // expiries are whole seconds
	var offset atomic.Int64
	now := func() time.Time { return start0.Add(time.Duration(offset.Load())) }
	h := start(t, Config{Now: now})
	tok, err := identity.Mint(testSecret, engine.Visitor{ProfileID: "p-cache", Name: "Ada"}, time.Minute, start0)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, w := h.hello(tok); w["visitor"].(frame)["profile_id"] != "p-cache" {
			t.Fatalf("fresh token: %v", w)
		}
	}
	if _, ok := h.srv.tokens.get(tok, now()); !ok {
		t.Fatal("a token that verified is not remembered")
	}
	// One character of the signature changed (not the last, whose low bits are padding).
	i, swap := len(tok)-10, byte('A')
	if tok[i] == 'A' {
		swap = 'B'
	}
	forged := tok[:i] + string(swap) + tok[i+1:]
	c := h.dial(nil)
	c.send(frame{"type": "hello", "token": forged})
	c.expectError("unauthorized")
	c.expectClose(websocket.StatusPolicyViolation)

	offset.Store(int64(time.Minute + identity.Leeway - time.Millisecond))
	if _, w := h.hello(tok); w["visitor"].(frame)["logged_in"] != true {
		t.Fatalf("within the leeway: %v", w)
	}
	offset.Store(int64(time.Minute + identity.Leeway))
	c = h.dial(nil)
	c.send(frame{"type": "hello", "token": tok})
	c.expectError("unauthorized")
	c.expectClose(websocket.StatusPolicyViolation)
}

// The cache of verified tokens stays bounded: a full one starts over.
func TestTokenCacheBounded(t *testing.T) {
	var c tokenCache
	until := time.Now().Add(time.Hour)
	for i := range tokenCacheSize + 10 {
		c.put(fmt.Sprint("token-", i), engine.Visitor{ProfileID: "p"}, until)
	}
	if n := len(c.m); n > tokenCacheSize || n == 0 {
		t.Fatalf("%d tokens remembered, bound %d", n, tokenCacheSize)
	}
	if _, ok := c.get(fmt.Sprint("token-", tokenCacheSize+9), time.Now()); !ok {
		t.Fatal("the newest token was dropped")
	}
}
