package persist

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
)

// Field numbers of TicketEvent (fSeq, fAt and fKind are shared).
const (
	fUntil protowire.Number = iota + 4
	fAtSeq
	fAgentID
)

var errCorrupt = errors.New("persist: corrupt record")

func appendVarint(b []byte, n protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendTime(b []byte, n protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.UnixNano()))
}

// appendPair writes a nested message of two string fields (Attachment,
// AgentRef). It is written even when both are empty: presence matters.
func appendPair(b []byte, n protowire.Number, s1, s2 string) []byte {
	size := 0
	if s1 != "" {
		size += protowire.SizeTag(1) + protowire.SizeBytes(len(s1))
	}
	if s2 != "" {
		size += protowire.SizeTag(2) + protowire.SizeBytes(len(s2))
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = appendString(b, 1, s1)
	return appendString(b, 2, s2)
}

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
	return appendString(b, fTarget, e.Target)
}

// appendTicketEvent appends the wire form of e to b.
func appendTicketEvent(b []byte, e *engine.TicketEvent) []byte {
	b = appendVarint(b, fSeq, e.Seq)
	b = appendTime(b, fAt, e.At)
	b = appendString(b, fKind, string(e.Kind))
	b = appendTime(b, fUntil, e.Until)
	b = appendVarint(b, fAtSeq, e.AtSeq)
	return appendString(b, fAgentID, e.AgentID)
}

// reader walks the fields of one message. The first error sticks; every
// method returns a zero value after it.
type reader struct {
	b   []byte
	err error
	typ protowire.Type
}

// next reads the next tag; false at the end or on error.
func (r *reader) next() (protowire.Number, bool) {
	if r.err != nil || len(r.b) == 0 {
		return 0, false
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		r.err = fmt.Errorf("%w: %v", errCorrupt, protowire.ParseError(n))
		return 0, false
	}
	r.b, r.typ = r.b[n:], typ
	return num, true
}

func (r *reader) want(t protowire.Type) bool {
	if r.err == nil && r.typ != t {
		r.err = fmt.Errorf("%w: wire type %d, want %d", errCorrupt, r.typ, t)
	}
	return r.err == nil
}

func (r *reader) consumed(n int) bool {
	if n < 0 {
		r.err = fmt.Errorf("%w: %v", errCorrupt, protowire.ParseError(n))
		return false
	}
	return true
}

func (r *reader) varint() uint64 {
	if !r.want(protowire.VarintType) {
		return 0
	}
	v, n := protowire.ConsumeVarint(r.b)
	if !r.consumed(n) {
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	if !r.want(protowire.BytesType) {
		return nil
	}
	v, n := protowire.ConsumeBytes(r.b)
	if !r.consumed(n) {
		return nil
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) time() time.Time {
	v := r.varint()
	if r.err != nil {
		return time.Time{}
	}
	return time.Unix(0, int64(v)).UTC()
}

// pair reads a nested message of two string fields.
func (r *reader) pair() (string, string) {
	sub := reader{b: r.bytes()}
	var s1, s2 string
	for {
		num, ok := sub.next()
		if !ok {
			break
		}
		switch num {
		case 1:
			s1 = sub.str()
		case 2:
			s2 = sub.str()
		default:
			sub.skip(num)
		}
	}
	if r.err == nil {
		r.err = sub.err
	}
	return s1, s2
}

func (r *reader) skip(num protowire.Number) {
	n := protowire.ConsumeFieldValue(num, r.typ, r.b)
	if r.consumed(n) {
		r.b = r.b[n:]
	}
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
		default:
			r.skip(num)
		}
	}
	if r.err != nil {
		return engine.TicketEvent{}, r.err
	}
	return e, nil
}

// Records other than events and inbox rows (snapshots, config, profiles) are JSON after
// a one-byte format version, so a future format can be told apart.
const recordV1 = 1

func encodeRecord(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("persist: encode %T: %w", v, err)
	}
	return append([]byte{recordV1}, b...), nil
}

func decodeRecord(b []byte, v any) error {
	if len(b) == 0 || b[0] != recordV1 {
		return fmt.Errorf("%w: unknown record version", errCorrupt)
	}
	if err := json.Unmarshal(b[1:], v); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return nil
}

// rowRecord stores a TicketRow with its Version, which engine keeps out of JSON.
type rowRecord struct {
	engine.TicketRow
	V uint64 `json:"version"`
}

// agentRecord stores an Agent with its TokenHash, which engine keeps out of JSON.
type agentRecord struct {
	engine.Agent
	Hash string `json:"token_hash"`
}

// Inbox rows are rewritten with every message, so they are stored in
// protobuf wire format after the byte recordRowV2 (rows written as JSON
// after recordV1 still decode):
//
//	message Row {
//	  string id = 1;
//	  string channel = 2;
//	  string status = 3;
//	  string profile_id = 4;
//	  string profile_name = 5;
//	  string preview = 6;
//	  bool unread = 7;
//	  optional AgentRef assignee = 8;
//	  optional int64 updated_at_unix_nano = 9;
//	  optional int64 waiting_since_unix_nano = 10;  // absent = not waiting
//	  optional int64 snoozed_until_unix_nano = 11;  // absent = not snoozed
//	  uint64 version = 12;
//	}
const recordRowV2 = 2

// Field numbers of Row.
const (
	fRowID protowire.Number = iota + 1
	fRowChannel
	fRowStatus
	fRowProfileID
	fRowProfileName
	fRowPreview
	fRowUnread
	fRowAssignee
	fRowUpdatedAt
	fRowWaitingSince
	fRowSnoozedUntil
	fRowVersion
)

// appendRow appends the stored form of r to b.
func appendRow(b []byte, r *engine.TicketRow) []byte {
	b = append(b, recordRowV2)
	b = appendString(b, fRowID, r.ID)
	b = appendString(b, fRowChannel, string(r.Channel))
	b = appendString(b, fRowStatus, string(r.Status))
	b = appendString(b, fRowProfileID, r.Profile.ID)
	b = appendString(b, fRowProfileName, r.Profile.Name)
	b = appendString(b, fRowPreview, r.Preview)
	if r.Unread {
		b = appendVarint(b, fRowUnread, 1)
	}
	if r.Assignee != nil {
		b = appendPair(b, fRowAssignee, r.Assignee.ID, r.Assignee.Name)
	}
	b = appendTime(b, fRowUpdatedAt, r.UpdatedAt)
	b = appendTimePtr(b, fRowWaitingSince, r.WaitingSince)
	b = appendTimePtr(b, fRowSnoozedUntil, r.SnoozedUntil)
	return appendVarint(b, fRowVersion, r.Version)
}

// appendTimePtr writes a present time even when it is the zero instant of
// Unix time: presence is the meaning.
func appendTimePtr(b []byte, n protowire.Number, t *time.Time) []byte {
	if t == nil {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.UnixNano()))
}

// decodeRow parses a stored inbox row of either format.
func decodeRow(b []byte) (engine.TicketRow, error) {
	if len(b) > 0 && b[0] == recordV1 {
		var rec rowRecord
		if err := decodeRecord(b, &rec); err != nil {
			return engine.TicketRow{}, err
		}
		rec.TicketRow.Version = rec.V
		return rec.TicketRow, nil
	}
	if len(b) == 0 || b[0] != recordRowV2 {
		return engine.TicketRow{}, fmt.Errorf("%w: unknown row format", errCorrupt)
	}
	var row engine.TicketRow
	r := reader{b: b[1:]}
	for {
		num, ok := r.next()
		if !ok {
			break
		}
		switch num {
		case fRowID:
			row.ID = r.str()
		case fRowChannel:
			row.Channel = engine.Channel(r.str())
		case fRowStatus:
			row.Status = engine.TicketStatus(r.str())
		case fRowProfileID:
			row.Profile.ID = r.str()
		case fRowProfileName:
			row.Profile.Name = r.str()
		case fRowPreview:
			row.Preview = r.str()
		case fRowUnread:
			row.Unread = r.varint() != 0
		case fRowAssignee:
			id, name := r.pair()
			row.Assignee = &engine.AgentRef{ID: id, Name: name}
		case fRowUpdatedAt:
			row.UpdatedAt = r.time()
		case fRowWaitingSince:
			t := r.time()
			row.WaitingSince = &t
		case fRowSnoozedUntil:
			t := r.time()
			row.SnoozedUntil = &t
		case fRowVersion:
			row.Version = r.varint()
		default:
			r.skip(num)
		}
	}
	if r.err != nil {
		return engine.TicketRow{}, r.err
	}
	return row, nil
}
