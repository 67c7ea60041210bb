package transport

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes the transport. The zero value of every field means its default.
type Config struct {
	// AllowedOrigins lists the browser origins allowed to open /ws, as
	// websocket.AcceptOptions.OriginPatterns: host patterns matched with
	// path.Match ("shop.example.com", "*.example.com"), or "scheme://host"
	// patterns. The request's own host is always allowed (the host the
	// client asked for, which a trusted proxy may tell: TrustedProxies), and
	// a request with no Origin header (not a browser) is allowed: the token
	// says who it is.
	// Any other origin gets 403. Beware that "*" opens the socket to every
	// site on the web.
	AllowedOrigins []string

	// IdentitySecret verifies shopper identity tokens (PROTOCOL §1). With no
	// secret every token is refused and only anonymous visitors get in.
	IdentitySecret []byte

	// PreviousIdentitySecret is the secret being rotated out: tokens signed
	// with it are still accepted until PreviousSecretUntil, then refused, so
	// a store can change its secret without logging every shopper out.
	PreviousIdentitySecret []byte
	PreviousSecretUntil    time.Time

	// AdminToken is the bootstrap admin bearer token. Empty disables it.
	AdminToken string

	// MaxFrameBytes is the largest WebSocket message read; a larger one closes
	// the socket with 1009. Default 65536.
	MaxFrameBytes int64

	// MaxBodyBytes is the largest HTTP request body; a larger one gets 413
	// too_large. Default 1 MiB.
	MaxBodyBytes int64

	// MaxUploadBytes is the largest image POST /api/v1/uploads takes; a
	// larger one gets 413 too_large, and no more than this (and the form's
	// few headers around it) is read. Each upload in progress holds up to
	// this much memory. Default 10 MiB.
	MaxUploadBytes int64

	// PublicURL is the address people reach Parley at, such as
	// "https://chat.example.com" (a scheme, a host and an optional path
	// prefix, without a trailing slash; cmd/parley validates it). Upload URLs
	// are built on it, and a shopper's attachment must be one of them. Empty:
	// built from the request's Host, over https when the request came over
	// TLS — behind a TLS-terminating proxy, set it, or trust the proxy
	// (TrustedProxies) to tell the scheme and host the client used.
	PublicURL string

	// TrustedProxies are the reverse proxies whose forwarding headers
	// Parley believes (--trusted-proxies). From a peer in one of these
	// ranges, the client's address is the rightmost hop of Forwarded's for=
	// (or, without a Forwarded header, of X-Forwarded-For) that is not
	// itself a trusted proxy, and the scheme and host the client used come
	// from the same header (proto= and host=, or X-Forwarded-Proto and
	// X-Forwarded-Host): the per-address upgrade limit, the origin check,
	// the session cookie's Secure flag and URLs built from the request use
	// them. From any other peer those headers are ignored. Empty (the
	// default): no peer is trusted, and behind a proxy every client shares
	// the proxy's address and its upgrade budget (ConnRate). Beware that a
	// trusted proxy must overwrite or strip whichever of these headers it
	// does not set itself, or a client sets them through it; Forwarded
	// wins when both are present.
	TrustedProxies []netip.Prefix

	// SMSCallbacks, when set, learns from each verified inbound SMS webhook
	// the address the provider reaches the server at, for the delivery
	// reports of a server without PublicURL. The actor system asks it for
	// the reports' URLs.
	SMSCallbacks *SMSCallbacks

	// WebhookAllowPrivate lets webhook URLs point at loopback, link-local
	// and private addresses (--webhook-allow-private). Off, an admin cannot
	// aim a webhook at the server's own network (server-side request
	// forgery).
	WebhookAllowPrivate bool

	// StrictTransportSecurity, when set, is sent as the
	// Strict-Transport-Security header of every response, such as
	// "max-age=31536000" (HSTS). Set it only on a server whose every address
	// is https: for max-age, a browser that has seen it refuses plain http
	// to this host, and there is no taking it back early. Default: empty,
	// no header.
	StrictTransportSecurity string

	// WriteTimeout bounds each WebSocket write; a client that does not take a
	// frame in time is disconnected. Default 5 seconds.
	WriteTimeout time.Duration

	// SendQueue is the number of frames queued per socket. A socket whose
	// queue is full is disconnected rather than allowed to stall an actor.
	// Each queued frame holds its bytes, so this bounds memory per slow
	// client. Default 64.
	SendQueue int

	// PingInterval is how often the server pings a shopper socket, and
	// PingTimeout how long it waits for the pong. A peer that does not
	// answer in time is gone (a laptop closed, a network that dropped it)
	// and its socket is dropped; the pings also keep proxies that cut quiet
	// connections (nginx's 60-second proxy_read_timeout) from cutting a
	// quiet chat. Browsers answer pings by themselves. PingTimeout must
	// leave room for a frame being handled (the reader takes pongs only
	// between frames). Defaults 30 seconds each.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// ReplayBudget bounds the bytes of replayed events that every socket
	// together holds at once: a resume replays a conversation's log a page
	// at a time, and a page waits for room in the budget. However many
	// clients resume long conversations, and however slowly they read, the
	// server's memory for replays stays within it. Default 64 MiB.
	ReplayBudget int

	// HelloTimeout closes a socket that sends no hello in time (1008).
	// Default 10 seconds.
	HelloTimeout time.Duration

	// RateLimit is the sustained number of message.send frames per second
	// a socket may send, and RateBurst the bucket size; frames of every kind
	// together may come at frameAllowance times both. A frame over a limit
	// gets rate_limited; a socket that keeps going (more refused frames in a
	// row than the burst) is closed with 1008. Defaults 10/s and 20, which
	// never stop a person typing fast.
	RateLimit float64
	RateBurst int

	// MaxConnections caps the shopper sockets open at once; one more gets
	// 503 unavailable before the upgrade. 0 means no cap (the server's
	// command line sets one from its open-file limit).
	MaxConnections int

	// ConnRate is the sustained number of socket upgrades a second one
	// client address may make, and ConnBurst its burst; over it, 429
	// rate_limited with Retry-After. 0 means no limit. Many shoppers may
	// share an address (an office, a mobile carrier): keep this generous.
	ConnRate  float64
	ConnBurst int

	// APIRate is the sustained number of API requests a second per bearer
	// token, and APIBurst its burst; over it, 429 rate_limited with
	// Retry-After. 0 means no limit.
	APIRate  float64
	APIBurst int

	// SSEHeartbeat is how often an idle inbox stream gets a comment line,
	// which keeps proxies from closing it. Default 15 seconds.
	SSEHeartbeat time.Duration

	// Demo serves the demo store page at / and mints demo shopper tokens at
	// POST /demo/token (with IdentitySecret).
	Demo bool

	// ShareAdminToken lets the demo page offer the admin token to a visitor
	// on this machine (GET /demo/admin-token, from loopback only), so that
	// a newcomer signs in to the inbox with one click. Set it only for a
	// server that listens on loopback alone: never on one that others reach.
	ShareAdminToken bool

	// Gatherer serves /metrics. Default: the Registerer given to New, if it
	// is also a Gatherer (a *prometheus.Registry is).
	Gatherer prometheus.Gatherer

	// NoMetricsRoute leaves /metrics off this handler, for a server that
	// serves metrics on a separate listener.
	NoMetricsRoute bool

	// Logger receives the transport's logs. Default: discard.
	Logger *slog.Logger

	// Now is the clock (tokens, office hours, ids). Default time.Now.
	Now func() time.Time
}

func (c *Config) ensureDefaults() {
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 65536
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 10 << 20
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 64
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 30 * time.Second
	}
	if c.ReplayBudget <= 0 {
		c.ReplayBudget = 64 << 20
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 10 * time.Second
	}
	if c.RateLimit <= 0 {
		c.RateLimit = 10
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 20
	}
	if c.SSEHeartbeat <= 0 {
		c.SSEHeartbeat = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
