package transport

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/parley-chat/parley/engine"
)

// inboxSink is the actors.InboxSink of one SSE stream. The actor calls it
// from inside Receive, so it only queues; a stream too slow to keep up is
// ended (the client reconnects and gets a fresh badge).
type inboxSink struct {
	ch   chan any // badgeJSON or engine.TicketRow
	gone chan struct{}
	once sync.Once
}

func (k *inboxSink) put(v any) bool {
	select {
	case k.ch <- v:
		return true
	default:
		k.once.Do(func() { close(k.gone) })
		return false
	}
}

func (k *inboxSink) Badge(unread int) bool       { return k.put(badgeJSON{unread}) }
func (k *inboxSink) Row(r engine.TicketRow) bool { return k.put(r) }

// Alert implements actors.InboxSink: a customer has waited too long (H10).
func (k *inboxSink) Alert(r engine.TicketRow) bool {
	return k.put(alertJSON{Ticket: r.ID, WaitingSince: wireTimePtr(r.WaitingSince)})
}

// Typing implements actors.InboxSink: a shopper is typing in a ticket.
func (k *inboxSink) Typing(ticket string, from engine.Party) bool {
	return k.put(typingJSON{Ticket: ticket, From: from})
}

// typingJSON is the `typing` event of the inbox stream (PROTOCOL §2, Typing).
type typingJSON struct {
	Ticket string       `json:"ticket"`
	From   engine.Party `json:"from"`
}

// alertJSON is the `alert` event of the inbox stream (PROTOCOL §3).
type alertJSON struct {
	Ticket       string  `json:"ticket"`
	WaitingSince *string `json:"waiting_since"`
}

// inboxStream is GET /api/v1/inbox/stream: `badge` first and on every
// change, `ticket` rows on every change, `alert` when a customer has waited
// past waiting_alert_after (H10), comment heartbeats when idle.
func (s *Server) inboxStream(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	s.m.sseStreams.Inc()
	defer s.m.sseStreams.Dec()
	sink := &inboxSink{ch: make(chan any, 256), gone: make(chan struct{})}
	cancel := s.desk.WatchInbox(sink)
	defer cancel()
	beat := time.NewTicker(s.cfg.SSEHeartbeat)
	defer beat.Stop()
	for {
		var err error
		select {
		case v := <-sink.ch:
			err = s.writeSSE(w, rc, v)
		case <-beat.C:
			err = s.writeRaw(w, rc, ": heartbeat\n\n")
		case <-sink.gone:
			return
		case <-s.quit:
			return
		case <-r.Context().Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (s *Server) writeSSE(w io.Writer, rc *http.ResponseController, v any) error {
	name := "badge"
	switch x := v.(type) {
	case engine.TicketRow:
		name, v = "ticket", row(x, s.cfg.Now())
	case alertJSON:
		name = "alert"
	case typingJSON:
		name = "typing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.writeRaw(w, rc, fmt.Sprintf("event: %s\ndata: %s\n\n", name, b))
}

func (s *Server) writeRaw(w io.Writer, rc *http.ResponseController, msg string) error {
	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	return rc.Flush()
}
