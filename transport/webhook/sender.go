package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
)

// Defaults and bounds of Sender.
const (
	// DefaultTimeout bounds one attempt, from the dial to the end of the
	// answer. Standard Webhooks suggests 15 to 30 s; Parley asks its
	// receivers to answer within 10 s and do slow work after, since every
	// attempt holds one of the outbox's workers.
	DefaultTimeout = 10 * time.Second

	// UserAgent is the User-Agent of every delivery.
	UserAgent = "Parley-Webhooks/1"

	// MaxAnswer is how much of an answer's body is read, in bytes: a
	// receiver's answer means nothing but its status, and an error quotes
	// at most httpcall.MaxMessage bytes of it.
	MaxAnswer = 4 << 10

	// MaxAnswerHeader bounds an answer's headers, in bytes.
	MaxAnswerHeader = 64 << 10
)

// A Sender delivers webhooks: one signed POST per call, to the endpoint's
// URL, its outcome sorted for the outbox. It is the engine.WebhookSender
// that main gives the actors.
//
// The zero value is usable, with the defaults the fields name, and refuses
// every address that is not public. A Sender is safe for concurrent use;
// its fields must not change after the first Send, which builds its HTTP
// transport from them, and it must not be copied after that. It keeps
// connections to endpoints open between deliveries; CloseIdleConnections
// closes them.
type Sender struct {
	// Timeout bounds one attempt, from the dial to the last byte read of
	// the answer; the context given to Send may end it sooner. Default:
	// DefaultTimeout.
	Timeout time.Duration

	// AllowPrivate lets deliveries go to addresses that are not public:
	// loopback, private networks (10/8, 172.16/12, 192.168/16,
	// fc00::/7), link-local (169.254/16 with the clouds' metadata
	// service, fe80::/10), carrier-grade NAT, reserved and documentation
	// ranges. Default false, and it should stay false wherever the people
	// who register webhooks are not the people who run the server: a
	// webhook's URL is a request that anyone with an admin token makes
	// Parley send from inside its network (server-side request forgery),
	// and whose answer the delivery log shows them. Set it
	// (--webhook-allow-private) to deliver to a receiver on the same
	// host or network.
	AllowPrivate bool

	// Resolver looks up endpoints' host names. Default: net.DefaultResolver.
	Resolver *net.Resolver

	// Now is the clock of the webhook-timestamp header and of Retry-After
	// dates. Default: time.Now.
	Now func() time.Time

	once      sync.Once
	client    *http.Client
	transport *http.Transport
}

// Send delivers m to w: a POST of m.Body, unchanged, to w.URL, signed with
// w.Secret (see Sign) and stamped with the time of this attempt (not
// m.Timestamp, so that a retry a day later still passes the receiver's
// replay check). It follows no redirect and goes through no proxy.
//
// It returns nil for a 2xx answer. Every other outcome is an error for
// the outbox: engine.RetryAfter for a 429 or a 503 with a Retry-After it
// can read; engine.Permanent when the endpoint is at an address that is not
// public (and AllowPrivate is false), or when w or m cannot make a request
// (a malformed secret, URL or id); a plain error, to be retried, for every
// other status (a 3xx, 4xx including 410 Gone, 5xx), a timeout or a
// network failure. Errors start with "webhook: ", name the endpoint
// without its query, and never contain the secret.
func (s *Sender) Send(ctx context.Context, w engine.Webhook, m engine.WebhookMessage) error {
	s.once.Do(s.init)

	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		return engine.Permanent(errors.New("webhook: the endpoint's URL is not an http(s) URL with a host and without credentials"))
	}
	where := u.Scheme + "://" + u.Host + u.EscapedPath() // the query may hold the receiver's token
	now := s.now()
	sig, err := Sign(w.Secret, m.ID, now, m.Body)
	if err != nil {
		return engine.Permanent(fmt.Errorf("webhook: %s: %w", where, err))
	}

	timedOut := fmt.Errorf("%w: no answer from %s within %v", context.DeadlineExceeded, u.Host, s.timeout())
	ctx, cancel := context.WithTimeoutCause(ctx, s.timeout(), timedOut)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(m.Body))
	if err != nil {
		return engine.Permanent(fmt.Errorf("webhook: %s: %w", where, err))
	}
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)

	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportError(ctx, where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswer)) // lets a short answer's connection be reused
		return nil
	}
	text, _ := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	se := &StatusError{
		Code:     resp.StatusCode,
		Message:  redact(httpcall.Message(text), w.Secret),
		Location: redact(httpcall.Message([]byte(resp.Header.Get("Location"))), w.Secret),
	}
	err = fmt.Errorf("webhook: %s: %w", where, se)
	if se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable {
		if d, ok := httpcall.ParseRetryAfter(resp.Header, s.now()); ok {
			return engine.RetryAfter(err, d)
		}
	}
	return err
}

// CloseIdleConnections closes the connections to endpoints that are open
// and idle, as at shutdown. Later deliveries open new ones.
func (s *Sender) CloseIdleConnections() {
	s.once.Do(s.init)
	s.transport.CloseIdleConnections()
}

func (s *Sender) init() {
	dialer := &net.Dialer{Timeout: s.timeout(), KeepAlive: 30 * time.Second, Resolver: s.Resolver}
	if !s.AllowPrivate {
		dialer.ControlContext = refusePrivate
	}
	s.transport = &http.Transport{
		Proxy:                  nil, // a proxy would make the connection, and the dialer could check nothing
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    s.timeout(),
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: MaxAnswerHeader,
		DisableCompression:     true,
	}
	s.client = &http.Client{
		Transport: s.transport,
		// A POST turned into a GET delivers nothing, and a redirect could
		// lead anywhere: the admin sets the URL where the receiver is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// transportError is err, from sending a request or reading its answer, as
// Send returns it: a refused address marked Permanent; otherwise the
// context's cause in place of the error its end provoked, without
// net/url's copy of the URL, and plain.
func (s *Sender) transportError(ctx context.Context, where string, err error) error {
	var refused *refusedError
	if errors.As(err, &refused) {
		return engine.Permanent(fmt.Errorf("webhook: %s resolves to %s, %s address, not a public one; --webhook-allow-private allows it",
			where, refused.addr, refused.kind))
	}
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	} else if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	return fmt.Errorf("webhook: %s: %w", where, err)
}

// StatusError is an endpoint's answer other than 2xx.
type StatusError struct {
	Code     int    // the HTTP status code
	Message  string // the answer's body, on one line, at most httpcall.MaxMessage bytes
	Location string // for a 3xx: where the endpoint redirected to
}

// Error reads as "500 Internal Server Error: {…the body…}".
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Code, http.StatusText(e.Code))
	if e.Code >= 300 && e.Code <= 399 {
		loc := e.Location
		if loc == "" {
			loc = "nowhere"
		}
		fmt.Fprintf(&b, ": redirected to %s, which is not followed; the webhook's URL must be where the receiver answers", loc)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// redact takes the secret, and its key's base64 alone, out of s: a
// receiver's error page might echo its own configuration.
func redact(s, secret string) string {
	if key := strings.TrimPrefix(secret, SecretPrefix); key != "" {
		s = strings.ReplaceAll(s, key, "[secret]")
	}
	return s
}
