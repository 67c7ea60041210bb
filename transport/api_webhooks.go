package transport

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/webhook"
)

// Webhooks is the store's outbound webhooks (PROTOCOL §3, I3).
type Webhooks interface {
	Webhooks() []engine.Webhook
	Webhook(ctx context.Context, id string, limit int) (actors.WebhookStatus, error)
	CreateWebhook(ctx context.Context, w engine.Webhook) (engine.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
}

// webhookRoutes serves the webhook endpoints, to admins only: a webhook
// sends every ticket's messages to where it points.
func (s *Server) webhookRoutes() {
	s.api("GET /api/v1/webhooks", asAdmin, s.listWebhooks)
	s.api("GET /api/v1/webhooks/{id}", asAdmin, s.getWebhook)
	s.api("POST /api/v1/webhooks", asAdmin, s.createWebhook)
	s.api("DELETE /api/v1/webhooks/{id}", asAdmin, s.deleteWebhook)
}

// webhookJSON is an endpoint on the wire; the secret only in the answer
// to its creation.
type webhookJSON struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	CreatedAt string   `json:"created_at"`
	Secret    string   `json:"secret,omitempty"`
}

func webhookOut(w engine.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: wireTime(w.CreatedAt), Secret: w.Secret}
}

func (s *Server) listWebhooks(w http.ResponseWriter, _ *http.Request, _ engine.Agent) {
	all := s.hooks.Webhooks()
	out := make([]webhookJSON, 0, len(all))
	for _, h := range all {
		out = append(out, webhookOut(h))
	}
	writeJSON(w, http.StatusOK, struct {
		Webhooks []webhookJSON `json:"webhooks"`
	}{out})
}

// failedDeliveries is how many failed deliveries GET /webhooks/{id} lists.
const failedDeliveries = 20

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	st, err := s.hooks.Webhook(r.Context(), r.PathValue("id"), failedDeliveries)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type failure struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Ticket    string `json:"ticket"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
		CreatedAt string `json:"created_at"`
	}
	out := struct {
		webhookJSON
		Pending    int       `json:"pending"`
		Failed     int       `json:"failed"`
		Deliveries []failure `json:"deliveries"`
	}{webhookJSON: webhookOut(st.Webhook), Pending: st.Pending, Failed: st.Failed, Deliveries: []failure{}}
	for _, f := range st.Failures {
		out.Deliveries = append(out.Deliveries, failure{f.ID, f.Type, f.Ticket, f.Attempts, f.LastError, wireTime(f.CreatedAt)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var body struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decodeStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	hook := engine.Webhook{URL: body.URL, Events: body.Events}
	if err := engine.ValidateWebhook(hook); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := webhook.CheckURL(ctx, hook.URL, s.cfg.WebhookAllowPrivate, nil); err != nil {
		s.writeError(w, r, engine.Invalid("url", "%v", err))
		return
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hook.Secret = secret
	created, err := s.hooks.CreateWebhook(r.Context(), hook)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, webhookOut(created))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	if err := s.hooks.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// WebhookNotifier renders the notices of the store's webhooks as the API
// shows tickets and events and has sender sign and send them:
//
//	{"type":"message.created","timestamp":"<RFC 3339>",
//	 "data":{"ticket":{…a row as GET /api/v1/tickets lists it…},
//	         "event":{"seq","at","event":{…}}}}
//
// "ticket" is null for the handoff of a chat that is not a ticket;
// "event" is absent for ticket.created.
func WebhookNotifier(sender engine.WebhookSender) engine.WebhookNotifier {
	return webhookNotifier{sender}
}

type webhookNotifier struct{ sender engine.WebhookSender }

func (n webhookNotifier) Notify(ctx context.Context, w engine.Webhook, notice engine.WebhookNotice) error {
	body, err := webhookBody(notice)
	if err != nil {
		return engine.Permanent(err)
	}
	return n.sender.Send(ctx, w, engine.WebhookMessage{ID: notice.ID, Timestamp: time.Now(), Body: body})
}

func webhookBody(n engine.WebhookNotice) ([]byte, error) {
	type data struct {
		Ticket *rowJSON  `json:"ticket"`
		Event  *logEntry `json:"event,omitempty"`
	}
	d := data{}
	if n.Ticket != nil {
		r := row(*n.Ticket, n.At)
		d.Ticket = &r
	}
	if n.Event != nil {
		e := entry(*n.Event)
		d.Event = &e
	}
	return json.Marshal(struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      data   `json:"data"`
	}{n.Type, wireTime(n.At), d})
}
