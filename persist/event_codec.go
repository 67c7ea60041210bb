package persist

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parley-chat/parley/engine"
)

// Events are stored in protobuf wire format, written by hand with protowire so
// that the package needs no code generation. The schema, which a cluster
// transport can compile as is:
//
//	syntax = "proto3";
//	package parley.v1;
//
//	message Event {
//	  uint64 seq = 1;
//	  optional int64 at_unix_nano = 2;   // absent = zero time.Time
//	  string kind = 3;
//	  string welcome = 4;                // started
//	  string profile_id = 5;
//	  string profile_name = 6;
//	  string channel = 7;
//	  string from = 8;                   // message
//	  string author_id = 9;
//	  string author = 10;
//	  string text = 11;
//	  repeated Attachment attachments = 12;
//	  string client_id = 13;
//	  string by = 14;                    // seen, ended
//	  uint64 up_to = 15;                 // seen
//	  optional AgentRef agent = 16;      // assigned; absent = unassigned
//	  string target = 17;                // handoff
//	  optional int64 away_until_unix_nano = 18; // a system message: the team is away until then
//	  bool ai = 19;                      // started: the AI agent answers first
//	}
//	message Attachment { string url = 1; string content_type = 2; }
//	message AgentRef   { string id = 1;  string name = 2; }
//
//	message TicketEvent {
//	  uint64 seq = 1;
//	  optional int64 at_unix_nano = 2;
//	  string kind = 3;
//	  optional int64 until_unix_nano = 4; // snoozed
//	  uint64 at_seq = 5;
//	  string agent_id = 6;
//	}
//
// Versioning is protobuf's: a new field takes a new number, a number is never
// reused, and decoders skip fields they do not know. Times are Unix
// nanoseconds and decode in UTC (location and monotonic reading are not
// kept).

// Field numbers of Event.
const (
	fSeq protowire.Number = iota + 1
	fAt
	fKind
	fWelcome
	fProfileID
	fProfileName
	fChannel
	fFrom
	fAuthorID
	fAuthor
	fText
	fAttachments
	fClientID
	fBy
	fUpTo
	fAgent
	fTarget
	fAwayUntil
	fAI
)

// Field numbers of TicketEvent (fSeq, fAt and fKind are shared).
const (
	fUntil protowire.Number = iota + 4
	fAtSeq
	fAgentID
	fStatus
	fError
)

// appendEvent appends the wire form of e to b.
func appendEvent(b []byte, e *engine.Event) []byte {
	b = appendVarint(b, fSeq, e.Seq)
	b = appendTime(b, fAt, e.At)
	b = appendString(b, fKind, string(e.Kind))
	b = appendString(b, fWelcome, e.Welcome)
	b = appendString(b, fProfileID, e.ProfileID)
	b = appendString(b, fProfileName, e.ProfileName)
	b = appendString(b, fChannel, string(e.Channel))
	b = appendString(b, fFrom, string(e.From))
	b = appendString(b, fAuthorID, e.AuthorID)
	b = appendString(b, fAuthor, e.Author)
	b = appendString(b, fText, e.Text)
	for _, a := range e.Attachments {
		b = appendPair(b, fAttachments, a.URL, a.ContentType)
	}
	b = appendString(b, fClientID, e.ClientID)
	b = appendString(b, fBy, string(e.By))
	b = appendVarint(b, fUpTo, e.UpTo)
	if e.Agent != nil {
		b = appendPair(b, fAgent, e.Agent.ID, e.Agent.Name)
	}
	b = appendString(b, fTarget, e.Target)
	b = appendTime(b, fAwayUntil, e.AwayUntil)
	if e.AI {
		b = appendVarint(b, fAI, 1)
	}
	return b
}

// appendTicketEvent appends the wire form of e to b.
func appendTicketEvent(b []byte, e *engine.TicketEvent) []byte {
	b = appendVarint(b, fSeq, e.Seq)
	b = appendTime(b, fAt, e.At)
	b = appendString(b, fKind, string(e.Kind))
	b = appendTime(b, fUntil, e.Until)
	b = appendVarint(b, fAtSeq, e.AtSeq)
	b = appendString(b, fAgentID, e.AgentID)
	b = appendString(b, fStatus, e.Status)
	return appendString(b, fError, e.Error)
}

// decodeEvent parses one stored event. Unknown fields are skipped; anything
// malformed is an error, never a panic.
func decodeEvent(b []byte) (engine.Event, error) {
	var e engine.Event
	r := reader{b: b}
	for {
		num, ok := r.next()
		if !ok {
			break
		}
		r.eventField(num, &e)
	}
	if r.err != nil {
		return engine.Event{}, r.err
	}
	return e, nil
}

func (r *reader) eventField(num protowire.Number, e *engine.Event) {
	switch num {
	case fSeq:
		e.Seq = r.varint()
	case fAt:
		e.At = r.time()
	case fKind:
		e.Kind = engine.EventKind(r.str())
	case fWelcome:
		e.Welcome = r.str()
	case fProfileID:
		e.ProfileID = r.str()
	case fProfileName:
		e.ProfileName = r.str()
	case fChannel:
		e.Channel = engine.Channel(r.str())
	case fFrom:
		e.From = engine.Party(r.str())
	case fAuthorID:
		e.AuthorID = r.str()
	case fAuthor:
		e.Author = r.str()
	case fText:
		e.Text = r.str()
	case fAttachments:
		url, ct := r.pair()
		e.Attachments = append(e.Attachments, engine.Attachment{URL: url, ContentType: ct})
	case fClientID:
		e.ClientID = r.str()
	case fBy:
		e.By = engine.Party(r.str())
	case fUpTo:
		e.UpTo = r.varint()
	case fAgent:
		id, name := r.pair()
		e.Agent = &engine.AgentRef{ID: id, Name: name}
	case fTarget:
		e.Target = r.str()
	case fAwayUntil:
		e.AwayUntil = r.time()
	case fAI:
		e.AI = r.varint() != 0
	default:
		r.skip(num)
	}
}

// decodeTicketEvent parses one stored ticket event.
func decodeTicketEvent(b []byte) (engine.TicketEvent, error) {
	var e engine.TicketEvent
	r := reader{b: b}
	for {
		num, ok := r.next()
		if !ok {
			break
		}
		switch num {
		case fSeq:
			e.Seq = r.varint()
		case fAt:
			e.At = r.time()
		case fKind:
			e.Kind = engine.TicketEventKind(r.str())
		case fUntil:
			e.Until = r.time()
		case fAtSeq:
			e.AtSeq = r.varint()
		case fAgentID:
			e.AgentID = r.str()
		case fStatus:
			e.Status = r.str()
		case fError:
			e.Error = r.str()
		default:
			r.skip(num)
		}
	}
	if r.err != nil {
		return engine.TicketEvent{}, r.err
	}
	return e, nil
}
