package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/webhook"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var t0 = time.Date(2026, 5, 4, 9, 12, 3, 0, time.UTC)

// delivery is a request as a receiver got it.
type delivery struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// receiver is a stand-in for a store's endpoint: it passes each request
// it gets to the test, counts them, and answers with answer.
type receiver struct {
	*httptest.Server
	got   chan delivery
	count atomic.Int32
}

func newReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{got: make(chan delivery, 10)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.count.Add(1)
		body, _ := io.ReadAll(req.Body)
		r.got <- delivery{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), body}
		answer(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	default:
		t.Fatal("the receiver got no request")
		return delivery{}
	}
}

func ok(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }

// sender is s, its connections closed when the test ends.
func sender(t *testing.T, s *webhook.Sender) *webhook.Sender {
	t.Cleanup(s.CloseIdleConnections)
	return s
}

// fixed is a clock that reads what at holds.
func fixed(at *time.Time) func() time.Time { return func() time.Time { return *at } }

func hook(u string) engine.Webhook {
	return engine.Webhook{ID: "wh_1", URL: u, Events: []string{engine.WebhookTicketCreated}, Secret: testSecret}
}

// body is a message's body as the outbox might make it, with white space
// and characters that a decode and re-encode would change.
const body = `{"type":"ticket.created", "timestamp":"2026-05-04T09:12:03Z","data":{"ticket":{"id":"01JEX","preview":"Hej <b>&amp; \u00e5"}}}` + "\n"

func message() engine.WebhookMessage {
	return engine.WebhookMessage{ID: "msg_01JEXAMPLE", Timestamp: t0, Body: []byte(body)}
}

func TestSendDeliversTheBodySigned(t *testing.T) {
	rcv := newReceiver(t, ok)
	now := t0
	s := sender(t, &webhook.Sender{AllowPrivate: true, Now: fixed(&now)})

	if err := s.Send(context.Background(), hook(rcv.URL+"/hooks/parley?source=chat"), message()); err != nil {
		t.Fatal(err)
	}
	d := rcv.next(t)
	if d.Method != http.MethodPost || d.Path != "/hooks/parley" || d.Query != "source=chat" {
		t.Errorf("request = %s %s?%s; want POST /hooks/parley?source=chat", d.Method, d.Path, d.Query)
	}
	if string(d.Body) != body {
		t.Errorf("body = %q; want the message's bytes unchanged, %q", d.Body, body)
	}
	for name, want := range map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "Parley-Webhooks/1",
		"webhook-id":        "msg_01JEXAMPLE",
		"webhook-timestamp": strconv.FormatInt(t0.Unix(), 10),
	} {
		if got := d.Header.Get(name); got != want {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
	if err := webhook.Verify(testSecret, d.Header, d.Body, t0.Add(3*time.Second), 0); err != nil {
		t.Errorf("the receiver cannot verify the delivery: %v", err)
	}
	if sig := d.Header.Get("webhook-signature"); !strings.HasPrefix(sig, "v1,") || strings.Contains(sig, " ") {
		t.Errorf("webhook-signature = %q; want one v1 signature", sig)
	}
}

// A failed attempt is an error to retry; the retry carries the same id,
// and the time and signature of its own attempt, so that it passes the
// receiver's replay check however late it comes.
func TestSendRetryIsSignedAnew(t *testing.T) {
	var failed atomic.Bool
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if failed.CompareAndSwap(false, true) {
			http.Error(w, "database is down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	now := t0
	s := sender(t, &webhook.Sender{AllowPrivate: true, Now: fixed(&now)})

	err := s.Send(context.Background(), hook(rcv.URL), message())
	if err == nil || engine.IsPermanent(err) {
		t.Fatalf("Send after a 500 = %v; want an error to retry", err)
	}
	if _, ok := engine.RetryDelay(err); ok {
		t.Errorf("a 500 without Retry-After asks for a delay: %v", err)
	}
	var se *webhook.StatusError
	if !errors.As(err, &se) || se.Code != 500 || !strings.Contains(err.Error(), "500 Internal Server Error: database is down") {
		t.Errorf("error = %v; want it to name the status and the receiver's message", err)
	}

	now = t0.Add(2 * time.Hour)
	if err := s.Send(context.Background(), hook(rcv.URL), message()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	first, retry := rcv.next(t), rcv.next(t)
	if first.Header.Get("webhook-id") != retry.Header.Get("webhook-id") {
		t.Errorf("ids %q and %q differ; a retry must keep its id", first.Header.Get("webhook-id"), retry.Header.Get("webhook-id"))
	}
	if err := webhook.Verify(testSecret, retry.Header, retry.Body, now, 0); err != nil {
		t.Errorf("the retry two hours later does not verify: %v", err)
	}
	if err := webhook.Verify(testSecret, first.Header, first.Body, now, 0); !errors.Is(err, webhook.ErrTimestamp) {
		t.Errorf("the first attempt, replayed two hours later: %v; want ErrTimestamp", err)
	}
}

func TestSendSortsAnswers(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		code       int
		retryAfter string
		wantErr    bool
		wantDelay  time.Duration // 0: no RetryAfter
	}{
		{code: 200},
		{code: 201},
		{code: 202},
		{code: 204},
		{code: 429, retryAfter: "120", wantErr: true, wantDelay: 2 * time.Minute},
		{code: 503, retryAfter: t0.Add(90 * time.Second).Format(http.TimeFormat), wantErr: true, wantDelay: 90 * time.Second},
		{code: 429, wantErr: true},                     // no Retry-After: the outbox's own back-off
		{code: 503, retryAfter: "soon", wantErr: true}, // one that does not parse: the same
		{code: 500, retryAfter: "120", wantErr: true},  // only 429 and 503 are read for it
		{code: 410, wantErr: true},                     // Gone: retried like any other failure
		{code: 400, wantErr: true},
		{code: 401, wantErr: true},
		{code: 404, wantErr: true},
		{code: 502, wantErr: true},
		{code: 504, wantErr: true},
	} {
		t.Run(strconv.Itoa(tc.code)+" "+tc.retryAfter, func(t *testing.T) {
			rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.code)
			})
			s := sender(t, &webhook.Sender{AllowPrivate: true, Now: fixed(&now)})
			err := s.Send(context.Background(), hook(rcv.URL), message())
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send = %v; want error %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			if engine.IsPermanent(err) {
				t.Errorf("%v is marked permanent; a webhook is retried for any answer but 2xx", err)
			}
			d, ok := engine.RetryDelay(err)
			if ok != (tc.wantDelay != 0) || d != tc.wantDelay {
				t.Errorf("RetryDelay = %v, %v; want %v", d, ok, tc.wantDelay)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tc.code)+" "+http.StatusText(tc.code)) {
				t.Errorf("error %q does not name the status", err)
			}
		})
	}
}

func TestSendErrorQuotesABoundedLine(t *testing.T) {
	page := "<html>\n<body>\r\n<h1>Oops</h1>\n<pre>config: secret=" + testSecret + "\n" + strings.Repeat("stack frame\n", 10000) + "</pre></body></html>"
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, page)
	})
	s := sender(t, &webhook.Sender{AllowPrivate: true})
	err := s.Send(context.Background(), hook(rcv.URL), message())
	if err == nil {
		t.Fatal("no error for a 500")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") || len(msg) > 700 {
		t.Errorf("error is %d bytes over several lines; want one short line: %q", len(msg), msg)
	}
	if !strings.Contains(msg, "<h1>Oops</h1>") {
		t.Errorf("error %q does not quote the start of the answer", msg)
	}
	if strings.Contains(msg, strings.TrimPrefix(testSecret, "whsec_")) {
		t.Errorf("error quotes the secret: %q", msg)
	}
}

func TestSendGivesUpAfterTheTimeout(t *testing.T) {
	release := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the receiver closes
	s := sender(t, &webhook.Sender{AllowPrivate: true, Timeout: 200 * time.Millisecond})

	start := time.Now()
	err := s.Send(context.Background(), hook(rcv.URL), message())
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", took)
	}
	if err == nil || engine.IsPermanent(err) {
		t.Fatalf("Send to a receiver that hangs = %v; want an error to retry", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "within 200ms") {
		t.Errorf("error = %v; want it to say no answer came within 200ms", err)
	}
}

func TestSendFollowsNoRedirect(t *testing.T) {
	var moved atomic.Int32
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			moved.Add(1)
			return
		}
		http.Redirect(w, r, "/moved", http.StatusPermanentRedirect) // which keeps the method and body
	})
	s := sender(t, &webhook.Sender{AllowPrivate: true})
	err := s.Send(context.Background(), hook(rcv.URL+"/hook"), message())
	if err == nil || engine.IsPermanent(err) {
		t.Fatalf("Send to a redirect = %v; want an error to retry", err)
	}
	if !strings.Contains(err.Error(), "308 Permanent Redirect: redirected to /moved") {
		t.Errorf("error %q does not name the status and the Location", err)
	}
	if moved.Load() != 0 {
		t.Errorf("the redirect was followed")
	}
}

// Without AllowPrivate, nothing leaves for an address that is not public,
// however the URL gets there: an IP literal, its IPv4-mapped IPv6 form,
// or a name that resolves to it (though it may have resolved to a public
// address when the webhook was registered).
func TestSendRefusesPrivateAddresses(t *testing.T) {
	rcv := newReceiver(t, ok)
	port := mustPort(t, rcv.URL)
	rebinding := fakeDNS(map[string][]string{"hooks.example.com": {"127.0.0.1"}})
	if err := webhook.CheckURL(context.Background(), "http://hooks.example.com:"+port+"/", false,
		fakeDNS(map[string][]string{"hooks.example.com": {"93.184.216.34"}})); err != nil {
		t.Fatalf("registered when it resolved to a public address: %v", err)
	}

	for _, u := range []string{
		rcv.URL + "/hook",
		"http://[::ffff:127.0.0.1]:" + port + "/hook",
		"http://hooks.example.com:" + port + "/hook",
	} {
		s := sender(t, &webhook.Sender{Resolver: rebinding})
		err := s.Send(context.Background(), hook(u), message())
		if !engine.IsPermanent(err) {
			t.Errorf("Send to %s = %v; want a permanent refusal", u, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "resolves to 127.0.0.1, a loopback address") ||
			!strings.Contains(msg, "--webhook-allow-private") {
			t.Errorf("refusal %q does not say why and what would allow it", msg)
		}
	}
	if n := rcv.count.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests; want none", n)
	}

	// The same name, allowed: the refusal above was the rule, not the look-up.
	s := sender(t, &webhook.Sender{Resolver: rebinding, AllowPrivate: true})
	if err := s.Send(context.Background(), hook("http://hooks.example.com:"+port+"/hook"), message()); err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	if n := rcv.count.Load(); n != 1 {
		t.Errorf("the receiver got %d requests; want 1", n)
	}
}

// A proxy from the environment would make the connection itself, out of
// the dialer's sight: the Sender uses none.
func TestSendIgnoresTheEnvironmentsProxy(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(proxy.Close)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	rcv := newReceiver(t, ok)
	s := sender(t, &webhook.Sender{AllowPrivate: true,
		Resolver: fakeDNS(map[string][]string{"hooks.example.com": {"127.0.0.1"}})})
	if err := s.Send(context.Background(), hook("http://hooks.example.com:"+mustPort(t, rcv.URL)+"/"), message()); err != nil {
		t.Fatal(err)
	}
	if rcv.count.Load() != 1 || proxied.Load() != 0 {
		t.Errorf("receiver got %d, proxy %d requests; want 1 and 0", rcv.count.Load(), proxied.Load())
	}
}

// What cannot make a valid request never will: Permanent, before any
// request, and without the secret in the error.
func TestSendRefusesWhatCannotBeSent(t *testing.T) {
	rcv := newReceiver(t, ok)
	s := sender(t, &webhook.Sender{AllowPrivate: true})
	good, msg := hook(rcv.URL), message()
	for name, tc := range map[string]struct {
		w engine.Webhook
		m engine.WebhookMessage
	}{
		"secret without its prefix": {engine.Webhook{URL: good.URL, Secret: strings.TrimPrefix(testSecret, "whsec_")}, msg},
		"secret too short":          {engine.Webhook{URL: good.URL, Secret: "whsec_c2hvcnQ="}, msg},
		"no secret":                 {engine.Webhook{URL: good.URL}, msg},
		"id with a full stop":       {good, engine.WebhookMessage{ID: "msg.1", Body: msg.Body}},
		"no id":                     {good, engine.WebhookMessage{Body: msg.Body}},
		"ftp URL":                   {engine.Webhook{URL: "ftp://example.com/", Secret: testSecret}, msg},
		"URL with credentials":      {engine.Webhook{URL: "http://u:" + testSecret + "@127.0.0.1/", Secret: testSecret}, msg},
		"no URL":                    {engine.Webhook{Secret: testSecret}, msg},
		"URL with a port alone":     {engine.Webhook{URL: "http://:" + mustPort(t, rcv.URL) + "/", Secret: testSecret}, msg},
	} {
		err := s.Send(context.Background(), tc.w, tc.m)
		if !engine.IsPermanent(err) {
			t.Errorf("%s: Send = %v; want a permanent error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
	if n := rcv.count.Load(); n != 0 {
		t.Errorf("the receiver got %d requests; want none", n)
	}
}

func mustPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}
