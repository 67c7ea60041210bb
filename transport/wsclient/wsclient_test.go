package wsclient_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
	"github.com/parley-chat/parley/transport"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// These tests drive the real server (Pebble on a temp dir, the actors and
// the transport behind httptest) through the client, as a widget would.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var secret = []byte("wsclient-test-secret")

// wait bounds every wait for something the server should do.
const wait = 5 * time.Second

type server struct {
	url string // ws://…/ws
	srv *transport.Server
}

// start runs a real server with cfg; its cleanup shuts everything down.
func start(t *testing.T, cfg transport.Config) *server {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	store, err := persist.Open(persist.Options{Dir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.Start(store, actors.Config{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sys.PutSettings(ctx, engine.DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	for _, f := range engine.SampleFAQs() {
		if _, err := sys.PutFAQ(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	cfg.IdentitySecret, cfg.AdminToken, cfg.Logger = secret, "wsclient-test-admin", log
	srv := transport.New(sys, cfg, prometheus.NewRegistry())
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("transport shutdown: %v", err)
		}
		ts.Close()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("actors shutdown: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return &server{url: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", srv: srv}
}

func mint(t *testing.T, profile string) string {
	t.Helper()
	tok, err := identity.Mint(secret, engine.Visitor{ProfileID: profile, Name: "Ada"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func dial(t *testing.T, url string, opts *wsclient.Options) *wsclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := wsclient.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func ctxWait(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// read returns the next frame, which must be an event of conv at seq.
func readEvent(t *testing.T, c *wsclient.Conn, conv string, seq uint64, kind string) *wsclient.Frame {
	t.Helper()
	f, err := c.Read(ctxWait(t))
	if err != nil {
		t.Fatalf("waiting for %s at seq %d: %v", kind, seq, err)
	}
	if f.Type != "event" || f.Conversation != conv || f.Seq != seq || f.Event.Kind != kind {
		t.Fatalf("got %s, want a %s event of %s at seq %d", f.Raw, kind, conv, seq)
	}
	return f
}

// An anonymous visitor's hello is answered with a welcome of a visitor not
// logged in, with the published FAQs and no open conversation.
func TestHelloAnonymous(t *testing.T) {
	s := start(t, transport.Config{})
	c := dial(t, s.url, nil)
	w, err := c.Hello(ctxWait(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.Visitor.LoggedIn || w.Visitor.ProfileID != nil || len(w.FAQs) == 0 || w.Conversation != nil {
		t.Fatalf("welcome %+v", w)
	}
}

// A whole chat: hello, chat.start, a message acknowledged and echoed in
// order, a repeat acknowledged again and not stored, a read receipt, the
// end, and a message after it refused with its client_id.
func TestChat(t *testing.T) {
	s := start(t, transport.Config{})
	c := dial(t, s.url, nil)
	ctx := ctxWait(t)
	w, err := c.Hello(ctx, mint(t, "p-chat"), nil)
	if err != nil || !w.Visitor.LoggedIn || w.Visitor.ProfileID == nil || *w.Visitor.ProfileID != "p-chat" {
		t.Fatalf("hello: %+v %v", w, err)
	}
	started, err := c.StartChat(ctx)
	if err != nil || started.Seq != 1 || started.Conversation == "" || started.Event.Welcome == "" {
		t.Fatalf("chat.start: %+v %v", started, err)
	}
	conv := started.Conversation
	m1 := wsclient.Message{ClientID: "m1", Text: "Where is my parcel?"}
	ack, err := c.SendMessage(ctx, m1)
	if err != nil || ack.Conversation != conv || ack.Seq != 2 {
		t.Fatalf("ack %+v %v", ack, err)
	}
	echo := readEvent(t, c, conv, 2, "message")
	if e := echo.Event; e.From != "shopper" || e.ClientID != "m1" || e.Text != m1.Text || echo.At == "" {
		t.Fatalf("echo %s", echo.Raw)
	}
	again, err := c.SendMessage(ctx, m1)
	if err != nil || again.Seq != 2 {
		t.Fatalf("repeat acknowledged %+v %v, want seq 2 again", again, err)
	}
	if err := c.MarkRead(ctx, conv, 2); err != nil {
		t.Fatal(err)
	}
	// The repeat was not stored: the receipt is the next event.
	if seen := readEvent(t, c, conv, 3, "seen"); seen.Event.By != "shopper" || seen.Event.UpTo != 2 {
		t.Fatalf("seen %s", seen.Raw)
	}
	if err := c.EndChat(ctx, conv); err != nil {
		t.Fatal(err)
	}
	if ended := readEvent(t, c, conv, 4, "ended"); ended.Event.By != "shopper" {
		t.Fatalf("ended %s", ended.Raw)
	}
	_, err = c.SendMessage(ctx, wsclient.Message{ClientID: "m2", Text: "hello?", Conversation: conv})
	var refused *wsclient.ServerError
	if !errors.As(err, &refused) || refused.Code != "closed" || refused.ClientID != "m2" {
		t.Fatalf("a message to the ended chat: %v, want refused closed for m2", err)
	}
}

// A second socket resumes after seq 1: the welcome names the open
// conversation and its last seq, and exactly the events after 1 follow, in
// order, then live ones.
func TestHelloResume(t *testing.T) {
	s := start(t, transport.Config{})
	tok := mint(t, "p-resume")
	first := dial(t, s.url, nil)
	ctx := ctxWait(t)
	if _, err := first.Hello(ctx, tok, nil); err != nil {
		t.Fatal(err)
	}
	started, err := first.StartChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Conversation
	for _, cid := range []string{"m1", "m2"} {
		if _, err := first.SendMessage(ctx, wsclient.Message{ClientID: cid, Text: "text " + cid}); err != nil {
			t.Fatal(err)
		}
	}
	second := dial(t, s.url, &wsclient.Options{Direct: true})
	w, err := second.Hello(ctx, tok, &wsclient.Resume{Conversation: conv, After: 1})
	if err != nil || w.Conversation == nil || w.Conversation.ID != conv || w.Conversation.Status != "open" || w.Conversation.LastSeq != 3 {
		t.Fatalf("resume: %+v %v", w, err)
	}
	readEvent(t, second, conv, 2, "message")
	readEvent(t, second, conv, 3, "message")
	if _, err := first.SendMessage(ctx, wsclient.Message{ClientID: "m3", Text: "live"}); err != nil {
		t.Fatal(err)
	}
	if live := readEvent(t, second, conv, 4, "message"); live.Event.ClientID != "m3" {
		t.Fatalf("live %s", live.Raw)
	}
}

// A token that does not verify is refused (unauthorized) and the server
// closes the socket with 1008; Err says so.
func TestHelloRefusedToken(t *testing.T) {
	s := start(t, transport.Config{})
	c := dial(t, s.url, nil)
	_, err := c.Hello(ctxWait(t), "not.a.token", nil)
	var refused *wsclient.ServerError
	if !errors.As(err, &refused) || refused.Code != "unauthorized" {
		t.Fatalf("hello with a bad token: %v", err)
	}
	if _, err := c.Read(ctxWait(t)); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("after the refusal: %v, want close 1008", err)
	}
	if websocket.CloseStatus(c.Err()) != websocket.StatusPolicyViolation {
		t.Fatalf("Err %v", c.Err())
	}
}

// An Origin the server does not allow is refused with 403, through either
// upgrade path; an allowed one, and none at all, are let in.
func TestDialOrigin(t *testing.T) {
	s := start(t, transport.Config{AllowedOrigins: []string{"https://shop.example.com"}})
	for _, direct := range []bool{false, true} {
		_, err := wsclient.Dial(ctxWait(t), s.url, &wsclient.Options{Origin: "https://evil.example.org", Direct: direct})
		var refused *wsclient.HandshakeError
		if !errors.As(err, &refused) || refused.StatusCode != http.StatusForbidden {
			t.Errorf("direct %v: a foreign origin: %v, want 403", direct, err)
		}
		for _, origin := range []string{"https://shop.example.com", ""} {
			c := dial(t, s.url, &wsclient.Options{Origin: origin, Direct: direct})
			if _, err := c.Hello(ctxWait(t), "", nil); err != nil {
				t.Errorf("direct %v, origin %q: %v", direct, origin, err)
			}
		}
	}
}

// A read that times out leaves the socket open and loses nothing; frames
// the reader holds while nobody reads wait for Read, however few the queue
// holds (the reader waits for room instead of dropping them).
func TestReadTimeoutAndQueue(t *testing.T) {
	s := start(t, transport.Config{})
	c := dial(t, s.url, &wsclient.Options{QueueLimit: 2})
	ctx := ctxWait(t)
	if _, err := c.Hello(ctx, mint(t, "p-queue"), nil); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := c.Read(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || c.Err() != nil {
		t.Fatalf("a read with nothing to read: %v (socket: %v)", err, c.Err())
	}
	started, err := c.StartChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n { // acks and echoes pile up: more than the queue holds
		if err := c.Send(ctx, map[string]any{"type": "message.send", "client_id": string(rune('a' + i)), "text": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	var acks, echoes int
	last := started.Seq
	for acks < n || echoes < n {
		f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %d acks and %d echoes: %v", acks, echoes, err)
		}
		switch f.Type {
		case "ack":
			acks++
		case "event":
			if f.Seq != last+1 {
				t.Fatalf("event seq %d after %d", f.Seq, last)
			}
			last = f.Seq
			echoes++
		default:
			t.Fatalf("unexpected %s", f.Raw)
		}
	}
}

// OnFrame sees every frame on the reader, in order, and keeps those it
// handles from the queue; OnClose is told once why the socket ended, here
// the server's shutdown (1001), before Done.
func TestOnFrameAndOnClose(t *testing.T) {
	s := start(t, transport.Config{})
	var mu sync.Mutex
	var events []uint64
	var closes []error
	c := dial(t, s.url, &wsclient.Options{
		OnFrame: func(raw []byte) bool {
			f, err := wsclient.Decode(raw)
			if err != nil || f.Type != "event" {
				return false
			}
			mu.Lock()
			events = append(events, f.Seq)
			mu.Unlock()
			return true
		},
		OnClose: func(err error) {
			mu.Lock()
			closes = append(closes, err)
			mu.Unlock()
		},
	})
	ctx := ctxWait(t)
	if _, err := c.Hello(ctx, mint(t, "p-onframe"), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, map[string]any{"type": "chat.start"}); err != nil {
		t.Fatal(err)
	}
	ack, err := c.SendMessage(ctx, wsclient.Message{ClientID: "m1", Text: "hi"})
	if err != nil || ack.Seq != 2 {
		t.Fatalf("ack %+v %v", ack, err)
	}
	shut, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.srv.Shutdown(shut); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatal("socket still open after the server's shutdown")
	}
	if websocket.CloseStatus(c.Err()) != websocket.StatusGoingAway {
		t.Fatalf("Err %v, want close 1001", c.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	// The echo may come before or after the ack: by the end both are in.
	if len(events) != 2 || events[0] != 1 || events[1] != 2 {
		t.Errorf("OnFrame saw events %v, want seqs 1 and 2", events)
	}
	if len(closes) != 1 || closes[0] != c.Err() {
		t.Errorf("OnClose got %v, want once %v", closes, c.Err())
	}
	if f, err := c.Read(ctx); err == nil {
		t.Errorf("Read got %s, which OnFrame handled", f.Raw)
	}
}

// Drain discards what a client that only waits for answers never reads:
// the echoes SendMessage read past, and what is queued.
func TestDrain(t *testing.T) {
	s := start(t, transport.Config{})
	c := dial(t, s.url, nil)
	ctx := ctxWait(t)
	if _, err := c.Hello(ctx, mint(t, "p-drain"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartChat(ctx); err != nil {
		t.Fatal(err)
	}
	for _, cid := range []string{"m1", "m2", "m3"} {
		if _, err := c.SendMessage(ctx, wsclient.Message{ClientID: cid, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	// Each echo came before its ack, or comes soon after it.
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		if n := c.Drain(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing to drain after three messages")
		}
	}
	ack, err := c.SendMessage(ctx, wsclient.Message{ClientID: "m4", Text: "x"})
	if err != nil || ack.Seq != 5 {
		t.Fatalf("after a drain: %+v %v", ack, err)
	}
}
