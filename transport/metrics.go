package transport

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/engine"
)

// metrics are the transport's Prometheus metrics. Labels never carry a user,
// ticket or conversation id.
type metrics struct {
	wsConnections prometheus.Gauge
	wsRefused     *prometheus.CounterVec // reason
	messages      *prometheus.CounterVec // channel, direction
	httpRequests  *prometheus.CounterVec // route, code
	sseStreams    prometheus.Gauge
	wsAck         prometheus.Histogram
	panics        *prometheus.CounterVec // where
	replayBytes   prometheus.Gauge
	uploads       *prometheus.CounterVec // result
	smsRefused    prometheus.Counter
}

// Reasons a socket is refused or closed by the server.
const (
	refusedOrigin      = "origin"
	refusedUnavailable = "unavailable"
	refusedToken       = "token"
	refusedHello       = "hello_timeout"
	refusedAbuse       = "rate_limited"
	refusedSlow        = "slow_client"
	refusedTooBig      = "too_large"
	refusedWrite       = "write_failed" // a write timed out or failed: the client stopped reading
	refusedConnRate    = "connect_rate" // too many upgrades from one address
	refusedCapacity    = "capacity"     // MaxConnections reached
	refusedUTF8        = "invalid_utf8"
	refusedPing        = "ping_timeout" // the peer stopped answering pings
)

// refusalReasons are every reason a socket is refused for, so that each
// series exists from the first scrape.
var refusalReasons = []string{refusedOrigin, refusedUnavailable, refusedToken, refusedHello, refusedAbuse,
	refusedSlow, refusedTooBig, refusedWrite, refusedConnRate, refusedCapacity, refusedUTF8, refusedPing}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		wsConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_ws_connections", Help: "Shopper WebSocket connections open now.",
		}),
		wsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_ws_connections_refused_total",
			Help: "Shopper WebSocket connections refused or closed by the server, by reason.",
		}, []string{"reason"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_messages_total",
			Help: "Messages stored, by channel and direction (in: from shoppers, out: from agents).",
		}, []string{"channel", "direction"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		sseStreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_sse_streams", Help: "Inbox event streams open now.",
		}),
		wsAck: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_ws_ack_seconds",
			Help:    "Time from reading a shopper's message.send to queueing its ack: the server's part of send → ack, the fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_ws_panics_total",
			Help: "Panics recovered in a shopper socket's goroutines, by where: each closed its one socket with 1011.",
		}, []string{"where"}),
	}
	m.replayBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_ws_replay_bytes",
		Help: "Bytes of replayed events that sockets hold now, within the replay budget.",
	})
	m.uploads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_uploads_total",
		Help: "Uploads by result: accepted, or why refused (bad_form, too_large, unsupported_type, malformed, too_many_pixels).",
	}, []string{"result"})
	m.smsRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_sms_webhooks_refused_total",
		Help: "SMS provider webhooks refused because their signature did not verify (I2).",
	})
	for _, where := range []string{"read", "frame", "write", "subscribe", "ping", "close"} {
		m.panics.WithLabelValues(where) // every known series exists from the first scrape
	}
	for _, result := range uploadResults {
		m.uploads.WithLabelValues(result)
	}
	for _, reason := range refusalReasons {
		m.wsRefused.WithLabelValues(reason)
	}
	for _, ch := range []engine.Channel{engine.ChannelWebchat, engine.ChannelSMS} {
		m.messages.WithLabelValues(string(ch), "in")
		m.messages.WithLabelValues(string(ch), "out")
	}
	if reg != nil {
		reg.MustRegister(m.wsConnections, m.wsRefused, m.messages, m.httpRequests, m.sseStreams, m.wsAck, m.panics, m.replayBytes, m.uploads, m.smsRefused)
	}
	return m
}
