package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

var errTimeout = errors.New("timed out waiting for a frame")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(closingBrowser{m})
}

// closingBrowser runs the tests, then closes the browser the page tests
// started, before goleak looks for goroutines left behind.
type closingBrowser struct{ m *testing.M }

func (c closingBrowser) Run() int {
	code := c.m.Run()
	stopChromium()
	return code
}

var (
	testSecret = []byte("test-identity-secret")
	adminToken = "test-admin-token"
)

type harness struct {
	t     testing.TB
	srv   *Server
	sys   *actors.System
	store *persist.Store // for what no served endpoint writes yet (profiles)
	ts    *httptest.Server
	reg   *prometheus.Registry
}

func quietLogger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// start runs a real server: Pebble on a temp dir, the actor system, and the
// transport behind httptest.
func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	return startWith(t, cfg, actors.Config{})
}

// startWith is start with the actor system configured by acfg.
func startWith(t testing.TB, cfg Config, acfg actors.Config) *harness {
	t.Helper()
	log := quietLogger()
	store, err := persist.Open(persist.Options{Dir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	sys, err := actors.Start(store, acfg, reg, log)
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
	if cfg.IdentitySecret == nil {
		cfg.IdentitySecret = testSecret
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = adminToken
	}
	if cfg.Logger == nil {
		cfg.Logger = log
	}
	srv := New(sys, cfg, reg)
	ts := httptest.NewServer(srv.Handler())
	h := &harness{t: t, srv: srv, sys: sys, store: store, ts: ts, reg: reg}
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
	return h
}

func (h *harness) wsURL() string { return "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/ws" }

func token(t testing.TB, profile, name string) string {
	t.Helper()
	tok, err := identity.Mint(testSecret, engine.Visitor{ProfileID: profile, Name: name}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a shopper's socket as a test drives it.
type client struct {
	t    testing.TB
	conn *wsclient.Conn
	ws   *websocket.Conn // conn's socket, for tests that write to it or close it themselves
}

func (h *harness) dial(header http.Header) *client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := wsclient.Dial(ctx, h.wsURL(), &wsclient.Options{Header: header})
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	c := &client{t: h.t, conn: conn, ws: conn.Socket()}
	h.t.Cleanup(conn.Close)
	return c
}

// hello dials and says hello with token (may be empty), returning the welcome.
func (h *harness) hello(tok string) (*client, frame) {
	h.t.Helper()
	c := h.dial(nil)
	f := frame{"type": "hello"}
	if tok != "" {
		f["token"] = tok
	}
	c.send(f)
	w := c.read()
	if w["type"] != "welcome" {
		h.t.Fatalf("expected welcome, got %v", w)
	}
	return c, w
}

type frame = map[string]any

func (c *client) send(f frame) {
	c.t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageText, b)
}

func (c *client) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.WriteMessage(ctx, typ, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one frame or returns the read error.
func (c *client) next(d time.Duration) (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := c.conn.ReadMessage(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errTimeout
		}
		return nil, err
	}
	var f frame
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		c.t.Fatalf("server sent non-JSON %q: %v", b, err)
	}
	return f, nil
}

func (c *client) read() frame {
	c.t.Helper()
	f, err := c.next(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// readType reads frames until one of type typ, failing on any error frame
// unless typ is "error".
func (c *client) readType(typ string) frame {
	c.t.Helper()
	for {
		f := c.read()
		if f["type"] == typ {
			return f
		}
		if f["type"] == "error" {
			c.t.Fatalf("expected %s, got error %v", typ, f)
		}
	}
}

// expectError reads the next frame and checks it is an error with code.
func (c *client) expectError(code string) frame {
	c.t.Helper()
	f := c.read()
	if f["type"] != "error" || f["code"] != code {
		c.t.Fatalf("expected error %s, got %v", code, f)
	}
	return f
}

// expectClose reads until the socket closes and checks the close status.
func (c *client) expectClose(code websocket.StatusCode) {
	c.t.Helper()
	for {
		_, err := c.next(10 * time.Second)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != code {
			c.t.Fatalf("expected close %d, got %d (%v)", code, got, err)
		}
		return
	}
}

// quiet checks that nothing arrives for a moment.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	f, err := c.next(d)
	if err == nil {
		c.t.Fatalf("expected no frame, got %v", f)
	}
}

func num(v any) uint64 {
	n, _ := v.(json.Number).Int64()
	return uint64(n)
}

// do makes an API request with a bearer token and decodes a JSON answer.
func (h *harness) do(method, path, bearer string, body any) (int, map[string]any, http.Header) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, h.ts.URL+path, rd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			h.t.Fatalf("%s %s: bad JSON %q", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func errCode(body map[string]any) (code, field string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

func mintAt(t *testing.T, now time.Time) (string, error) {
	t.Helper()
	return identity.Mint(testSecret, engine.Visitor{ProfileID: "p1", Name: "Ada"}, time.Hour, now)
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
