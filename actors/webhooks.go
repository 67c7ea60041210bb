package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// targetWebhook is the outbox target of webhook deliveries; each endpoint
// is a destination of it ("webhook:<id>"), with a queue of its own.
const targetWebhook = "webhook"

// webhookConcurrency is how many deliveries to one endpoint run at once,
// each for a different ticket: one ticket's are delivered in order.
const webhookConcurrency = 4

// webhookTarget delivers webhooks in order per ticket and endpoint, retried
// with back-off for the outbox's give-up age (a day), then kept as failed.
func (s *System) webhookTarget() outbox.Target {
	return outbox.Target{Deliver: s.deliverWebhook, Ordered: true, Concurrency: webhookConcurrency}
}

// webhookPayload is a webhook outbox entry: the endpoint and the notice,
// as it was when the change was stored.
type webhookPayload struct {
	Webhook string               `json:"webhook"`
	Notice  engine.WebhookNotice `json:"notice"`
}

// webhookEntries are the webhook deliveries a commit owes: one per event
// type it causes and endpoint that subscribes to it, stored with the
// change. row is the ticket's row after the commit (nil when the
// conversation is not a ticket); created, whether the commit made it one.
func (a *conversationActor) webhookEntries(events []engine.Event, row *engine.TicketRow, created bool) []persist.OutboxEntry {
	hooks := a.sys.conf.Webhooks()
	if len(hooks) == 0 {
		return nil
	}
	var out []persist.OutboxEntry
	now := a.sys.cfg.Now()
	add := func(typ string, seq uint64, e *engine.Event) {
		n := engine.WebhookNotice{
			ID:   fmt.Sprintf("msg_%s_%d_%d", a.id, seq, slices.Index(engine.WebhookEvents, typ)),
			Type: typ, At: now.UTC(), Ticket: row, Event: e,
		}
		if e != nil {
			n.At = e.At
		}
		for _, w := range hooks {
			if !w.Wants(typ) {
				continue
			}
			payload, err := json.Marshal(webhookPayload{Webhook: w.ID, Notice: n})
			if err != nil {
				a.sys.log.Error("webhook notice", slog.Any("err", err))
				continue
			}
			key := fmt.Sprintf("%s/%d.%d/%s:%s", a.id, seq, slices.Index(engine.WebhookEvents, typ), targetWebhook, w.ID)
			out = append(out, persist.OutboxEntry{Key: key, Target: targetWebhook, Payload: payload, Created: now, NextAt: now})
		}
	}
	if created {
		first := events[0].Seq
		for _, e := range events {
			if e.Kind == engine.KindMessage {
				first = e.Seq
				break
			}
		}
		add(engine.WebhookTicketCreated, first, nil)
	}
	for i := range events {
		e := &events[i]
		switch {
		case e.Kind == engine.KindMessage && row != nil:
			add(engine.WebhookMessageCreated, e.Seq, e)
		case e.Kind == engine.KindAssigned && row != nil:
			add(engine.WebhookTicketAssigned, e.Seq, e)
		case e.Kind == engine.KindHandoff:
			add(engine.WebhookHandoff, e.Seq, e)
		case e.Kind == engine.KindEnded && row != nil:
			add(engine.WebhookTicketClosed, e.Seq, e)
		}
	}
	return out
}

// deliverWebhook sends one notice to its endpoint, as the endpoint is
// registered now; one deleted since is dropped.
func (s *System) deliverWebhook(ctx context.Context, key string, payload []byte) error {
	if s.cfg.Webhooks == nil {
		return engine.Permanent(fmt.Errorf("this server has no webhook sender"))
	}
	var p webhookPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return engine.Permanent(fmt.Errorf("webhook entry: %w", err))
	}
	w, ok := s.conf.Webhook(p.Webhook)
	if !ok {
		s.log.Info("webhook dropped: its endpoint was deleted", slog.String("key", key))
		return nil
	}
	return s.cfg.Webhooks.Notify(ctx, w, p.Notice)
}

// Webhooks returns the registered endpoints, without their secrets.
func (s *System) Webhooks() []engine.Webhook {
	hooks := slices.Clone(s.conf.Webhooks())
	for i := range hooks {
		hooks[i].Secret = ""
	}
	return hooks
}

// CreateWebhook registers an endpoint with its secret (I3), which the
// answer carries this once.
func (s *System) CreateWebhook(ctx context.Context, w engine.Webhook) (engine.Webhook, error) {
	if s.cfg.Webhooks == nil {
		return engine.Webhook{}, engine.Invalid("url", "this server has no webhook sender")
	}
	return s.conf.CreateWebhook(w, s.cfg.Now())
}

// DeleteWebhook removes an endpoint; deliveries still owed to it are
// dropped.
func (s *System) DeleteWebhook(ctx context.Context, id string) error {
	return s.conf.DeleteWebhook(id)
}

// WebhookFailure is a delivery that failed for good.
type WebhookFailure struct {
	ID        string // the notice's id (webhook-id)
	Type      string
	Ticket    string
	Attempts  int
	LastError string
	CreatedAt time.Time
}

// WebhookStatus is an endpoint with what is owed to it: deliveries not yet
// done, and those that failed for good with the latest of them.
type WebhookStatus struct {
	Webhook  engine.Webhook
	Pending  int
	Failed   int
	Failures []WebhookFailure
}

// Webhook returns an endpoint, without its secret, and its deliveries'
// state.
func (s *System) Webhook(ctx context.Context, id string, limit int) (WebhookStatus, error) {
	w, ok := s.conf.Webhook(id)
	if !ok {
		return WebhookStatus{}, engine.ErrNotFound
	}
	w.Secret = ""
	pending, failed, latest, err := s.store.OutboxOf("/"+targetWebhook+":"+id, limit)
	if err != nil {
		return WebhookStatus{}, storageError(s.log, "webhook deliveries", err)
	}
	st := WebhookStatus{Webhook: w, Pending: pending, Failed: failed, Failures: []WebhookFailure{}}
	for _, e := range latest {
		var p webhookPayload
		_ = json.Unmarshal(e.Payload, &p)
		f := WebhookFailure{ID: p.Notice.ID, Type: p.Notice.Type, Attempts: e.Attempts, LastError: e.LastError, CreatedAt: e.Created}
		f.Ticket = outbox.ParseKey(e.Key).Stream
		st.Failures = append(st.Failures, f)
	}
	return st, nil
}
