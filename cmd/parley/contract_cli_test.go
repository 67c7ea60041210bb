package main

// Black-box tests of the command line and start-up behaviour that
// PROTOCOL.md makes part of the contract (section 4 from "The
// command line is part of the contract too", and section 1's token helper),
// run against the real binary: flags, their PARLEY_<NAME> variables, the
// zero-flag demo, `parley token`, `parley backup`, bad usage, the health and
// metrics endpoints, and SIGTERM. Every process gets an environment without
// PARLEY_* variables (plus what a test sets) and a temporary working folder.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// cliWait bounds every wait for something the binary should do.
const cliWait = 10 * time.Second

// cliBin returns the real binary, built once for the package's tests.
func cliBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	return crashBuild(t)
}

// cliEnv is this process's environment without PARLEY_* variables, plus extra.
func cliEnv(extra ...string) []string { return append(childEnv(), extra...) }

// cliRun runs the binary to completion in dir and returns its output and exit code.
func cliRun(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBin(t), args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("parley %q still running after %v (it must exit):\n%s", args, cliWait, errb.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("parley %q: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// cliProc is one running `parley serve`.
type cliProc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	addr string
	done chan struct{}
}

var cliListenRe = regexp.MustCompile(`msg=listening addr=(\S+)`)

// cliServe starts `parley <args...>` in dir and waits until it listens and
// /readyz answers 200. The test's cleanup kills it. With skipBusy, a listen
// address already in use skips the test instead of failing it.
func cliServe(t *testing.T, dir string, env []string, skipBusy bool, args ...string) *cliProc {
	t.Helper()
	p := &cliProc{logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(cliBin(t), args...)
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // an error only says it has exited already
		<-p.done
	})
	deadline := time.Now().Add(cliWait)
	for p.addr == "" {
		if m := cliListenRe.FindStringSubmatch(p.logs.String()); m != nil {
			p.addr = m[1]
			break
		}
		select {
		case <-p.done:
			if skipBusy && strings.Contains(p.logs.String(), "address already in use") {
				t.Skipf("the listen address is in use by another process:\n%s", p.logs.String())
			}
			t.Fatalf("parley %q exited (%v) before listening:\n%s", args, p.cmd.ProcessState, p.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("parley %q: no listening line in %v:\n%s", args, cliWait, p.logs.String())
		}
	}
	c := cliClient(t)
	for {
		if code, _, _ := cliDo(t, c, "GET", "http://"+p.addr+"/readyz", "", ""); code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within %v:\n%s", cliWait, p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sigterm stops the server with SIGTERM and returns its exit code.
func (p *cliProc) sigterm(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(cliWait):
		t.Fatalf("still running %v after SIGTERM:\n%s", cliWait, p.logs.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// cliClient is an HTTP client whose connections the test's cleanup closes.
func cliClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: cliWait}
}

// cliDo makes one request and returns its status, body and headers; a
// transport error is status 0.
func cliDo(t *testing.T, c *http.Client, method, url, bearer, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// cliFrame is the part of a server frame these tests read.
type cliFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Visitor struct {
		LoggedIn  bool    `json:"logged_in"`
		ProfileID *string `json:"profile_id"`
		Name      *string `json:"name"`
	} `json:"visitor"`
	FAQs []struct {
		ID       string `json:"id"`
		Question string `json:"question"`
	} `json:"faqs"`
	Conversation json.RawMessage `json:"conversation"`
	ClientID     string          `json:"client_id"`
	Seq          uint64          `json:"seq"`
	Event        struct {
		Kind string `json:"kind"`
	} `json:"event"`
}

// cliDial opens /ws with the given Origin header ("" for none) and returns
// the socket, or the HTTP status of the refusal.
func cliDial(t *testing.T, addr, origin string) (*wsclient.Conn, int) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	defer cancel()
	ws, err := wsclient.Dial(ctx, "ws://"+addr+"/ws", &wsclient.Options{HTTPClient: &http.Client{Transport: tr}, Origin: origin})
	if err != nil {
		var refused *wsclient.HandshakeError
		if !errors.As(err, &refused) {
			t.Fatalf("dial with Origin %q: %v", origin, err)
		}
		return nil, refused.StatusCode
	}
	t.Cleanup(ws.Close)
	return ws, http.StatusSwitchingProtocols
}

func cliSend(t *testing.T, ws *wsclient.Conn, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	defer cancel()
	if err := ws.Send(ctx, v); err != nil {
		t.Fatalf("write %v: %v", v, err)
	}
}

// cliRead returns the next frame, or the error that ended the socket.
func cliRead(t *testing.T, ws *wsclient.Conn) (cliFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliWait)
	defer cancel()
	_, b, err := ws.ReadMessage(ctx)
	if err != nil {
		return cliFrame{}, err
	}
	var f cliFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	return f, nil
}

// cliHello dials without an Origin, says hello with token (nil: anonymous)
// and returns the socket and the first frame.
func cliHello(t *testing.T, addr string, token any) (*wsclient.Conn, cliFrame) {
	t.Helper()
	ws, code := cliDial(t, addr, "")
	if ws == nil {
		t.Fatalf("dial: HTTP %d", code)
	}
	cliSend(t, ws, map[string]any{"type": "hello", "token": token})
	f, err := cliRead(t, ws)
	if err != nil {
		t.Fatalf("no answer to hello: %v", err)
	}
	return ws, f
}

// cliLoggedIn checks that token is accepted in hello as profile sub.
func cliLoggedIn(t *testing.T, addr, token, sub string) {
	t.Helper()
	ws, f := cliHello(t, addr, token)
	defer ws.Close()
	if f.Type != "welcome" || !f.Visitor.LoggedIn || f.Visitor.ProfileID == nil || *f.Visitor.ProfileID != sub {
		t.Errorf("hello with a token for %q: first frame %+v, want a welcome of that logged-in visitor", sub, f)
	}
}

// cliRefused checks that token is refused in hello: error unauthorized, close 1008.
func cliRefused(t *testing.T, addr, token string) {
	t.Helper()
	ws, f := cliHello(t, addr, token)
	defer ws.Close()
	if f.Type != "error" || f.Code != "unauthorized" {
		t.Errorf("hello with a token of the wrong secret: first frame %+v, want error unauthorized", f)
	}
	if _, err := cliRead(t, ws); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("hello with a token of the wrong secret: socket ended with %v, want close 1008", err)
	}
}

// cliMint mints an identity token the way a store would, with an
// independent JWT library and the secret as its raw bytes.
func cliMint(t *testing.T, secret, sub string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "name": "Store Minted", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// cliCheckJWT verifies tok independently as PROTOCOL §1 describes it and
// returns its claims, with exp as the JSON number it must be.
func cliCheckJWT(t *testing.T, tok, secret string, ttl time.Duration) map[string]any {
	t.Helper()
	parsed, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()).
		Parse(tok, func(*jwt.Token) (any, error) { return []byte(secret), nil })
	if err != nil {
		t.Fatalf("token %q does not verify as an HS256 JWT with the secret's raw bytes: %v", tok, err)
	}
	if parsed.Header["alg"] != "HS256" || parsed.Header["typ"] != "JWT" {
		t.Errorf("header %v, want {\"alg\":\"HS256\",\"typ\":\"JWT\"}", parsed.Header)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		t.Fatalf("claims %s: %v", payload, err)
	}
	exp, ok := claims["exp"].(json.Number)
	if !ok {
		t.Fatalf("exp in %s is %T, want a JSON number (NumericDate)", payload, claims["exp"])
	}
	n, err := exp.Int64()
	want := time.Now().Add(ttl).Unix()
	if err != nil || n < want-60 || n > want+60 {
		t.Errorf("exp %s, want about now+%v (%d)", exp, ttl, want)
	}
	return claims
}

// TestContractCLIToken: `parley token --secret S --sub ID [--name N]
// [--email E] [--ttl 1h]` prints a standard HS256 JWT (PROTOCOL §1) that the
// server accepts in hello; so does the Go function.
func TestContractCLIToken(t *testing.T) {
	const secret = "cli-store-secret"
	dir := t.TempDir()
	out, errOut, code := cliRun(t, dir, cliEnv(), "token", "--secret", secret, "--sub", "cust_42",
		"--name", "Ada Lovelace", "--email", "ada@example.com", "--ttl", "2h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(out, "\n") != 1 || strings.TrimSpace(out) == "" {
		t.Fatalf("stdout %q, want the token on one line", out)
	}
	tok := strings.TrimSpace(out)
	claims := cliCheckJWT(t, tok, secret, 2*time.Hour)
	for k, want := range map[string]string{"sub": "cust_42", "name": "Ada Lovelace", "email": "ada@example.com"} {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %q", k, claims[k], want)
		}
	}

	// --ttl defaults to an hour.
	out, errOut, code = cliRun(t, dir, cliEnv(), "token", "--secret", secret, "--sub", "cust_43")
	if code != 0 {
		t.Fatalf("without --ttl: exit %d: %s", code, errOut)
	}
	cliCheckJWT(t, strings.TrimSpace(out), secret, time.Hour)

	// The Go function mints the same kind of token.
	goTok, err := identity.Mint([]byte(secret), engine.Visitor{ProfileID: "cust_44", Name: "Go", Email: "go@example.com"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c := cliCheckJWT(t, goTok, secret, time.Hour); c["sub"] != "cust_44" || c["name"] != "Go" || c["email"] != "go@example.com" {
		t.Errorf("identity.Mint claims %v", c)
	}

	// The server accepts both in hello, and refuses a token of another secret.
	p := cliServe(t, dir, cliEnv(), false, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"),
		"--identity-secret", secret, "--admin-token", "cli-admin")
	ws, f := cliHello(t, p.addr, tok)
	if f.Type != "welcome" || !f.Visitor.LoggedIn || f.Visitor.ProfileID == nil || *f.Visitor.ProfileID != "cust_42" ||
		f.Visitor.Name == nil || *f.Visitor.Name != "Ada Lovelace" {
		t.Errorf("hello with the `parley token` token: %+v", f)
	}
	ws.Close()
	cliLoggedIn(t, p.addr, goTok, "cust_44")
	cliRefused(t, p.addr, cliMint(t, "another-secret", "cust_42"))
	if code := p.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// TestContractCLITokenUsage: bad usage of `parley token` exits non-zero,
// prints no token, and names what is wrong.
func TestContractCLITokenUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		say  string
	}{
		{"no --secret", []string{"--sub", "cust_1"}, "--secret"},
		{"no --sub", []string{"--secret", "S"}, "--sub"},
		{"nothing", nil, "--secret"},
		{"bad --ttl", []string{"--secret", "S", "--sub", "cust_1", "--ttl", "soon"}, "ttl"},
		{"unknown flag", []string{"--secret", "S", "--sub", "cust_1", "--colour", "red"}, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cliRun(t, dir, cliEnv(), append([]string{"token"}, tc.args...)...)
			if code == 0 || out != "" || !strings.Contains(errOut, tc.say) {
				t.Errorf("exit %d, stdout %q, stderr %q; want a non-zero exit naming %q", code, out, errOut, tc.say)
			}
		})
	}
}

// cliServeCheck checks what a server started from secret, admin and
// origins must do; wrong* are the values that must not be in effect.
func cliServeCheck(t *testing.T, p *cliProc, secret, wrongSecret, admin, wrongAdmin string, allowed, refused []string) {
	t.Helper()
	c := cliClient(t)
	settings := "http://" + p.addr + "/api/v1/settings"
	if code, body, _ := cliDo(t, c, "GET", settings, admin, ""); code != http.StatusOK {
		t.Errorf("GET /api/v1/settings with the admin token %q: %d %s", admin, code, body)
	}
	if code, _, _ := cliDo(t, c, "GET", settings, wrongAdmin, ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/settings with %q, not the admin token: %d, want 401", wrongAdmin, code)
	}
	cliLoggedIn(t, p.addr, cliMint(t, secret, "cust_env"), "cust_env")
	cliRefused(t, p.addr, cliMint(t, wrongSecret, "cust_env"))
	for _, o := range allowed {
		if ws, code := cliDial(t, p.addr, o); ws == nil {
			t.Errorf("Origin %s: HTTP %d, want the socket (it is allowed)", o, code)
		} else {
			ws.Close()
		}
	}
	for _, o := range refused {
		if ws, code := cliDial(t, p.addr, o); code != http.StatusForbidden {
			if ws != nil {
				ws.Close()
			}
			t.Errorf("Origin %s: HTTP %d, want 403 (it is not allowed)", o, code)
		}
	}
}

// TestContractCLIServeEnv: every `serve` flag of PROTOCOL §4 reads
// PARLEY_<NAME>; --data is created if missing.
func TestContractCLIServeEnv(t *testing.T) {
	wd := t.TempDir()
	data := filepath.Join(wd, "env", "nested", "data")
	p := cliServe(t, wd, cliEnv(
		"PARLEY_ADDR=127.0.0.1:0",
		"PARLEY_DATA="+data,
		"PARLEY_IDENTITY_SECRET=env-secret",
		"PARLEY_ADMIN_TOKEN=env-admin",
		"PARLEY_ALLOWED_ORIGINS=https://a.example, b.example",
	), false, "serve")
	if strings.HasSuffix(p.addr, ":8080") {
		t.Errorf("listening on %s: PARLEY_ADDR=127.0.0.1:0 ignored", p.addr)
	}
	if st, err := os.Stat(data); err != nil || !st.IsDir() {
		t.Errorf("PARLEY_DATA=%s: not created: %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(wd, "data")); err == nil {
		t.Errorf("./data was created although PARLEY_DATA names another directory")
	}
	cliServeCheck(t, p, "env-secret", "other-secret", "env-admin", "other-admin",
		[]string{"https://a.example", "https://b.example", "http://b.example"},
		[]string{"https://evil.example", "http://a.example"})
	if code := p.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// TestContractCLIServeFlagWins: an explicit flag wins over its PARLEY_<NAME>.
func TestContractCLIServeFlagWins(t *testing.T) {
	wd := t.TempDir()
	envData, flagData := filepath.Join(wd, "env-data"), filepath.Join(wd, "flag", "a", "b")
	p := cliServe(t, wd, cliEnv(
		"PARLEY_ADDR=not-an-address", // would fail to listen
		"PARLEY_DATA="+envData,
		"PARLEY_IDENTITY_SECRET=env-secret",
		"PARLEY_ADMIN_TOKEN=env-admin",
		"PARLEY_ALLOWED_ORIGINS=https://env.example",
	), false, "serve", "--addr", "127.0.0.1:0", "--data", flagData, "--identity-secret", "flag-secret",
		"--admin-token", "flag-admin", "--allowed-origins", "https://flag.example,https://flag2.example")
	if st, err := os.Stat(flagData); err != nil || !st.IsDir() {
		t.Errorf("--data %s: not created: %v", flagData, err)
	}
	if _, err := os.Stat(envData); err == nil {
		t.Errorf("PARLEY_DATA %s was created although --data was given", envData)
	}
	cliServeCheck(t, p, "flag-secret", "env-secret", "flag-admin", "env-admin",
		[]string{"https://flag.example", "https://flag2.example"}, []string{"https://env.example"})
	if code := p.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}
