package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
	"github.com/parley-chat/parley/transport/twilio"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "f2c9d1e0b8a7f6e5d4c3b2a190817263"
	storePhone = "+46766861004"
)

func settings(base string) engine.SMSSettings {
	return engine.SMSSettings{
		Enabled:    true,
		Provider:   engine.ProviderTwilio,
		AccountSID: accountSID,
		AuthToken:  authToken,
		From:       storePhone,
		BaseURL:    base,
	}
}

func text() engine.SMS {
	return engine.SMS{
		To:             "+46701234567",
		Body:           "Hej Ana! Din order #1042 skickades i dag. Spåra den här: https://acme.example/t/1042 😊",
		MediaURLs:      []string{"https://chat.acme.example/u/3f9c.png", "https://chat.acme.example/u/77ab.jpg"},
		StatusCallback: "https://chat.acme.example/sms/status?m=01JEXAMPLE",
	}
}

// seen is a request as the stand-in for Twilio received it.
type seen struct {
	Method, Path, ContentType, Accept, Key string
	User, Password                         string
	BasicAuth                              bool
	Form                                   url.Values
	FormErr                                error
}

// fakeTwilio is a stand-in for Twilio's REST API: it passes each request
// it receives on to the test and answers with answer.
func fakeTwilio(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan seen) {
	t.Helper()
	requests := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Accept: r.Header.Get("Accept"), Key: r.Header.Get("I-Twilio-Idempotency-Token")}
		s.User, s.Password, s.BasicAuth = r.BasicAuth()
		raw, _ := io.ReadAll(r.Body)
		s.Form, s.FormErr = url.ParseQuery(string(raw))
		requests <- s
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

// queued answers as Twilio does to a new message.
func queued(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"account_sid":"`+accountSID+`","api_version":"2010-04-01",
		"body":"Hej Ana!","date_created":"Mon, 04 May 2026 09:12:03 +0000","date_sent":null,
		"direction":"outbound-api","error_code":null,"error_message":null,"from":"`+storePhone+`",
		"messaging_service_sid":null,"num_media":"2","num_segments":"2","price":null,"price_unit":"USD",
		"sid":"MM3c0f5b2e6f1a4d8c9b7e6a5d4c3b2a10","status":"queued",
		"subresource_uris":{"media":"/2010-04-01/Accounts/`+accountSID+`/Messages/MM3c0f5b2e6f1a4d8c9b7e6a5d4c3b2a10/Media.json"},
		"to":"+46701234567","uri":"/2010-04-01/Accounts/`+accountSID+`/Messages/MM3c0f5b2e6f1a4d8c9b7e6a5d4c3b2a10.json"}`)
}

func TestSendCreatesAMessage(t *testing.T) {
	srv, requests := fakeTwilio(t, queued)
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}

	sid, err := c.Send(context.Background(), settings(srv.URL), "sms/01JEXAMPLE/7", text())
	if err != nil {
		t.Fatal(err)
	}
	if sid != "MM3c0f5b2e6f1a4d8c9b7e6a5d4c3b2a10" {
		t.Errorf("sid = %q", sid)
	}
	s := <-requests
	if want := "/2010-04-01/Accounts/" + accountSID + "/Messages.json"; s.Method != "POST" || s.Path != want {
		t.Errorf("request: %s %s; want POST %s", s.Method, s.Path, want)
	}
	if !s.BasicAuth || s.User != accountSID || s.Password != authToken {
		t.Errorf("basic credentials %q : %q (%v); want the account sid and the auth token", s.User, s.Password, s.BasicAuth)
	}
	if s.ContentType != "application/x-www-form-urlencoded" || s.Accept != "application/json" {
		t.Errorf("Content-Type %q, Accept %q", s.ContentType, s.Accept)
	}
	if s.Key != "sms/01JEXAMPLE/7" {
		t.Errorf("I-Twilio-Idempotency-Token %q", s.Key)
	}
	if s.FormErr != nil {
		t.Fatalf("form: %v", s.FormErr)
	}
	m := text()
	want := url.Values{
		"To":             {m.To},
		"From":           {storePhone},
		"Body":           {m.Body},
		"MediaUrl":       m.MediaURLs,
		"StatusCallback": {m.StatusCallback},
	}
	for name, values := range want {
		if !slices.Equal(s.Form[name], values) {
			t.Errorf("%s = %q; want %q", name, s.Form[name], values)
		}
	}
	for name := range s.Form {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected parameter %s = %q", name, s.Form[name])
		}
	}
}

func TestSendTheSmallestText(t *testing.T) {
	srv, requests := fakeTwilio(t, queued)
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	m := engine.SMS{To: "+46701234567", From: "+46700000001", Body: "Tack!"}
	if _, err := c.Send(context.Background(), settings(srv.URL), "", m); err != nil {
		t.Fatal(err)
	}
	s := <-requests
	if s.Key != "" {
		t.Errorf("I-Twilio-Idempotency-Token %q sent for an empty key", s.Key)
	}
	want := url.Values{"To": {"+46701234567"}, "From": {"+46700000001"}, "Body": {"Tack!"}}
	if len(s.Form) != len(want) || s.Form.Encode() != want.Encode() {
		t.Errorf("form %v; want %v (the text's own From, nothing empty)", s.Form, want)
	}

	media := engine.SMS{To: "+46701234567", MediaURLs: []string{"https://chat.acme.example/u/1.png"}}
	if _, err := c.Send(context.Background(), settings(srv.URL), "k", media); err != nil {
		t.Fatal(err)
	}
	if s := <-requests; s.Form.Has("Body") || s.Form.Get("MediaUrl") != media.MediaURLs[0] || s.Form.Get("From") != storePhone {
		t.Errorf("a picture alone: form %v", s.Form)
	}
}

func TestSendFindsTheAPIUnderAnyFormOfTheBaseURL(t *testing.T) {
	srv, requests := fakeTwilio(t, queued)
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/2010-04-01", srv.URL + "/2010-04-01/"} {
		if _, err := c.Send(context.Background(), settings(base), "k", text()); err != nil {
			t.Errorf("base %q: %v", base, err)
			continue
		}
		if s := <-requests; s.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
			t.Errorf("base %q: posted to %s", base, s.Path)
		}
	}
}

func TestSendDefaultsToTwilio(t *testing.T) {
	// No request leaves: the transport answers for api.twilio.com.
	var asked atomic.Value
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		asked.Store(r.URL.String())
		return nil, errors.New("offline")
	})}}}
	_, err := c.Send(context.Background(), settings(""), "k", text())
	if err == nil || engine.IsPermanent(err) {
		t.Errorf("got %v; want a plain error", err)
	}
	if got, want := asked.Load(), "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages.json"; got != want {
		t.Errorf("asked %v; want %s", got, want)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// outcome is how the outbox would treat err.
func outcome(err error) string {
	switch d, ok := engine.RetryDelay(err); {
	case err == nil:
		return "ok"
	case engine.IsPermanent(err):
		return "permanent"
	case ok:
		return "retry after " + d.String()
	}
	return "retry"
}

func TestSendSortsTwiliosAnswers(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		status       int
		retryAfter   string
		body         string
		want         string
		says         string
		code         int // Twilio's, in an *Error; 0 for none
		unsubscribed bool
	}{
		{"invalid number", 400, "",
			`{"code": 21211, "message": "The 'To' number +4670123 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			"permanent", "twilio: 400 Bad Request: Twilio error 21211: The 'To' number +4670123 is not a valid phone number. (https://www.twilio.com/docs/errors/21211)",
			21211, false},
		{"unsubscribed", 400, "",
			`{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}`,
			"permanent", "Twilio error 21610: Attempt to send to unsubscribed recipient", 21610, true},
		{"too long", 400, "",
			`{"code": 21617, "message": "The concatenated message body exceeds the 1600 character limit.", "more_info": "https://www.twilio.com/docs/errors/21617", "status": 400}`,
			"permanent", "Twilio error 21617", 21617, false},
		{"wrong token", 401, "",
			`{"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.", "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`,
			"permanent", "twilio: 401 Unauthorized (as " + accountSID + "): Twilio error 20003: Authenticate: Your AccountSid or AuthToken was incorrect.",
			20003, false},
		{"no such account", 404, "",
			`{"code": 20404, "message": "The requested resource /2010-04-01/Accounts/` + accountSID + `/Messages.json was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`,
			"permanent", "Twilio error 20404", 20404, false},
		{"too many requests", 429, "7",
			`{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`,
			"retry after 7s", "twilio: 429 Too Many Requests: Twilio error 20429: Too Many Requests", 20429, false},
		{"too many requests until a date", 429, now.Add(2 * time.Minute).Format(http.TimeFormat),
			`{"code": 20429, "message": "Too Many Requests", "status": 429}`, "retry after 2m0s", "Twilio error 20429", 20429, false},
		{"too many requests, no wait", 429, "", "", "retry after 1m0s", "429 Too Many Requests", 0, false},
		{"server error", 500, "",
			`{"code": 20500, "message": "An internal server error has occurred", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}`,
			"retry", "Twilio error 20500: An internal server error has occurred", 20500, false},
		{"bad gateway", 502, "", "<html><body>Bad Gateway</body></html>", "retry", "twilio: 502 Bad Gateway: <html><body>Bad Gateway</body></html>", 0, false},
		{"unavailable with a wait", 503, "30", "", "retry after 30s", "503 Service Unavailable", 0, false},
		{"another error body", 400, "", `{"error":"bad"}`, "permanent", `twilio: 400 Bad Request: {"error":"bad"}`, 0, false},
		{"created without a sid", 201, "", `{"status":"queued"}`, "permanent", "twilio: the answer has no sid", 0, false},
		{"created with an empty sid", 201, "", `{"sid":""}`, "permanent", "no sid", 0, false},
		{"created with nothing", 201, "", ``, "permanent", "no sid: (an empty body)", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client(), Now: func() time.Time { return now }}}
			sid, err := c.Send(context.Background(), settings(srv.URL), "k", text())
			if got := outcome(err); got != tc.want {
				t.Errorf("%s (%v); want %s", got, err, tc.want)
			}
			if sid != "" {
				t.Errorf("sid %q with an error", sid)
			}
			if err == nil {
				return
			}
			if !strings.HasPrefix(err.Error(), "twilio: ") || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q; want it to start with \"twilio: \" and say %q", err, tc.says)
			}
			if strings.Contains(err.Error(), authToken) {
				t.Errorf("error %q shows the auth token", err)
			}
			var te *twilio.Error
			switch {
			case tc.code == 0 && errors.As(err, &te):
				t.Errorf("an *Error (%+v) for an answer without Twilio's code", te)
			case tc.code != 0 && (!errors.As(err, &te) || te.Code != tc.code || te.Status != tc.status):
				t.Errorf("%v is not an *Error with code %d and status %d", err, tc.code, tc.status)
			}
			if tc.status != 201 {
				var se *httpcall.StatusError
				if !errors.As(err, &se) || se.Code != tc.status {
					t.Errorf("%v does not wrap the httpcall.StatusError", err)
				}
			}
			if got := twilio.IsUnsubscribed(err); got != tc.unsubscribed {
				t.Errorf("IsUnsubscribed = %v", got)
			}
		})
	}
}

func TestSendNeverShowsTheAuthToken(t *testing.T) {
	for _, body := range []string{
		`{"code":20003,"message":"Authenticate","detail":"token ` + authToken + ` is wrong","status":401}`,
		`{"code":20003,"message":"Authenticate","detail":"token \u0066` + authToken[1:] + ` is wrong","status":401}`, // escaped, so not cut out of the raw body
		`token ` + authToken + ` is wrong`,
	} {
		srv, _ := fakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, body)
		})
		_, err := (&twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}).Send(context.Background(), settings(srv.URL), "k", text())
		if err == nil || strings.Contains(err.Error(), authToken) {
			t.Errorf("error %v shows the auth token", err)
		}
		if !engine.IsPermanent(err) || !strings.Contains(err.Error(), "is wrong") {
			t.Errorf("error %v: want a permanent error quoting the answer", err)
		}
	}
}

func TestSendGivesUpOnASlowTwilio(t *testing.T) {
	release := make(chan struct{})
	srv, _ := fakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
		select { // answers long after the client's timeout
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client(), Timeout: 200 * time.Millisecond}}
	began := time.Now()
	_, err := c.Send(context.Background(), settings(srv.URL), "k", text())
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("gave up after %v; want about 200ms", took)
	}
	if outcome(err) != "retry" || !errors.Is(err, context.DeadlineExceeded) || twilio.IsUnsubscribed(err) {
		t.Errorf("got %v; want a deadline error worth retrying", err)
	}
	if err != nil && strings.Contains(err.Error(), authToken) {
		t.Errorf("error %q shows the auth token", err)
	}
}

func TestSendStopsWhenTheContextEnds(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv, _ := fakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Send(ctx, settings(srv.URL), "k", text())
	if !errors.Is(err, context.Canceled) || engine.IsPermanent(err) {
		t.Errorf("got %v; want context.Canceled, not permanent", err)
	}
}

func TestSendNeverFollowsARedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv, _ := fakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	_, err := (&twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}).Send(context.Background(), settings(srv.URL), "k", text())
	if !engine.IsPermanent(err) || !strings.Contains(err.Error(), other.URL) {
		t.Errorf("got %v; want a permanent error naming where it was sent", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestSendRefusesIncompleteSettings(t *testing.T) {
	var hits atomic.Int32
	srv, _ := fakeTwilio(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); queued(w, r) })
	c := &twilio.Client{Client: httpcall.Client{HTTPClient: srv.Client()}}
	with := func(f func(*engine.SMSSettings, *engine.SMS)) (engine.SMSSettings, engine.SMS) {
		s, m := settings(srv.URL), text()
		f(&s, &m)
		return s, m
	}
	for _, tc := range []struct {
		name string
		f    func(*engine.SMSSettings, *engine.SMS)
		says string
	}{
		{"another provider", func(s *engine.SMSSettings, _ *engine.SMS) { s.Provider = "vonage" }, "sms.provider"},
		{"no account", func(s *engine.SMSSettings, _ *engine.SMS) { s.AccountSID = "" }, "sms.account_sid is empty"},
		{"an account with a slash", func(s *engine.SMSSettings, _ *engine.SMS) { s.AccountSID = "AC1/../x" }, "not an account id"},
		{"an account that climbs", func(s *engine.SMSSettings, _ *engine.SMS) { s.AccountSID = ".." }, "not an account id"},
		{"an account with a space", func(s *engine.SMSSettings, _ *engine.SMS) { s.AccountSID = "AC 1" }, "not an account id"},
		{"no token", func(s *engine.SMSSettings, _ *engine.SMS) { s.AuthToken = "" }, "sms.auth_token is empty"},
		{"no sender", func(s *engine.SMSSettings, m *engine.SMS) { s.From, m.From = "", "" }, "sms.from is empty"},
		{"no recipient", func(_ *engine.SMSSettings, m *engine.SMS) { m.To = "" }, "no recipient"},
		{"nothing to send", func(_ *engine.SMSSettings, m *engine.SMS) { m.Body, m.MediaURLs = "", nil }, "neither a body nor media"},
		{"not http", func(s *engine.SMSSettings, _ *engine.SMS) { s.BaseURL = "ftp://api.twilio.com" }, "sms.base_url"},
		{"credentials in the URL", func(s *engine.SMSSettings, _ *engine.SMS) {
			s.BaseURL = "https://" + accountSID + ":" + authToken + "@api.twilio.com"
		}, "sms.base_url"},
		{"a bad key", nil, "I-Twilio-Idempotency-Token"},
	} {
		key := "k"
		s, m := settings(srv.URL), text()
		if tc.f != nil {
			s, m = with(tc.f)
		} else {
			key = "k\r\nX-Evil: 1"
		}
		_, err := c.Send(context.Background(), s, key, m)
		if !engine.IsPermanent(err) || !strings.HasPrefix(err.Error(), "twilio: ") || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v; want a permanent error naming %q", tc.name, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), authToken) {
			t.Errorf("%s: error %q shows the auth token", tc.name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached Twilio", n)
	}
}

func TestIsUnsubscribed(t *testing.T) {
	for _, err := range []error{nil, errors.New("twilio: 21610"), engine.Permanent(errors.New("x")), &twilio.Error{Code: twilio.CodeInvalidTo}} {
		if twilio.IsUnsubscribed(err) {
			t.Errorf("IsUnsubscribed(%v) = true", err)
		}
	}
	err := fmt.Errorf("sending: %w", &twilio.Error{Status: 400, Code: twilio.CodeUnsubscribed})
	if !twilio.IsUnsubscribed(err) {
		t.Errorf("IsUnsubscribed(%v) = false", err)
	}
}
