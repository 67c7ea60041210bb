package httpcall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/engine"
)

// Defaults and bounds of Client.
const (
	// DefaultTimeout bounds one attempt, from the dial to the last byte of
	// the answer. It leaves room inside the 20 s within which an external
	// handoff must have succeeded (PROTOCOL §3) for the outbox's own work.
	DefaultTimeout = 15 * time.Second

	// DefaultRetryAfter is the wait asked of the outbox after a 429 that
	// says nothing of when to come back.
	DefaultRetryAfter = 60 * time.Second

	// MaxMessage is how much of the other side's error body an error
	// keeps, in bytes: enough for a validation error naming its field,
	// not enough for a proxy's whole HTML page.
	MaxMessage = 500

	// MaxBody is how much of a successful answer Post reads, in bytes. A
	// created ticket is a few kilobytes; one that echoes a long transcript
	// is more, never this much.
	MaxBody = 8 << 20

	// maxErrorBody is how much of an error answer is read to find its
	// message.
	maxErrorBody = 64 << 10
)

// A Client makes one POST at a time to another system's REST API. The
// zero value is usable, with the defaults EnsureDefaults fills in. A Client
// is safe for concurrent use as long as its fields do not change after the
// first call.
type Client struct {
	// HTTPClient sends the requests. Default: a client on
	// http.DefaultTransport (which honours HTTPS_PROXY and NO_PROXY). Its
	// CheckRedirect is replaced, on a copy: redirects are never followed.
	// Its own Timeout, if any, applies as well as Timeout.
	HTTPClient *http.Client

	// Timeout bounds one attempt, from the dial to the end of the answer;
	// the context given to Post may end it sooner. Default: DefaultTimeout.
	Timeout time.Duration

	// Now is the clock that turns a Retry-After date into a wait.
	// Default: time.Now.
	Now func() time.Time
}

// EnsureDefaults fills in every zero field with its default and returns c.
func (c *Client) EnsureDefaults() *Client {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Request is one POST with HTTP basic authentication, whose body is JSON
// (Body) or an HTML form (Form).
type Request struct {
	// Service names the other system in every error: "zendesk".
	Service string
	// URL is where the request goes; see Endpoint.
	URL *url.URL
	// Username and Password are the basic credentials. Password never
	// appears in an error.
	Username, Password string
	// Header holds extra headers, such as Idempotency-Key.
	Header http.Header
	// Body is encoded as the JSON body, sent as application/json. It
	// must be nil when Form is set.
	Body any
	// Form, when not nil, is the body instead of Body: Form.Encode(), sent
	// as application/x-www-form-urlencoded, the way APIs such as Twilio's
	// take their parameters. Setting both Form and Body is an error, marked
	// engine.Permanent, and nothing is sent.
	Form url.Values
}

// Post sends r and returns the body of a 2xx answer (at most MaxBody
// bytes). Every other outcome is an error sorted as the package doc says:
// engine.Permanent, engine.RetryAfter, or plain (worth retrying). No error
// contains r.Password.
func (c *Client) Post(ctx context.Context, r Request) ([]byte, error) {
	var cc Client
	if c != nil {
		cc = *c // a copy, so that EnsureDefaults writes nothing shared
	}
	cc.EnsureDefaults()
	return cc.post(ctx, r)
}

func (c *Client) post(ctx context.Context, r Request) ([]byte, error) {
	if r.URL == nil {
		return nil, engine.Permanent(fmt.Errorf("%s: no URL to post to", r.Service))
	}
	where := "POST " + r.URL.Redacted()
	payload, ctype, err := r.payload()
	if err != nil {
		return nil, engine.Permanent(fmt.Errorf("%s: %s: %w", r.Service, where, err))
	}
	for name, values := range r.Header {
		for _, v := range values {
			if !validHeaderValue(v) {
				return nil, engine.Permanent(fmt.Errorf("%s: %s: header %s %q is not a valid header value", r.Service, where, name, v))
			}
		}
	}

	timedOut := fmt.Errorf("%w: no answer from %s within %v", context.DeadlineExceeded, r.URL.Host, c.Timeout)
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout, timedOut)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL.String(), bytes.NewReader(payload))
	if err != nil {
		return nil, engine.Permanent(fmt.Errorf("%s: %s: %w", r.Service, where, err))
	}
	for name, values := range r.Header {
		req.Header[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Parley")
	req.SetBasicAuth(r.Username, r.Password)

	hc := *c.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(ctx, r.Service, where, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		if err != nil {
			return nil, transportError(ctx, r.Service, where+": reading the answer", err)
		}
		return body, nil
	}
	text, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	se := &StatusError{
		Service:  r.Service,
		Code:     resp.StatusCode,
		Message:  redact(Message(text), r.Password), // in case the other side echoes it
		Location: redact(Message([]byte(resp.Header.Get("Location"))), r.Password),
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		se.As = r.Username
	}
	return nil, classify(se, resp.Header, c.Now())
}

// payload is r's body and its content type: the form when there is one,
// else the JSON of Body.
func (r Request) payload() ([]byte, string, error) {
	if r.Form != nil {
		if r.Body != nil {
			return nil, "", errors.New("the request has both a form and a JSON body; it can send only one")
		}
		return []byte(r.Form.Encode()), "application/x-www-form-urlencoded", nil
	}
	b, err := json.Marshal(r.Body)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the body: %w", err)
	}
	return b, "application/json", nil
}

// classify marks se for the outbox by its status.
func classify(se *StatusError, h http.Header, now time.Time) error {
	code := se.Code
	switch {
	case code == http.StatusTooManyRequests:
		d, ok := ParseRetryAfter(h, now)
		if !ok {
			d = DefaultRetryAfter
		}
		return engine.RetryAfter(se, d)
	case code == http.StatusRequestTimeout:
		return se
	case code >= 500 && code <= 599:
		if d, ok := ParseRetryAfter(h, now); ok {
			return engine.RetryAfter(se, d)
		}
		return se
	case code >= 300 && code <= 499:
		return engine.Permanent(se)
	}
	return se // 1xx or a status outside HTTP's: the other side is confused; try again later
}

// transportError is err, from sending a request or reading its answer, as
// Post returns it: the context's cause in place of the error its end
// provoked, and without net/url's copy of the URL.
func transportError(ctx context.Context, service, where string, err error) error {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	} else if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	return fmt.Errorf("%s: %s: %w", service, where, err)
}

// StatusError is an answer other than 2xx.
type StatusError struct {
	Service  string // the other system: "zendesk"
	Code     int    // the HTTP status code
	Message  string // the other side's error body, on one line, at most MaxMessage bytes
	As       string // for 401 and 403: the user the request authenticated as
	Location string // for 3xx: where the other side redirected to
}

// Error reads as "zendesk: 422 Unprocessable Entity: {…the body…}".
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", e.Service, e.Code, http.StatusText(e.Code))
	if e.As != "" {
		fmt.Fprintf(&b, " (as %s)", e.As)
	}
	if e.Code >= 300 && e.Code <= 399 {
		loc := e.Location
		if loc == "" {
			loc = "nowhere"
		}
		fmt.Fprintf(&b, ": redirected to %s; the base URL must be where the API answers", loc)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// ParseRetryAfter is the wait that h's Retry-After asks for, as
// delay-seconds or as an HTTP date (RFC 9110 §10.2.3) compared with now,
// and whether it asks for one. A date in the past asks for no wait.
func ParseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		const maxSeconds = 1 << 31 // 68 years: beyond, a wait is as good as forever
		return time.Duration(min(n, maxSeconds)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Message is an error body as an error quotes it: JSON compacted, any
// other text with its white space folded, on one line, without control
// characters, at most MaxMessage bytes.
func Message(body []byte) string {
	var s string
	var buf bytes.Buffer
	if json.Valid(body) && json.Compact(&buf, body) == nil {
		s = buf.String()
	} else {
		s = strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Endpoint is the URL of path under base, the base URL an admin set.
// base must be an absolute http(s) URL with a host and without
// credentials, query or fragment; a trailing slash does not matter. prefix
// is the API's own root ("/api/v2"): it is added unless base already ends
// with it, since admins paste either the site's address or the API's.
func Endpoint(base, prefix, path string) (*url.URL, error) {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL", base)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q is not an http(s) URL", u.Redacted())
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%q has no host", u.Redacted())
	case u.User != nil:
		return nil, fmt.Errorf("%q has credentials in it; they have fields of their own", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%q has a query or a fragment", u.Redacted())
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, prefix) {
		p += prefix
	}
	u.Path, u.RawPath = p+path, ""
	return u, nil
}

// validHeaderValue reports whether v may go into a header field as it is
// (RFC 9110 §5.5, without obsolete line folding).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// redact takes secret out of s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[secret]")
}
