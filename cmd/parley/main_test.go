package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(removingBinary{m}) }

// removingBinary runs the tests, then removes the binary crashBuild made.
type removingBinary struct{ m *testing.M }

func (r removingBinary) Run() int {
	code := r.m.Run()
	if testBinary.dir != "" {
		os.RemoveAll(testBinary.dir)
	}
	return code
}

func TestParseServePrecedence(t *testing.T) {
	env := map[string]string{"PARLEY_ADDR": "127.0.0.1:9999", "PARLEY_DATA": "/env/data", "PARLEY_ALLOWED_ORIGINS": "a.example, b.example"}
	get := func(k string) string { return env[k] }
	c, err := parseServe([]string{"--data", "/flag/data"}, get, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.Data != "/flag/data" || len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "b.example" {
		t.Fatalf("%+v", c)
	}
	if !c.Demo || c.MaxFrameBytes != 65536 {
		t.Fatalf("defaults: %+v", c)
	}
	c, _ = parseServe([]string{"--identity-secret", "s"}, get, io.Discard)
	if c.Demo {
		t.Fatal("demo on with an identity secret")
	}
	c, _ = parseServe([]string{"--demo=false"}, get, io.Discard)
	if c.Demo {
		t.Fatal("--demo=false ignored")
	}
	env["PARLEY_DEMO"] = "true"
	c, _ = parseServe([]string{"--identity-secret", "s"}, get, io.Discard)
	if !c.Demo {
		t.Fatal("PARLEY_DEMO ignored")
	}
	if _, err := parseServe([]string{"--log-level", "loud"}, get, io.Discard); err == nil {
		t.Fatal("bad log level accepted")
	}
}

func TestWALSyncIntervalFlag(t *testing.T) {
	none := func(string) string { return "" }
	c, err := parseServe(nil, none, io.Discard)
	if err != nil || c.WALSync != time.Millisecond {
		t.Fatalf("default --wal-sync-interval = %v, %v; want 1ms", c.WALSync, err)
	}
	c, err = parseServe(nil, func(k string) string { return map[string]string{"PARLEY_WAL_SYNC_INTERVAL": "0"}[k] }, io.Discard)
	if err != nil || c.WALSync != 0 {
		t.Fatalf("PARLEY_WAL_SYNC_INTERVAL=0 gave %v, %v", c.WALSync, err)
	}
	for _, bad := range []string{"-1ms", "11ms", "1s"} {
		_, err := parseServe([]string{"--wal-sync-interval", bad}, none, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--wal-sync-interval") {
			t.Errorf("--wal-sync-interval %s: %v, want an error naming the flag", bad, err)
		}
	}
}

func TestTokenCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"token", "--secret", "S", "--sub", "cust_1", "--name", "Ada", "--ttl", "2h"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	v, err := identity.Verify([]byte("S"), strings.TrimSpace(out.String()), time.Now())
	if err != nil || v.ProfileID != "cust_1" || v.Name != "Ada" {
		t.Fatalf("%+v %v", v, err)
	}
	if code := run(context.Background(), []string{"token", "--sub", "x"}, &out, io.Discard); code != 2 {
		t.Fatalf("missing secret: exit %d", code)
	}
}

// syncBuffer collects the server's log while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var addrRe = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)

// startServe runs `parley serve` on :0 and returns its address and a stop
// function that returns the exit code.
func startServe(t *testing.T, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), io.Discard, logs)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRe.FindStringSubmatch(logs.String()); m != nil {
			return m[1], logs, func() int { cancel(); return <-done }
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("no listening line: %s", logs.String())
	return "", nil, nil
}

func TestServeDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	addr, logs, stop := startServe(t, "--data", dir)
	base := "http://" + addr
	for _, p := range []string{"/healthz", "/readyz", "/", "/metrics"} {
		resp, err := http.Get(base + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
	resp, err := http.Post(base+"/demo/token", "application/json", strings.NewReader(`{"name":"Ada"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("demo token: %v %v", err, resp)
	}
	var tok struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := wsclient.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	w, err := ws.Hello(ctx, tok.Token, nil)
	if err != nil || !w.Visitor.LoggedIn || !slices.ContainsFunc(w.FAQs, func(f wsclient.FAQ) bool { return f.Question == "Where is my order?" }) {
		t.Fatalf("welcome %+v %v", w, err)
	}
	secret := regexp.MustCompile(`(?m)^export PARLEY_IDENTITY_SECRET=(\w+)$`).FindStringSubmatch(logs.String())
	if secret == nil {
		t.Fatalf("no generated secret printed: %s", logs.String())
	}

	// Shutdown closes the socket with 1001 and exits 0.
	codeCh := make(chan int, 1)
	go func() { codeCh <- stop() }()
	_, _, err = ws.ReadMessage(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("close on shutdown: %v", err)
	}
	if code := <-codeCh; code != 0 {
		t.Fatalf("exit %d: %s", code, logs.String())
	}

	// A restart keeps the generated secret, so shopper tokens stay valid,
	// and does not print it again.
	_, logs2, stop2 := startServe(t, "--data", dir)
	if kept, _ := readSecretFile(dir, secretFile); kept != secret[1] {
		t.Fatalf("secret changed across restart: %q, was %q", kept, secret[1])
	}
	if strings.Contains(logs2.String(), secret[1]) {
		t.Fatalf("the restart printed the secret again: %s", logs2.String())
	}
	if strings.Contains(logs2.String(), "sample FAQs") {
		t.Fatal("seeded twice")
	}
	if code := stop2(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
