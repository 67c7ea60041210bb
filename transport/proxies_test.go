package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/transport/twilio"
)

// The test servers listen on loopback: trusting 127.0.0.1 makes the test
// client a proxy.
var loopbackProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// dialVia opens a socket with header, as a proxy in front would send it,
// and returns the status of a refusal (0 when the socket opened; it is
// closed at cleanup).
func (h *harness) dialVia(t *testing.T, header http.Header) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, h.wsURL(), &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		t.Cleanup(func() { _ = ws.CloseNow() })
		return 0
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return resp.StatusCode
}

func forwardedFor(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// Behind a trusted proxy every client has an upgrade budget of its own:
// one that spends its burst holds back neither the next client nor the
// proxy's own requests, and an address a client writes to the left of its
// own does not buy it a new budget.
func TestUpgradeBudgetPerClientBehindTrustedProxy(t *testing.T) {
	h := start(t, Config{ConnRate: 0.01, ConnBurst: 2, TrustedProxies: loopbackProxy})
	for i := range 2 {
		if st := h.dialVia(t, forwardedFor("203.0.113.1")); st != 0 {
			t.Fatalf("client A's socket %d: %d", i, st)
		}
	}
	for name, hdr := range map[string]http.Header{
		"client A again":             forwardedFor("203.0.113.1"),
		"client A spoofing leftmost": forwardedFor("198.51.100.7, 203.0.113.1"),
		"client A spoofing a header": {"X-Forwarded-For": {"198.51.100.8", "203.0.113.1"}},
		"client A by Forwarded":      {"Forwarded": {`for="203.0.113.1:4711"`}},
	} {
		if st := h.dialVia(t, hdr); st != http.StatusTooManyRequests {
			t.Fatalf("%s, past its burst: %d, want 429", name, st)
		}
	}
	for i := range 2 {
		if st := h.dialVia(t, forwardedFor("203.0.113.2")); st != 0 {
			t.Fatalf("client B's socket %d while A is held back: %d", i, st)
		}
	}
	if st := h.dialVia(t, http.Header{"Forwarded": {`for="[2001:db8::1]"`}}); st != 0 {
		t.Fatalf("an IPv6 client while A is held back: %d", st)
	}
	if st := h.dialVia(t, nil); st != 0 {
		t.Fatalf("the proxy itself while A is held back: %d", st)
	}
}

// From a peer that is not trusted the forwarding headers are ignored:
// every address they name shares the peer's one budget, and none escapes
// it.
func TestUpgradeBudgetIgnoresForwardingFromUntrustedPeers(t *testing.T) {
	for name, trusted := range map[string][]netip.Prefix{
		"no trusted proxies":    nil,
		"another range trusted": {netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	} {
		t.Run(name, func(t *testing.T) {
			h := start(t, Config{ConnRate: 0.01, ConnBurst: 2, TrustedProxies: trusted})
			if st := h.dialVia(t, forwardedFor("203.0.113.1")); st != 0 {
				t.Fatalf("first socket: %d", st)
			}
			if st := h.dialVia(t, forwardedFor("203.0.113.2")); st != 0 {
				t.Fatalf("second socket: %d", st)
			}
			for name, hdr := range map[string]http.Header{
				"a third X-Forwarded-For": forwardedFor("203.0.113.3"),
				"a Forwarded":             {"Forwarded": {"for=203.0.113.4"}},
				"no header":               nil,
			} {
				if st := h.dialVia(t, hdr); st != http.StatusTooManyRequests {
					t.Fatalf("%s past the shared burst: %d, want 429", name, st)
				}
			}
		})
	}
}

// Behind a proxy that tells the host the browser asked for (X-Forwarded-Host
// or Forwarded's host=), the server's own pages may open the socket when
// the proxy is trusted, and another site's may not; from a peer that is not
// trusted, the header does not make an origin the server's own. A refusal
// is logged with the client's address and the proxy's.
func TestOriginBehindTrustedProxy(t *testing.T) {
	browser := func(origin string, via http.Header) http.Header {
		hdr := via.Clone()
		hdr.Set("Origin", origin)
		return hdr
	}
	vias := map[string]http.Header{
		"X-Forwarded-Host": {"X-Forwarded-For": {"203.0.113.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"chat.example.com"}},
		"Forwarded":        {"Forwarded": {"for=203.0.113.1;proto=https;host=chat.example.com"}},
	}
	logs := &lockedBuffer{}
	trusted := start(t, Config{TrustedProxies: loopbackProxy, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	untrusted := start(t, Config{})
	for name, via := range vias {
		c := trusted.dial(browser("https://chat.example.com", via))
		c.send(frame{"type": "hello"})
		c.readType("welcome")
		if st := trusted.dialVia(t, browser("https://evil.example.org", via)); st != http.StatusForbidden {
			t.Fatalf("%s: another site through the trusted proxy: %d, want 403", name, st)
		}
		if st := untrusted.dialVia(t, browser("https://chat.example.com", via)); st != http.StatusForbidden {
			t.Fatalf("%s: from an untrusted peer: %d, want 403", name, st)
		}
	}
	if out := logs.String(); !strings.Contains(out, "websocket origin refused") ||
		!strings.Contains(out, "client.addr=203.0.113.1 client.proxy=127.0.0.1") {
		t.Fatalf("the refusal's log does not name the client and the proxy:\n%s", out)
	}
}

// postUpload uploads a tiny image with header and returns the URL.
func (h *harness) postUpload(t *testing.T, header http.Header) string {
	t.Helper()
	body, ct := form(t, filePart("a.png", "image/png", tinyPNG(t)))
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/uploads", bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ URL string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %v", resp.StatusCode, err)
	}
	return out.URL
}

// Upload URLs use the scheme and host the client used, as a trusted proxy
// tells them; --public-url still wins, and an untrusted peer's word counts
// for nothing.
func TestUploadURLBehindTrustedProxy(t *testing.T) {
	via := http.Header{"X-Forwarded-For": {"203.0.113.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"chat.example.com"}}
	trusted := start(t, Config{TrustedProxies: loopbackProxy})
	untrusted := start(t, Config{})
	public := start(t, Config{TrustedProxies: loopbackProxy, PublicURL: "https://parley.example.net/chat"})
	for _, tc := range []struct {
		name   string
		h      *harness
		header http.Header
		want   string
	}{
		{"X-Forwarded-Proto and -Host", trusted, via, "https://chat.example.com/uploads/"},
		{"Forwarded", trusted, http.Header{"Forwarded": {`for=203.0.113.1;proto=https;host="chat.example.com:8443"`}}, "https://chat.example.com:8443/uploads/"},
		{"no headers", trusted, nil, trusted.ts.URL + "/uploads/"},
		{"untrusted peer", untrusted, via, untrusted.ts.URL + "/uploads/"},
		{"public URL", public, via, "https://parley.example.net/chat/uploads/"},
	} {
		if got := tc.h.postUpload(t, tc.header); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: upload URL %q, want %s…", tc.name, got, tc.want)
		}
	}
}

// providerVia posts a text to the inbound webhook as it reaches Parley
// through a proxy (header, and the Host it passes on), signed over the
// URL the provider called.
func (h *harness) providerVia(t *testing.T, called, host string, header http.Header) int {
	t.Helper()
	form := inboundText("SM-proxy", "Hi")
	req, _ := http.NewRequest("POST", h.ts.URL+smsInboundPath, strings.NewReader(form.Encode()))
	for k, v := range header {
		req.Header[k] = v
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Signature(smsToken, called, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// The SMS provider signs the https URL it called. Behind a trusted
// TLS-terminating proxy the signature is checked against that URL, whether
// the proxy passes the host on as Host or as X-Forwarded-Host; without the
// proxy's word, or from a peer that is not trusted, it does not verify.
func TestSMSSignatureBehindTrustedProxy(t *testing.T) {
	called := "https://chat.example.com" + smsInboundPath
	proto := http.Header{"X-Forwarded-For": {"54.172.60.1"}, "X-Forwarded-Proto": {"https"}}
	withHost := http.Header{"X-Forwarded-For": {"54.172.60.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"chat.example.com"}}
	trusted := startSMSWith(t, newFakeTwilio(t), Config{TrustedProxies: loopbackProxy})
	if code := trusted.providerVia(t, called, "chat.example.com", proto); code != 200 {
		t.Fatalf("Host kept, X-Forwarded-Proto https: %d, want 200", code)
	}
	if code := trusted.providerVia(t, called, "", withHost); code != 200 {
		t.Fatalf("X-Forwarded-Proto and X-Forwarded-Host: %d, want 200", code)
	}
	fwd := http.Header{"Forwarded": {"for=54.172.60.1;proto=https;host=chat.example.com"}}
	if code := trusted.providerVia(t, called, "", fwd); code != 200 {
		t.Fatalf("Forwarded: %d, want 200", code)
	}
	if code := trusted.providerVia(t, called, "chat.example.com", nil); code != 403 {
		t.Fatalf("no word of https from the proxy: %d, want 403", code)
	}
	untrusted := startSMSWith(t, newFakeTwilio(t), Config{})
	if code := untrusted.providerVia(t, called, "", withHost); code != 403 {
		t.Fatalf("from an untrusted peer: %d, want 403", code)
	}
	if code := untrusted.providerVia(t, strings.Replace(called, "https", "http", 1), "chat.example.com", nil); code != 200 {
		t.Fatalf("the URL the untrusted peer did reach: %d, want 200", code)
	}
}

// The session cookie is Secure when a trusted proxy says the browser used
// https, and only then.
func TestSessionCookieSecureBehindTrustedProxy(t *testing.T) {
	signIn := func(h *harness, proto string) string {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/session", strings.NewReader(`{"token":"`+adminToken+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", proto)
		resp, err := (&http.Client{Jar: jar}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("sign in: %d", resp.StatusCode)
		}
		return resp.Header.Get("Set-Cookie")
	}
	secure := func(set string) bool { return strings.Contains(set, "; Secure") }
	trusted := start(t, Config{TrustedProxies: loopbackProxy})
	if set := signIn(trusted, "https"); !secure(set) {
		t.Fatalf("through a trusted proxy over https: %q", set)
	}
	if set := signIn(trusted, "http"); secure(set) {
		t.Fatalf("through a trusted proxy over http: %q", set)
	}
	if set := signIn(start(t, Config{}), "https"); secure(set) {
		t.Fatalf("from an untrusted peer: %q", set)
	}
}
