package actors

import "github.com/prometheus/client_golang/prometheus"

// metrics of the actor system (O1). No label ever carries a user, ticket or
// conversation id.
type metrics struct {
	persist  prometheus.Histogram
	receive  prometheus.Histogram
	actors   *prometheus.GaugeVec
	tickets  *prometheus.GaugeVec
	badge    prometheus.Gauge
	sessions prometheus.Counter
	messages *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		persist: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_persist_commit_seconds", Help: "Time to commit a conversation change durably (fsync'd).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		receive: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_actor_receive_seconds", Help: "Time a conversation actor spends on one command, storage included.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 20),
		}),
		actors: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_actors_active", Help: "Live actors by kind (idle ones passivate).",
		}, []string{"kind"}),
		tickets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_tickets", Help: "Tickets by status.",
		}, []string{"status"}),
		badge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_tickets_unread", Help: "Open tickets with unread customer messages (the badge).",
		}),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_chat_sessions_started_total", Help: "Live chat sessions started.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_conversation_messages_total", Help: "Messages stored, by channel and sender.",
		}, []string{"channel", "from"}),
	}
	if reg != nil {
		reg.MustRegister(m.persist, m.receive, m.actors, m.tickets, m.badge, m.sessions, m.messages)
	}
	return m
}
