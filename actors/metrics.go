package actors

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/engine"
)

// metrics of the actor system (O1). No label ever carries a user, ticket or
// conversation id.
type metrics struct {
	persist  prometheus.Histogram
	receive  prometheus.Histogram
	actors   *prometheus.GaugeVec
	tickets  *prometheus.GaugeVec
	badge    prometheus.Gauge
	waiting  prometheus.Gauge
	sessions prometheus.Counter
	messages *prometheus.CounterVec

	firstResponse prometheus.Histogram
	wait          prometheus.Histogram
	alerts        prometheus.Counter

	aiAnswers     prometheus.Counter
	smsSent       prometheus.Counter
	aiResolutions prometheus.Counter
	aiLatency     prometheus.Histogram
	handoffs      *prometheus.CounterVec // target, outcome
}

// Outcomes of a handoff, as counted.
const (
	handoffRequested = "requested" // the AI handed off (stored, with its outbox entry for Zendesk or Gorgias)
	handoffCreated   = "created"   // Zendesk or Gorgias created the ticket
	handoffFailed    = "failed"    // they did not: the conversation fell back to a Helpdesk ticket
)

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
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_tickets_waiting", Help: "Open tickets whose customer awaits an answer (H10).",
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
	m.smsSent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_sms_sent_total", Help: "Agents' answers the SMS provider took to send (I2).",
	})
	m.aiAnswers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_ai_answers_total", Help: "Answers the AI agent gave shoppers (S10).",
	})
	m.aiResolutions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_ai_resolutions_total", Help: "Conversations the AI agent answered that ended without a handoff to people.",
	})
	m.aiLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "parley_ai_answer_seconds", Help: "Time the answerer took over one shopper message.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	m.handoffs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_handoffs_total",
		Help: "Handoffs of conversations from the AI agent, by target (helpdesk, zendesk, gorgias, message) and outcome (requested; for zendesk and gorgias also created or failed).",
	}, []string{"target", "outcome"})
	for _, s := range []string{"open", "snoozed", "closed"} {
		m.tickets.WithLabelValues(s)
	}
	for _, ch := range []engine.Channel{engine.ChannelWebchat, engine.ChannelSMS} {
		for _, from := range []engine.Party{engine.PartyShopper, engine.PartyAgent, engine.PartyAI, engine.PartySystem} {
			m.messages.WithLabelValues(string(ch), string(from))
		}
	}
	for _, t := range []string{engine.HandoffHelpdesk, engine.HandoffZendesk, engine.HandoffGorgias, engine.HandoffMessage} {
		m.handoffs.WithLabelValues(t, handoffRequested)
	}
	for _, t := range []string{engine.HandoffZendesk, engine.HandoffGorgias} {
		m.handoffs.WithLabelValues(t, handoffCreated)
		m.handoffs.WithLabelValues(t, handoffFailed)
	}
	if reg != nil {
		reg.MustRegister(m.persist, m.receive, m.actors, m.tickets, m.badge, m.waiting, m.sessions, m.messages,
			m.firstResponse, m.wait, m.alerts, m.smsSent, m.aiAnswers, m.aiResolutions, m.aiLatency, m.handoffs)
	}
	return m
}
