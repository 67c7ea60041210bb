package httpcall_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"93", 93 * time.Second, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"Mon, 04 May 2026 09:02:00 GMT", 2 * time.Minute, true},
		{"Monday, 04-May-26 09:00:30 GMT", 30 * time.Second, true}, // RFC 850, which HTTP dates still allow
		{"Mon, 04 May 2026 08:00:00 GMT", 0, true},                 // in the past: no wait
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{"18446744073709551615", (1 << 31) * time.Second, true},
	} {
		h := http.Header{}
		if tc.value != "" {
			h.Set("Retry-After", tc.value)
		}
		got, ok := httpcall.ParseRetryAfter(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		base, want, err string
	}{
		{base: "https://acme.zendesk.com", want: "https://acme.zendesk.com/api/v2/tickets.json"},
		{base: "https://acme.zendesk.com/", want: "https://acme.zendesk.com/api/v2/tickets.json"},
		{base: "https://acme.zendesk.com/api/v2", want: "https://acme.zendesk.com/api/v2/tickets.json"},
		{base: "https://acme.zendesk.com/api/v2/", want: "https://acme.zendesk.com/api/v2/tickets.json"},
		{base: "http://127.0.0.1:8080/proxy/zendesk", want: "http://127.0.0.1:8080/proxy/zendesk/api/v2/tickets.json"},
		{base: "http://127.0.0.1:8080/myapi/v2", want: "http://127.0.0.1:8080/myapi/v2/api/v2/tickets.json"},
		{base: "", err: "is not an http(s) URL"},
		{base: "acme.zendesk.com", err: "is not an http(s) URL"},
		{base: "ftp://acme.zendesk.com", err: "is not an http(s) URL"},
		{base: "https://", err: "has no host"},
		{base: "https://me:hunter2@acme.zendesk.com", err: "has credentials in it"},
		{base: "https://acme.zendesk.com/?x=1", err: "has a query or a fragment"},
		{base: "https://acme.zendesk.com/#top", err: "has a query or a fragment"},
		{base: "https://acme.zendesk.com/%zz", err: "is not a URL"},
	} {
		u, err := httpcall.Endpoint(tc.base, "/api/v2", "/tickets.json")
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Endpoint(%q) = %v, %v; want an error saying %q", tc.base, u, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Endpoint(%q): the error shows the password: %v", tc.base, err)
			}
		case err != nil:
			t.Errorf("Endpoint(%q): %v", tc.base, err)
		case u.String() != tc.want:
			t.Errorf("Endpoint(%q) = %s; want %s", tc.base, u, tc.want)
		}
	}
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"error": "Couldn't authenticate you"}`, `{"error":"Couldn't authenticate you"}`},
		{"{\n  \"error\": \"RecordInvalid\",\n  \"details\": {\"requester\": [{\"description\": \"Email is\\ninvalid\"}]}\n}",
			`{"error":"RecordInvalid","details":{"requester":[{"description":"Email is\ninvalid"}]}}`},
		{"<html>\n<body>Bad   Gateway</body>\n</html>", "<html> <body>Bad Gateway</body> </html>"},
		{"Rate limit\x00 exceeded\x1b[31m", "Rate limit exceeded[31m"},
		{"", ""},
		{strings.Repeat("é", 400), strings.Repeat("é", 250) + "…"},
	} {
		if got := httpcall.Message([]byte(tc.body)); got != tc.want {
			t.Errorf("Message(%q) = %q; want %q", tc.body, got, tc.want)
		}
	}
}

// kind is how the outbox would treat err.
func kind(err error) string {
	if err == nil {
		return "ok"
	}
	if engine.IsPermanent(err) {
		return "permanent"
	}
	if d, ok := engine.RetryDelay(err); ok {
		return "retry after " + d.String()
	}
	return "retry"
}

func TestPostSortsAnswers(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		location   string
		want       string
	}{
		{201, "", "", "ok"},
		{200, "", "", "ok"},
		{301, "", "https://acme.zendesk.com/api/v2/tickets.json", "permanent"},
		{307, "", "", "permanent"},
		{400, "", "", "permanent"},
		{401, "", "", "permanent"},
		{403, "", "", "permanent"},
		{404, "", "", "permanent"},
		{408, "", "", "retry"},
		{409, "", "", "permanent"},
		{413, "", "", "permanent"},
		{422, "", "", "permanent"},
		{429, "7", "", "retry after 7s"},
		{429, "", "", "retry after 1m0s"},
		{429, "whenever", "", "retry after 1m0s"},
		{500, "", "", "retry"},
		{502, "", "", "retry"},
		{503, "", "", "retry"},
		{503, "120", "", "retry after 2m0s"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			if tc.location != "" {
				w.Header().Set("Location", tc.location)
			}
			w.WriteHeader(tc.status)
			io.WriteString(w, `{"error":"told you so"}`)
		}))
		c := &httpcall.Client{HTTPClient: srv.Client()}
		u, _ := url.Parse(srv.URL + "/api")
		body, err := c.Post(context.Background(), httpcall.Request{Service: "acme", URL: u, Username: "u", Password: "s3cret-key", Body: map[string]int{"a": 1}})
		srv.Close()
		if got := kind(err); got != tc.want {
			t.Errorf("%d (Retry-After %q): %s (%v); want %s", tc.status, tc.retryAfter, got, err, tc.want)
		}
		if err == nil {
			if string(body) != `{"error":"told you so"}` {
				t.Errorf("%d: body %q", tc.status, body)
			}
			continue
		}
		var se *httpcall.StatusError
		if !errors.As(err, &se) || se.Code != tc.status {
			t.Errorf("%d: %v is not a StatusError with the status", tc.status, err)
		}
		if !strings.HasPrefix(err.Error(), "acme: ") || !strings.Contains(err.Error(), `{"error":"told you so"}`) {
			t.Errorf("%d: the error %q does not name the service and quote the answer", tc.status, err)
		}
		if tc.location != "" && !strings.Contains(err.Error(), tc.location) {
			t.Errorf("%d: the error %q does not say where it was redirected", tc.status, err)
		}
	}
}

func TestPostSendsJSONWithBasicAuth(t *testing.T) {
	type seen struct {
		method, path, ctype, accept, key, body string
		user, pass                             string
		ok                                     bool
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, ok := r.BasicAuth()
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"),
			r.Header.Get("Idempotency-Key"), string(b), user, pass, ok}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/x/y.json")
	c := &httpcall.Client{HTTPClient: srv.Client()}
	_, err := c.Post(context.Background(), httpcall.Request{
		Service: "acme", URL: u, Username: "ana@acme.com/token", Password: "s3cret:with colon",
		Header: http.Header{"Idempotency-Key": {"k1"}}, Body: map[string]string{"hello": "wörld"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := <-got
	want := seen{"POST", "/x/y.json", "application/json", "application/json", "k1", `{"hello":"wörld"}`,
		"ana@acme.com/token", "s3cret:with colon", true}
	if s != want {
		t.Errorf("the server saw %+v; want %+v", s, want)
	}
}

func TestPostNeverFollowsARedirect(t *testing.T) {
	hits := make(chan string, 2)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- "other " + r.Header.Get("Authorization")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- "first"
		http.Redirect(w, r, other.URL+"/api", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/api")
	c := &httpcall.Client{HTTPClient: srv.Client()}
	_, err := c.Post(context.Background(), httpcall.Request{Service: "acme", URL: u, Username: "u", Password: "s3cret-key", Body: 1})
	if !engine.IsPermanent(err) || !strings.Contains(err.Error(), other.URL) {
		t.Errorf("a redirect gave %v; want a permanent error naming %s", err, other.URL)
	}
	close(hits)
	var all []string
	for h := range hits {
		all = append(all, h)
	}
	if len(all) != 1 {
		t.Errorf("requests: %q; want only the first", all)
	}
}

func TestPostNeverShowsThePassword(t *testing.T) {
	const secret = "zk_live_0123456789abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"token `+pass+` is revoked"}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := &httpcall.Client{HTTPClient: srv.Client()}
	_, err := c.Post(context.Background(), httpcall.Request{Service: "acme", URL: u, Username: "ana@acme.com", Password: secret, Body: 1})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error %v shows the password", err)
	}
	if !engine.IsPermanent(err) || !strings.Contains(err.Error(), "(as ana@acme.com)") || !strings.Contains(err.Error(), "is revoked") {
		t.Errorf("error %v: want a permanent error naming the user and quoting the answer", err)
	}
}

func TestPostRefusesABadHeaderValue(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1/")
	_, err := (&httpcall.Client{}).Post(context.Background(), httpcall.Request{
		Service: "acme", URL: u, Header: http.Header{"Idempotency-Key": {"a\r\nX-Evil: 1"}}, Body: 1,
	})
	if !engine.IsPermanent(err) || !strings.Contains(err.Error(), "Idempotency-Key") {
		t.Errorf("got %v; want a permanent error naming the header", err)
	}
}

func TestPostGivesUpAtTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		select {                    // never answers
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	u, _ := url.Parse(srv.URL)
	c := &httpcall.Client{HTTPClient: srv.Client(), Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.Post(context.Background(), httpcall.Request{Service: "acme", URL: u, Body: 1})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v", took)
	}
	if kind(err) != "retry" || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer from") {
		t.Errorf("got %v; want a plain error saying there was no answer", err)
	}
}

func TestPostRetriesARefusedConnection(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close() // nobody listens there any more
	_, err := (&httpcall.Client{}).Post(context.Background(), httpcall.Request{Service: "acme", URL: u, Body: 1})
	if kind(err) != "retry" || !strings.HasPrefix(err.Error(), "acme: POST "+srv.URL) {
		t.Errorf("got %v; want a plain error naming the request", err)
	}
}

func TestPostSendsAFormWithBasicAuth(t *testing.T) {
	type seen struct {
		method, path, ctype, accept, key, body string
		user, pass                             string
		ok                                     bool
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, ok := r.BasicAuth()
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"),
			r.Header.Get("Idempotency-Key"), string(b), user, pass, ok}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM1"}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/2010-04-01/Accounts/AC1/Messages.json")
	c := &httpcall.Client{HTTPClient: srv.Client()}
	body, err := c.Post(context.Background(), httpcall.Request{
		Service: "acme", URL: u, Username: "AC1", Password: "s3cret",
		Header: http.Header{"Idempotency-Key": {"k1"}},
		Form: url.Values{
			"To":       {"+46701234567"},
			"Body":     {"Hej & välkommen = 100%"},
			"MediaUrl": {"https://a.example/1.png", "https://a.example/2.png"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != `{"sid":"SM1"}` {
		t.Errorf("body %q", body)
	}
	s := <-got
	want := seen{"POST", "/2010-04-01/Accounts/AC1/Messages.json", "application/x-www-form-urlencoded", "application/json", "k1",
		"Body=Hej+%26+v%C3%A4lkommen+%3D+100%25&MediaUrl=https%3A%2F%2Fa.example%2F1.png&MediaUrl=https%3A%2F%2Fa.example%2F2.png&To=%2B46701234567",
		"AC1", "s3cret", true}
	if s != want {
		t.Errorf("the server saw %+v; want %+v", s, want)
	}
	form, err := url.ParseQuery(s.body)
	if err != nil || form.Get("Body") != "Hej & välkommen = 100%" || len(form["MediaUrl"]) != 2 {
		t.Errorf("the form reads back as %v (%v)", form, err)
	}
}

func TestPostSendsAnEmptyForm(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Content-Type") + " [" + string(b) + "]"
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	if _, err := (&httpcall.Client{HTTPClient: srv.Client()}).Post(context.Background(),
		httpcall.Request{Service: "acme", URL: u, Form: url.Values{}}); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "application/x-www-form-urlencoded []" {
		t.Errorf("the server saw %q; want an empty form", s)
	}
}

func TestPostRefusesAFormAndABody(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, err := (&httpcall.Client{HTTPClient: srv.Client()}).Post(context.Background(), httpcall.Request{
		Service: "acme", URL: u, Password: "s3cret", Body: map[string]int{"a": 1}, Form: url.Values{"a": {"1"}},
	})
	if !engine.IsPermanent(err) || !strings.HasPrefix(err.Error(), "acme: POST ") || !strings.Contains(err.Error(), "both a form and a JSON body") {
		t.Errorf("got %v; want a permanent error saying it has both", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}

// A form is sorted and kept secret like a JSON body: the answer decides,
// not the encoding.
func TestPostSortsTheAnswersToAForm(t *testing.T) {
	const secret = "f0rm-s3cret-token"
	for _, tc := range []struct {
		status     int
		retryAfter string
		want       string
	}{
		{201, "", "ok"},
		{301, "", "permanent"},
		{400, "", "permanent"},
		{401, "", "permanent"},
		{429, "3", "retry after 3s"},
		{500, "", "retry"},
		{503, "9", "retry after 9s"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, pass, _ := r.BasicAuth()
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			if tc.status == 301 {
				w.Header().Set("Location", "https://elsewhere.example/")
			}
			w.WriteHeader(tc.status)
			io.WriteString(w, `{"message":"token `+pass+` said no"}`)
		}))
		u, _ := url.Parse(srv.URL)
		c := &httpcall.Client{HTTPClient: srv.Client()}
		_, err := c.Post(context.Background(), httpcall.Request{Service: "acme", URL: u, Username: "u", Password: secret, Form: url.Values{"To": {"+1"}}})
		srv.Close()
		if got := kind(err); got != tc.want {
			t.Errorf("%d: %s (%v); want %s", tc.status, got, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "said no")) {
			t.Errorf("%d: error %q shows the password or does not quote the answer", tc.status, err)
		}
	}
}
