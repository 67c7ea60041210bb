package wsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// Direct upgrades a real socket: a frame the server writes right after its
// answer (read with it into the handshake's buffer) reaches the client, and
// frames flow both ways after it.
func TestDirectSocket(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := context.Background()
		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"welcome"}`)); err != nil {
			return
		}
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		_ = ws.Write(ctx, websocket.MessageText, append([]byte("echo "), b...))
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &Options{Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, b, err := c.ReadMessage(ctx); err != nil || string(b) != `{"type":"welcome"}` {
		t.Fatalf("first frame %q %v", b, err)
	}
	if err := c.Write(ctx, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.ReadMessage(ctx); err != nil || string(b) != "echo hi" {
		t.Fatalf("echo %q %v", b, err)
	}
	if _, _, err := c.ReadMessage(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("close %v", err)
	}
}

// A refused upgrade is an error at once, with the server's status and body,
// and the connection is let go although the server would keep it alive.
func TestDirectRefusal(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var closed atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable"}}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	start := time.Now()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), &Options{Direct: true})
	var refused *HandshakeError
	if !errors.As(err, &refused) || refused.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(refused.Body), "unavailable") {
		t.Fatalf("dial: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the refusal took %v", took)
	}
	for deadline := time.Now().Add(2 * time.Second); closed.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refused connection was kept open")
		}
	}
}

// A server that never answers the upgrade does not hold the dial past its
// context.
func TestDirectHonoursContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, "ws://"+ln.Addr().String()+"/ws", &Options{Direct: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the dial took %v", took)
	}
}

// Direct has no TLS: a wss:// URL is refused before anything is dialed.
func TestDirectRefusesTLS(t *testing.T) {
	dialed := false
	_, err := Dial(context.Background(), "wss://127.0.0.1:1/ws", &Options{Direct: true,
		NetDial: func(context.Context, string, string) (net.Conn, error) { dialed = true; return nil, errors.New("no") }})
	if !errors.Is(err, errDirectScheme) || dialed {
		t.Fatalf("wss:// with Direct: %v (dialed %v)", err, dialed)
	}
}
