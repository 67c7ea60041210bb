package transport

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
)

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, p engine.Agent) {
	q, err := ticketQuery(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, next, err := s.desk.Tickets(r.Context(), q, p.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Tickets    []rowJSON `json:"tickets"`
		NextCursor *string   `json:"next_cursor"`
	}{rows(list, s.cfg.Now()), nonEmpty(next)})
}

// ticketQuery reads and checks the list's query string, naming a bad parameter.
func ticketQuery(r *http.Request, p engine.Agent) (actors.TicketQuery, error) {
	v := r.URL.Query()
	q := actors.TicketQuery{Status: engine.StatusOpen, Limit: 50, Cursor: v.Get("cursor")}
	if st := v.Get("status"); st != "" {
		q.Status = engine.TicketStatus(st)
		if !engine.ValidStatus(q.Status) {
			return q, engine.Invalid("status", "must be open, snoozed or closed")
		}
	}
	switch ch := engine.Channel(v.Get("channel")); ch {
	case "", engine.ChannelWebchat, engine.ChannelSMS:
		q.Channel = ch
	default:
		return q, engine.Invalid("channel", "must be webchat or sms")
	}
	switch a := v.Get("assignee"); {
	case a == "me":
		q.Assignee = p.ID
	case a == "none":
		q.Assignee = actors.Unassigned
	case a == "" || engine.ValidID(a):
		q.Assignee = a
	default:
		return q, engine.Invalid("assignee", "must be me, none or an agent id")
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return q, engine.Invalid("limit", "must be a number from 1 to 200")
		}
		q.Limit = n
	}
	if len(q.Cursor) > 1024 {
		return q, engine.Invalid("cursor", "is not a cursor from this server")
	}
	return q, nil
}

// getTicket is GET /api/v1/tickets/{id}: the row, the log and the profile.
// With ?after=<seq> the log holds only the events after that seq: what a
// page showing the ticket has not seen yet.
func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var after uint64
	if a := r.URL.Query().Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			s.writeError(w, r, engine.Invalid("after", "must be a seq: a whole number"))
			return
		}
		after = n
	}
	view, err := s.desk.TicketAfter(r.Context(), r.PathValue("id"), after)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	prof := profileJSON{ID: view.Row.Profile.ID, Name: view.Row.Profile.Name, Events: []profileEventJSON{}}
	if view.Row.Profile.ID != "" {
		p, next, err := s.profiles.ProfilePage(r.Context(), view.Row.Profile.ID, 0, "")
		switch {
		case err == nil:
			prof = profileOut(p, next)
		case engine.ErrorCode(err) != engine.CodeNotFound:
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Ticket     rowJSON        `json:"ticket"`
		Events     []logEntry     `json:"events"`
		Profile    profileJSON    `json:"profile"`
		Deliveries []deliveryJSON `json:"deliveries"`
	}{row(view.Row, s.cfg.Now()), entries(view.Events), prof, deliveries(view.Deliveries)})
}

// deliveryJSON is what became of an agent's message sent by SMS, as a
// ticket's view lists it: agents alone see it, so it is not an event of
// the conversation's log.
type deliveryJSON struct {
	Message uint64 `json:"message"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	At      string `json:"at"`
}

// deliveries lists the reports by message, oldest message first; [] for a
// ticket with none (every web-chat ticket).
func deliveries(d map[uint64]engine.Delivery) []deliveryJSON {
	out := make([]deliveryJSON, 0, len(d))
	for _, seq := range slices.Sorted(maps.Keys(d)) {
		out = append(out, deliveryJSON{Message: seq, Status: d[seq].Status, Error: d[seq].Error, At: wireTime(d[seq].At)})
	}
	return out
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, p engine.Agent) {
	var body struct {
		ClientID    string              `json:"client_id"`
		Text        string              `json:"text"`
		Attachments []engine.Attachment `json:"attachments"`
		Macro       string              `json:"macro"`
	}
	if err := decode(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	var posted actors.Posted
	var err error
	if body.Macro != "" {
		// The text is made from the macro (its body, or the agent's
		// edit of it) for this ticket, then checked as any message is.
		posted, err = s.desk.ReplyWithMacro(r.Context(), r.PathValue("id"), p, actors.MacroReply{
			Macro: body.Macro, Text: body.Text, Attachments: body.Attachments, ClientID: body.ClientID})
	} else if err = engine.ValidateMessage(body.ClientID, body.Text, body.Attachments); err == nil {
		posted, err = s.desk.Reply(r.Context(), r.PathValue("id"), p, body.Text, body.Attachments, body.ClientID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	if posted.Duplicate {
		status = http.StatusOK
	} else {
		s.m.messages.WithLabelValues(string(posted.Channel), "out").Inc()
	}
	writeJSON(w, status, struct {
		Seq uint64 `json:"seq"`
	}{posted.Seq})
}

func (s *Server) readTicket(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var body struct {
		Seq *uint64 `json:"seq"`
	}
	if err := decode(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if body.Seq == nil {
		s.writeError(w, r, engine.Invalid("seq", "is required"))
		return
	}
	if err := s.desk.AgentRead(r.Context(), r.PathValue("id"), *body.Seq); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) assignTicket(w http.ResponseWriter, r *http.Request, p engine.Agent) {
	var body struct {
		Agent json.RawMessage `json:"agent"`
	}
	if err := decode(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	ref, err := s.assignee(body.Agent, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tr, err := s.desk.Assign(r.Context(), r.PathValue("id"), ref)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row(tr, s.cfg.Now()))
}

// assignee resolves the body's "agent": null unassigns; an id must name an
// enabled agent (not a store integration), or the caller: the bootstrap
// admin, who is no stored agent, may take a ticket as a reply gives it them.
func (s *Server) assignee(raw json.RawMessage, caller engine.Agent) (*engine.AgentRef, error) {
	if len(raw) == 0 {
		return nil, engine.Invalid("agent", "is required: an agent id, or null to unassign")
	}
	if string(raw) == "null" {
		return nil, nil
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || !engine.ValidID(id) {
		return nil, engine.Invalid("agent", "must be an agent id or null")
	}
	if id == caller.ID {
		return caller.Ref(), nil
	}
	for _, a := range s.desk.Agents() {
		if a.ID == id && !a.Disabled && a.Role != engine.RoleStore {
			return a.Ref(), nil
		}
	}
	return nil, engine.Invalid("agent", "no enabled agent has this id")
}

func (s *Server) snoozeTicket(w http.ResponseWriter, r *http.Request, p engine.Agent) {
	var body struct {
		Until string `json:"until"`
	}
	if err := decode(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	until, err := time.Parse(time.RFC3339, body.Until)
	if err != nil {
		s.writeError(w, r, engine.Invalid("until", "must be an RFC 3339 time"))
		return
	}
	if !until.After(s.cfg.Now()) {
		s.writeError(w, r, engine.Invalid("until", "must be in the future"))
		return
	}
	tr, err := s.desk.Snooze(r.Context(), r.PathValue("id"), until.UTC(), p.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row(tr, s.cfg.Now()))
}

func (s *Server) closeTicket(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	tr, err := s.desk.Close(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row(tr, s.cfg.Now()))
}

// agentTyping is POST /api/v1/tickets/{id}/typing: the shopper's sockets
// show that an agent is typing (PROTOCOL §2, Typing). It has no body.
func (s *Server) agentTyping(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	if err := s.desk.AgentTyping(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) badge(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	n, err := s.desk.Badge(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, badgeJSON{n})
}

type badgeJSON struct {
	Unread int `json:"unread"`
}
