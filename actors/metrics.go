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

	firstResponse prometheus.Histogram
	wait          prometheus.Histogram
	alerts        prometheus.Counter
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
	// Customer waits run from seconds to hours: 1 s doubling to about 9 h.
	waits := prometheus.ExponentialBuckets(1, 2, 16)
	m.firstResponse = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "parley_first_response_seconds", Buckets: waits,
		Help: "Time from a ticket's first customer message to the first answer by an agent or the AI.",
	})
	m.wait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "parley_customer_wait_seconds", Buckets: waits,
		Help: "Each customer wait an answer ended: from the first unanswered customer message to the answer (H10).",
	})
	m.alerts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_waiting_alerts_total",
		Help: "Waiting alerts raised: a customer waited past waiting_alert_after, once per interval of the wait (H10).",
	})
	for _, s := range []string{"open", "snoozed", "closed"} {
		m.tickets.WithLabelValues(s)
	}
	if reg != nil {
		reg.MustRegister(m.persist, m.receive, m.actors, m.tickets, m.badge, m.sessions, m.messages,
			m.firstResponse, m.wait, m.alerts)
	}
	return m
}
