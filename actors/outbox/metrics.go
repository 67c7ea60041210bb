package outbox

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec // target, result
	latency    *prometheus.HistogramVec
	pending    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, targets map[string]Target) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_outbox_deliveries_total",
			Help: "Attempts to deliver a call to another system (target email: notification mails), by result: sent, retried (failed and due again), failed (for good).",
		}, []string{"target", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_outbox_attempt_seconds",
			Help:    "Time of one delivery attempt, by target.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"target"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_outbox_pending",
			Help: "Calls to other systems stored and not yet delivered or given up.",
		}),
	}
	for t := range targets {
		for _, r := range []string{ResultSent, ResultRetried, ResultFailed} {
			m.deliveries.WithLabelValues(t, r)
		}
		m.latency.WithLabelValues(t)
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency, m.pending)
	}
	return m
}
