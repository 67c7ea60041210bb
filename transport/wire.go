package transport

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/parley-chat/parley/engine"
)

// This file puts events and rows on the wire, exactly in PROTOCOL.md's shapes.
// Both the WebSocket and the API use these functions and nothing else.

// wireTime formats t as RFC 3339 in UTC.
func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func wireTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := wireTime(*t)
	return &s
}

type startedJSON struct {
	Kind    engine.EventKind `json:"kind"`
	Welcome string           `json:"welcome"`
}

type messageJSON struct {
	Kind        engine.EventKind    `json:"kind"`
	From        engine.Party        `json:"from"`
	Author      string              `json:"author"`
	Text        string              `json:"text"`
	Attachments []engine.Attachment `json:"attachments"`
	ClientID    string              `json:"client_id"`
}

type seenJSON struct {
	Kind engine.EventKind `json:"kind"`
	By   engine.Party     `json:"by"`
	UpTo uint64           `json:"up_to"`
}

type assignedJSON struct {
	Kind  engine.EventKind `json:"kind"`
	Agent *engine.AgentRef `json:"agent"`
}

type handoffJSON struct {
	Kind   engine.EventKind `json:"kind"`
	Target string           `json:"target"`
}

type endedJSON struct {
	Kind engine.EventKind `json:"kind"`
	By   engine.Party     `json:"by"`
}

type kindJSON struct {
	Kind engine.EventKind `json:"kind"`
}

// eventBody is `event.event`: the kind-specific part of an event.
func eventBody(e engine.Event) any {
	switch e.Kind {
	case engine.KindStarted:
		return startedJSON{e.Kind, e.Welcome}
	case engine.KindMessage:
		att := e.Attachments
		if att == nil {
			att = []engine.Attachment{}
		}
		return messageJSON{e.Kind, e.From, e.Author, e.Text, att, e.ClientID}
	case engine.KindSeen:
		return seenJSON{e.Kind, e.By, e.UpTo}
	case engine.KindAssigned:
		return assignedJSON{e.Kind, e.Agent}
	case engine.KindHandoff:
		return handoffJSON{e.Kind, e.Target}
	case engine.KindEnded:
		return endedJSON{e.Kind, e.By}
	}
	return kindJSON{e.Kind}
}

// logEntry is one event as the API lists it: {"seq","at","event"}.
type logEntry struct {
	Seq   uint64 `json:"seq"`
	At    string `json:"at"`
	Event any    `json:"event"`
}

func entry(e engine.Event) logEntry {
	return logEntry{Seq: e.Seq, At: wireTime(e.At), Event: eventBody(e)}
}

func entries(events []engine.Event) []logEntry {
	out := make([]logEntry, 0, len(events))
	for _, e := range events {
		out = append(out, entry(e))
	}
	return out
}

// eventFrame is one event as the socket sends it.
type eventFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Seq          uint64 `json:"seq"`
	At           string `json:"at"`
	Event        any    `json:"event"`
}

// eventFrameBytes marshals the `event` frame of e in conversation.
// A message without attachments, nearly every frame a socket sends, is
// written by hand; the bytes are exactly encoding/json's.
func eventFrameBytes(conversation string, e engine.Event) ([]byte, error) {
	if e.Kind == engine.KindMessage && len(e.Attachments) == 0 {
		b := make([]byte, 0, 192+len(e.Text)+len(e.Author))
		b = append(b, `{"type":"event","conversation":`...)
		b = appendJSONString(b, conversation)
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, `,"at":"`...)
		b = e.At.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","event":{"kind":"message","from":`...)
		b = appendJSONString(b, string(e.From))
		b = append(b, `,"author":`...)
		b = appendJSONString(b, e.Author)
		b = append(b, `,"text":`...)
		b = appendJSONString(b, e.Text)
		b = append(b, `,"attachments":[],"client_id":`...)
		b = appendJSONString(b, e.ClientID)
		return append(b, "}}"...), nil
	}
	return json.Marshal(eventFrame{"event", conversation, e.Seq, wireTime(e.At), eventBody(e)})
}

// rowJSON is an inbox row: PROTOCOL §3's ticket list entry.
type rowJSON struct {
	ID           string              `json:"id"`
	Channel      engine.Channel      `json:"channel"`
	Status       engine.TicketStatus `json:"status"`
	Profile      engine.ProfileRef   `json:"profile"`
	Preview      string              `json:"preview"`
	Unread       bool                `json:"unread"`
	Assignee     *engine.AgentRef    `json:"assignee"`
	UpdatedAt    string              `json:"updated_at"`
	WaitingSince *string             `json:"waiting_since"`
	SnoozedUntil *string             `json:"snoozed_until,omitempty"`
	AlertedAt    *string             `json:"alerted_at,omitempty"`
}

// row puts r on the wire as it stands at now (a snooze that ran out is open).
func row(r engine.TicketRow, now time.Time) rowJSON {
	r = r.At(now)
	return rowJSON{
		ID: r.ID, Channel: r.Channel, Status: r.Status, Profile: r.Profile,
		Preview: r.Preview, Unread: r.Unread, Assignee: r.Assignee,
		UpdatedAt: wireTime(r.UpdatedAt), WaitingSince: wireTimePtr(r.WaitingSince),
		SnoozedUntil: wireTimePtr(r.SnoozedUntil), AlertedAt: wireTimePtr(r.AlertedAt),
	}
}

func rows(rs []engine.TicketRow, now time.Time) []rowJSON {
	out := make([]rowJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, row(r, now))
	}
	return out
}

// ackFrameBytes is the `ack` frame, written by hand like eventFrameBytes.
func ackFrameBytes(clientID, conversation string, seq uint64) []byte {
	b := make([]byte, 0, 64+len(clientID)+len(conversation))
	b = append(b, `{"type":"ack","client_id":`...)
	b = appendJSONString(b, clientID)
	b = append(b, `,"conversation":`...)
	b = appendJSONString(b, conversation)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, '}')
}

// appendJSONString appends s as encoding/json writes it. Plain printable
// ASCII is copied; anything that needs escaping (quotes, controls, HTML
// characters, non-ASCII) goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
