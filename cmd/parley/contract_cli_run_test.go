package main

// The rest of the command line's black-box tests (see contract_cli_test.go):
// the zero-flag demo, bad usage, the health and metrics endpoints of the real
// binary, and `parley backup`.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

var (
	cliSecretRe = regexp.MustCompile(`(?m)^export PARLEY_IDENTITY_SECRET=(\S+)$`)
	cliAdminRe  = regexp.MustCompile(`(?m)^export PARLEY_ADMIN_TOKEN=(\S+)$`)
)

// cliCredentials returns the generated secret and admin token from the
// export lines of a first start's output, each of which must be printed
// exactly once, and nowhere else in the output.
func cliCredentials(t *testing.T, logs string) (secret, admin string) {
	t.Helper()
	s, a := cliSecretRe.FindAllStringSubmatch(logs, -1), cliAdminRe.FindAllStringSubmatch(logs, -1)
	if len(s) != 1 || len(a) != 1 {
		t.Fatalf("want the generated identity secret and admin token printed once each; log:\n%s", logs)
	}
	secret, admin = s[0][1], a[0][1]
	if strings.Count(logs, secret) != 1 || strings.Count(logs, admin) != 1 {
		t.Fatalf("a generated credential appears outside its export line; log:\n%s", logs)
	}
	return secret, admin
}

// cliKeptCredentials checks that a later start, run in wd with --data data,
// printed neither credential but named the files that keep them, and
// returns what the files hold.
func cliKeptCredentials(t *testing.T, logs, wd, data string) (secret, admin string) {
	t.Helper()
	secret, _ = readSecretFile(filepath.Join(wd, data), secretFile)
	admin, _ = readSecretFile(filepath.Join(wd, data), adminFile)
	if secret == "" || admin == "" {
		t.Fatalf("no kept credentials in %s", data)
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, admin) || strings.Contains(logs, "export PARLEY_") {
		t.Fatalf("a later start printed a kept credential; log:\n%s", logs)
	}
	for _, f := range []string{secretFile, adminFile} {
		if !strings.Contains(logs, f+"_file="+filepath.Join(data, f)) {
			t.Fatalf("a later start does not say that %s is kept in %s; log:\n%s", f, filepath.Join(data, f), logs)
		}
	}
	return secret, admin
}

// cliWelcomeFAQs says hello anonymously and returns the welcome's FAQs.
func cliWelcomeFAQs(t *testing.T, addr string) []string {
	t.Helper()
	ws, f := cliHello(t, addr, nil)
	defer ws.Close()
	if f.Type != "welcome" {
		t.Fatalf("anonymous hello: %+v", f)
	}
	var qs []string
	for _, q := range f.FAQs {
		qs = append(qs, q.Question)
	}
	return qs
}

// cliDemoToken asks the demo page's endpoint for a demo shopper's token.
func cliDemoToken(t *testing.T, c *http.Client, addr string) (token, profile string) {
	t.Helper()
	code, body, _ := cliDo(t, c, "POST", "http://"+addr+"/demo/token", "", `{"name":"Demo Ada"}`)
	var ans struct {
		Token     string `json:"token"`
		ProfileID string `json:"profile_id"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &ans) != nil || ans.Token == "" {
		t.Fatalf("POST /demo/token: %d %s", code, body)
	}
	return ans.Token, ans.ProfileID
}

// TestContractCLIZeroFlagDemo: `parley serve` with no flags at all (and no
// PARLEY_* variables) starts a working demo on 127.0.0.1:8080: a data
// directory in the working folder, a generated secret and admin token
// printed once and kept for the next start, a demo page at /, a demo
// shopper whose token the server mints, sample FAQs in the welcome; SIGTERM
// closes sockets with 1001 and exits 0.
func TestContractCLIZeroFlagDemo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Skipf("127.0.0.1:8080, the default address, is busy: %v", err)
	}
	ln.Close()
	wd := t.TempDir()
	c := cliClient(t)
	p := cliServe(t, wd, cliEnv(), true, "serve")
	if p.addr != "127.0.0.1:8080" {
		t.Errorf("listening on %s, want the default 127.0.0.1:8080", p.addr)
	}
	base := "http://" + p.addr
	if st, err := os.Stat(filepath.Join(wd, "data")); err != nil || !st.IsDir() {
		t.Errorf("no data directory in the working folder: %v", err)
	}
	secret, admin := cliCredentials(t, p.logs.String())
	if code, body, _ := cliDo(t, c, "GET", base+"/api/v1/settings", admin, ""); code != http.StatusOK {
		t.Errorf("the logged admin token: GET /api/v1/settings %d %s", code, body)
	}
	cliLoggedIn(t, p.addr, cliMint(t, secret, "cust_store"), "cust_store")

	// The demo page's button is checked by TestContractCLIDemoPageLogin.
	if code, _, hdr := cliDo(t, c, "GET", base+"/", "", ""); code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %d %q, want the demo page", code, hdr.Get("Content-Type"))
	}
	demoTok, demoProfile := cliDemoToken(t, c, p.addr)
	cliCheckJWT(t, demoTok, secret, time.Hour) // minted with the generated secret
	ws, f := cliHello(t, p.addr, demoTok)
	if f.Type != "welcome" || !f.Visitor.LoggedIn || f.Visitor.ProfileID == nil || *f.Visitor.ProfileID != demoProfile {
		t.Errorf("hello as the demo shopper: %+v", f)
	}
	faqs := cliWelcomeFAQs(t, p.addr)
	if len(faqs) < 2 {
		t.Errorf("welcome FAQs %q, want a few sample FAQs", faqs)
	}

	// SIGTERM: the socket is told to reconnect (1001) and the process exits 0.
	// The socket is read meanwhile, so that its close handshake completes.
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cliWait)
		defer cancel()
		for {
			if _, _, err := ws.ReadMessage(ctx); err != nil {
				closed <- err
				return
			}
		}
	}()
	if code := p.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.logs.String())
	}
	if err := <-closed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("socket on SIGTERM: %v, want close 1001", err)
	}
	ws.Close()

	// The next zero-flag start from the same folder keeps both credentials
	// (tokens minted before still work) without printing them, and does
	// not seed the FAQs again.
	p2 := cliServe(t, wd, cliEnv(), true, "serve")
	secret2, admin2 := cliKeptCredentials(t, p2.logs.String(), wd, "data")
	if secret2 != secret || admin2 != admin {
		t.Errorf("second start keeps other credentials: secret %q→%q, admin token %q→%q", secret, secret2, admin, admin2)
	}
	if code, _, _ := cliDo(t, c, "GET", "http://"+p2.addr+"/api/v1/settings", admin, ""); code != http.StatusOK {
		t.Errorf("first start's admin token after a restart: %d", code)
	}
	cliLoggedIn(t, p2.addr, demoTok, demoProfile)
	if again := cliWelcomeFAQs(t, p2.addr); len(again) != len(faqs) {
		t.Errorf("FAQs after a restart %q, before %q", again, faqs)
	}
	if code := p2.sigterm(t); code != 0 {
		t.Errorf("second start: exit %d after SIGTERM", code)
	}
}

// TestContractCLIDemoOff: --demo=false (or PARLEY_DEMO=false) turns the
// demo page off.
func TestContractCLIDemoOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--demo=false"}},
		{"env", []string{"PARLEY_DEMO=false"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wd := t.TempDir()
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(wd, "data")}, tc.args...)
			p := cliServe(t, wd, cliEnv(tc.env...), false, args...)
			c := cliClient(t)
			if code, body, _ := cliDo(t, c, "GET", "http://"+p.addr+"/", "", ""); code != http.StatusNotFound {
				t.Errorf("GET / with the demo off: %d %.200s, want 404", code, body)
			}
			if code, _, _ := cliDo(t, c, "POST", "http://"+p.addr+"/demo/token", "", `{}`); code == http.StatusOK {
				t.Errorf("POST /demo/token with the demo off: 200, want a refusal")
			}
			if code := p.sigterm(t); code != 0 {
				t.Errorf("exit %d after SIGTERM", code)
			}
		})
	}
}

// TestContractCLIBadUsage: unknown commands, unknown flags and bad values
// (as flags or as PARLEY_<NAME>) exit non-zero at once with a message that
// names the culprit.
func TestContractCLIBadUsage(t *testing.T) {
	wd := t.TempDir()
	data := filepath.Join(wd, "data")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		say  string
	}{
		{"unknown command", nil, []string{"frobnicate"}, "frobnicate"},
		{"serve unknown flag", nil, []string{"serve", "--data", data, "--colour", "red"}, "colour"},
		{"serve bad int", nil, []string{"serve", "--data", data, "--max-frame-bytes", "lots"}, "max-frame-bytes"},
		{"serve bad bool", nil, []string{"serve", "--data", data, "--demo=maybe"}, "demo"},
		{"serve bad level", nil, []string{"serve", "--data", data, "--log-level", "loud"}, "log-level"},
		{"serve stray argument", nil, []string{"serve", "--data", data, "stray"}, "stray"},
		{"serve bad address", nil, []string{"serve", "--data", data, "--addr", "not-an-address"}, "not-an-address"},
		{"serve bad env int", []string{"PARLEY_MAX_FRAME_BYTES=lots"}, []string{"serve", "--data", data}, "PARLEY_MAX_FRAME_BYTES"},
		{"serve bad env bool", []string{"PARLEY_DEMO=maybe"}, []string{"serve", "--data", data}, "PARLEY_DEMO"},
		{"backup unknown flag", nil, []string{"backup", "--colour", "red"}, "colour"},
		{"backup no --to", nil, []string{"backup", "--addr", "127.0.0.1:1", "--admin-token", "T"}, "--to"},
		{"backup no --admin-token", nil, []string{"backup", "--addr", "127.0.0.1:1", "--to", filepath.Join(wd, "b")}, "--admin-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cliRun(t, wd, cliEnv(tc.env...), tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.say) {
				t.Errorf("exit %d, stdout %q, stderr %q; want a non-zero exit naming %q", code, out, errOut, tc.say)
			}
		})
	}
}

// TestContractCLIOperations: /healthz, /readyz and /metrics as the real
// binary serves them, on the main listener or only on --metrics-addr.
func TestContractCLIOperations(t *testing.T) {
	wd := t.TempDir()
	c := cliClient(t)
	p := cliServe(t, wd, cliEnv(), false, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(wd, "d1"), "--identity-secret", "S")
	base := "http://" + p.addr
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body, _ := cliDo(t, c, "GET", base+path, "", ""); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	cliCheckMetrics(t, c, base+"/metrics")
	if code := p.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}

	p = cliServe(t, wd, cliEnv(), false, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(wd, "d2"),
		"--identity-secret", "S", "--metrics-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`).FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatalf("no metrics listening line:\n%s", p.logs.String())
	}
	cliCheckMetrics(t, c, "http://"+m[1]+"/metrics")
	if code, _, _ := cliDo(t, c, "GET", "http://"+p.addr+"/metrics", "", ""); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the main listener with --metrics-addr: %d, want 404 (only on --metrics-addr)", code)
	}
	if code, _, _ := cliDo(t, c, "GET", "http://"+p.addr+"/readyz", "", ""); code != http.StatusOK {
		t.Errorf("GET /readyz with --metrics-addr: %d", code)
	}
	if code := p.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// cliCheckMetrics checks that url serves Prometheus text whose every
// metric name starts with parley_.
func cliCheckMetrics(t *testing.T, c *http.Client, url string) {
	t.Helper()
	code, body, hdr := cliDo(t, c, "GET", url, "", "")
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %q", url, code, hdr.Get("Content-Type"))
	}
	n := 0
	for _, line := range strings.Split(body, "\n") {
		name := ""
		switch {
		case strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE "):
			name = strings.Fields(line)[2]
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		default:
			name = strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]
		}
		n++
		if !strings.HasPrefix(name, "parley_") {
			t.Errorf("%s serves the metric %s: every name starts with parley_", url, name)
		}
	}
	if n == 0 {
		t.Errorf("%s serves no metrics", url)
	}
}

// TestContractCLIBackup: `parley backup --addr --admin-token --to DIR` from
// the real binary writes a checkpoint that a server started with --data DIR
// serves with the message acknowledged before; an existing DIR is refused.
func TestContractCLIBackup(t *testing.T) {
	const secret, admin = "cli-backup-secret", "cli-backup-admin"
	wd := t.TempDir()
	src := cliServe(t, wd, cliEnv(), false, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(wd, "src"),
		"--identity-secret", secret, "--admin-token", admin)
	ws, f := cliHello(t, src.addr, cliMint(t, secret, "cust_backup"))
	if f.Type != "welcome" {
		t.Fatalf("hello: %+v", f)
	}
	cliSend(t, ws, map[string]any{"type": "chat.start"})
	cliSend(t, ws, map[string]any{"type": "message.send", "client_id": "cli-m1", "text": "back me up"})
	var ack cliFrame
	for ack.Type != "ack" {
		var err error
		if ack, err = cliRead(t, ws); err != nil || ack.Type == "error" {
			t.Fatalf("waiting for the ack: %+v %v", ack, err)
		}
	}
	ws.Close()
	var conv string
	if err := json.Unmarshal(ack.Conversation, &conv); err != nil || conv == "" || ack.Seq == 0 {
		t.Fatalf("ack %+v", ack)
	}

	dir := filepath.Join(wd, "backup")
	out, errOut, code := cliRun(t, wd, cliEnv(), "backup", "--addr", src.addr, "--admin-token", admin, "--to", dir)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("backup printed %q but wrote no %s: %v", out, dir, err)
	}
	empty := filepath.Join(wd, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, existing := range []string{dir, empty} {
		out, errOut, code := cliRun(t, wd, cliEnv(), "backup", "--addr", src.addr, "--admin-token", admin, "--to", existing)
		if code == 0 || !strings.Contains(errOut, "exist") {
			t.Errorf("backup to the existing %s: exit %d, stdout %q, stderr %q; want a refusal", existing, code, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("a refused backup wrote into %s", empty)
	}
	if code := src.sigterm(t); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}

	dst := cliServe(t, wd, cliEnv(), false, "serve", "--addr", "127.0.0.1:0", "--data", dir,
		"--identity-secret", secret, "--admin-token", admin)
	code, body, _ := cliDo(t, cliClient(t), "GET", "http://"+dst.addr+"/api/v1/tickets/"+conv, admin, "")
	var tk struct {
		Events []struct {
			Seq   uint64 `json:"seq"`
			Event struct {
				Kind     string `json:"kind"`
				ClientID string `json:"client_id"`
				Text     string `json:"text"`
			} `json:"event"`
		} `json:"events"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &tk) != nil {
		t.Fatalf("GET the ticket from the restored backup: %d %s", code, body)
	}
	found := false
	for _, e := range tk.Events {
		found = found || (e.Seq == ack.Seq && e.Event.ClientID == "cli-m1" && e.Event.Text == "back me up")
	}
	if !found {
		t.Errorf("the restored backup lacks the message acknowledged as seq %d: %s", ack.Seq, body)
	}
	if code := dst.sigterm(t); code != 0 {
		t.Errorf("restored server: exit %d after SIGTERM", code)
	}
}
