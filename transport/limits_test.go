package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/engine"
)

// dialStatus tries to open a socket and returns the HTTP status of a refusal
// (0 when the socket opened; it is then closed at cleanup).
func (h *harness) dialStatus(t *testing.T) (int, http.Header, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, h.wsURL(), nil)
	if err == nil {
		t.Cleanup(func() { _ = ws.CloseNow() })
		return 0, nil, nil
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, resp.Header, body
}

func retryAfterSeconds(t *testing.T, hdr http.Header) int {
	t.Helper()
	n, err := strconv.Atoi(hdr.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q", hdr.Get("Retry-After"))
	}
	return n
}

func TestUpgradeRatePerAddress(t *testing.T) {
	h := start(t, Config{ConnRate: 0.5, ConnBurst: 2})
	for i := 0; i < 2; i++ {
		if st, _, _ := h.dialStatus(t); st != 0 {
			t.Fatalf("socket %d refused with %d", i, st)
		}
	}
	st, hdr, body := h.dialStatus(t)
	if st != http.StatusTooManyRequests {
		t.Fatalf("third upgrade in a burst of 2: %d, want 429", st)
	}
	if code, _ := errCode(body); code != "rate_limited" {
		t.Fatalf("body %v", body)
	}
	if n := retryAfterSeconds(t, hdr); n < 1 || n > 2 {
		t.Fatalf("Retry-After %d at 0.5/s", n)
	}
}

func TestMaxConnectionsRefusesCleanly(t *testing.T) {
	h := start(t, Config{MaxConnections: 2})
	a, _ := h.hello("")
	_, _ = h.hello("")
	st, _, body := h.dialStatus(t)
	if st != http.StatusServiceUnavailable {
		t.Fatalf("socket over the cap: %d, want 503", st)
	}
	if code, _ := errCode(body); code != "unavailable" {
		t.Fatalf("body %v", body)
	}
	// The sockets already open are untouched, and a freed place is reused.
	a.send(frame{"type": "faq.pick", "faq": "nope"})
	a.expectError("not_found")
	_ = a.ws.Close(websocket.StatusNormalClosure, "")
	for deadline := time.Now().Add(5 * time.Second); h.sockets() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets after a close", h.sockets())
		}
	}
	if st, _, _ := h.dialStatus(t); st != 0 {
		t.Fatalf("socket after a place freed: %d", st)
	}
}

// Upgrades racing for the last places never open more sockets than the cap:
// the check and the place it takes are one step.
func TestMaxConnectionsHoldsUnderConcurrentUpgrades(t *testing.T) {
	const limit, dialers = 5, 40
	h := start(t, Config{MaxConnections: limit})
	var opened, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range dialers {
		wg.Go(func() {
			<-start
			switch st, _, _ := h.dialStatus(t); st {
			case 0:
				opened.Add(1)
			case http.StatusServiceUnavailable:
				refused.Add(1)
			default:
				t.Errorf("dial: %d", st)
			}
		})
	}
	close(start)
	wg.Wait()
	if opened.Load() != limit || refused.Load() != dialers-limit {
		t.Fatalf("%d sockets opened and %d refused under a cap of %d; want %d and %d",
			opened.Load(), refused.Load(), limit, limit, dialers-limit)
	}
}

// An upgrade in flight holds its place: while it runs, the last place is
// not free for another.
func TestUpgradeInFlightCountsAgainstTheCap(t *testing.T) {
	h := start(t, Config{MaxConnections: 1})
	if err := h.srv.reserveConn(); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.reserveConn(); err != errCapacity {
		t.Fatalf("a second upgrade while the first is in flight: %v, want %v", err, errCapacity)
	}
	if st, _, _ := h.dialStatus(t); st != http.StatusServiceUnavailable {
		t.Fatalf("a socket while an upgrade holds the last place: %d, want 503", st)
	}
	h.srv.releaseConn() // the upgrade failed: its place is free again
	if st, _, _ := h.dialStatus(t); st != 0 {
		t.Fatalf("a socket after the failed upgrade: %d", st)
	}
}

func TestAPIRatePerToken(t *testing.T) {
	h := start(t, Config{APIRate: 0.5, APIBurst: 3})
	for i := 0; i < 3; i++ {
		if code, body, _ := h.do("GET", "/api/v1/inbox/badge", adminToken, nil); code != 200 {
			t.Fatalf("request %d: %d %v", i, code, body)
		}
	}
	code, body, hdr := h.do("GET", "/api/v1/inbox/badge", adminToken, nil)
	if code != http.StatusTooManyRequests {
		t.Fatalf("fourth request in a burst of 3: %d, want 429", code)
	}
	if c, _ := errCode(body); c != "rate_limited" {
		t.Fatalf("body %v", body)
	}
	retryAfterSeconds(t, hdr)
	// Another token has its own budget.
	_, agentTok, err := h.sys.CreateAgent(context.Background(), engine.Agent{Name: "Ana", Role: engine.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := h.do("GET", "/api/v1/inbox/badge", agentTok, nil); code != 200 {
		t.Fatalf("another token: %d %v", code, body)
	}
}
