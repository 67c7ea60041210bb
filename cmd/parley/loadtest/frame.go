package loadtest

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// benchDecodeFrame decodes a server frame into f. The two frames that make
// nearly all of a load's traffic, `ack` and a message `event`, and the
// `welcome` that answers every connect and resume are read without reflection
// when they have exactly the shape this server writes (PROTOCOL §2 field
// order; the strings it reads ASCII without escapes, the ones it passes
// over, such as a message's text, any valid JSON string); anything else, or
// any byte out of place, goes to encoding/json, so the fast path never
// decides on its own what a frame means. f.Conversation may point into b.
//
// A welcome and a `started` event are the frames a fresh socket's reader
// decodes first: encoding/json's recursive decoder would grow and copy that
// goroutine's stack, once per socket, which in a connect or resume storm was
// a tenth of the tool's CPU.
func benchDecodeFrame(b []byte, f *benchFrame) error {
	*f = benchFrame{}
	if benchScanAck(b, f) || benchScanEvent(b, f) || benchScanWelcome(b, f) {
		return nil
	}
	*f = benchFrame{}
	return json.Unmarshal(b, f)
}

func benchScanAck(b []byte, f *benchFrame) bool {
	s := benchScanner{b: b, ok: true}
	s.lit(`{"type":"ack","client_id":`)
	cid := s.str()
	s.lit(`,"conversation":`)
	conv := s.quoted()
	s.lit(`,"seq":`)
	seq := s.num()
	s.lit(`}`)
	if !s.end() {
		return false
	}
	f.Type, f.ClientID, f.Conversation, f.Seq = "ack", string(cid), conv, seq
	return true
}

// benchScanEvent reads a message event or a started one.
func benchScanEvent(b []byte, f *benchFrame) bool {
	s := benchScanner{b: b, ok: true}
	s.lit(`{"type":"event","conversation":`)
	conv := s.quoted()
	s.lit(`,"seq":`)
	seq := s.num()
	s.lit(`,"at":`)
	s.skipStr()
	s.lit(`,"event":{"kind":`)
	var kind string
	var from, cid []byte
	switch {
	case s.next('"') && bytes.HasPrefix(s.b, []byte(`"message"`)):
		kind = "message"
		s.lit(`"message","from":`)
		from = s.str()
		s.lit(`,"author":`)
		s.skipStr()
		s.lit(`,"text":`)
		s.skipStr()
		s.lit(`,"attachments":[],"client_id":`)
		cid = s.str()
	case s.next('"') && bytes.HasPrefix(s.b, []byte(`"started"`)):
		kind = "started"
		s.lit(`"started","welcome":`)
		s.skipStr()
	default:
		return false
	}
	s.lit(`}}`)
	if !s.end() {
		return false
	}
	f.Type, f.Conversation, f.Seq = "event", conv, seq
	f.Event.Kind, f.Event.From, f.Event.ClientID = kind, string(from), string(cid)
	return true
}

func benchScanWelcome(b []byte, f *benchFrame) bool {
	s := benchScanner{b: b, ok: true}
	s.lit(`{"type":"welcome","visitor":{"logged_in":`)
	s.boolean()
	s.lit(`,"profile_id":`)
	s.strOrNull()
	s.lit(`,"name":`)
	s.strOrNull()
	s.lit(`},"chat":{"enabled":`)
	s.boolean()
	s.lit(`,"can_start":`)
	s.boolean()
	s.lit(`,"reason":`)
	s.str()
	s.lit(`},"faqs":[`)
	for i := 0; s.ok && !s.next(']'); i++ {
		if i > 0 {
			s.lit(`,`)
		}
		s.lit(`{"id":`)
		s.str()
		s.lit(`,"question":`)
		s.str()
		s.lit(`}`)
	}
	s.lit(`],"links":{"terms":`)
	s.strOrNull()
	s.lit(`,"privacy":`)
	s.strOrNull()
	s.lit(`},"office":{"open":`)
	s.boolean()
	s.lit(`,"message":`)
	s.strOrNull()
	s.lit(`,"next_open":`)
	s.strOrNull()
	s.lit(`},"conversation":`)
	conv := s.b
	s.openConversation()
	s.lit(`}`)
	if !s.end() {
		return false
	}
	f.Type, f.Conversation = "welcome", conv[:len(conv)-1]
	return true
}

// benchOpenConversation reads welcome.conversation: null, or the open
// conversation's id and last seq.
func benchOpenConversation(raw json.RawMessage) (id string, lastSeq uint64, err error) {
	s := benchScanner{b: raw, ok: true}
	if id, last := s.openConversation(); s.end() {
		return string(id), last, nil
	}
	var open *struct {
		ID      string `json:"id"`
		LastSeq uint64 `json:"last_seq"`
	}
	if err := json.Unmarshal(raw, &open); err != nil || open == nil {
		return "", 0, err
	}
	return open.ID, open.LastSeq, nil
}

// benchString reads a JSON string.
func benchString(raw json.RawMessage) (string, error) {
	s := benchScanner{b: raw, ok: true}
	if v := s.str(); s.end() {
		return string(v), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

// benchScanner walks one frame; the first mismatch sets ok to false and
// every later step does nothing.
type benchScanner struct {
	b  []byte
	ok bool
}

func (s *benchScanner) lit(l string) {
	if s.ok && len(s.b) >= len(l) && string(s.b[:len(l)]) == l {
		s.b = s.b[len(l):]
		return
	}
	s.ok = false
}

// quoted reads an ASCII string without escapes and returns it with its
// quotes.
func (s *benchScanner) quoted() []byte {
	if !s.ok || len(s.b) == 0 || s.b[0] != '"' {
		s.ok = false
		return nil
	}
	for i := 1; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			q := s.b[:i+1]
			s.b = s.b[i+1:]
			return q
		case c == '\\' || c < 0x20 || c >= 0x80:
			s.ok = false // escapes, controls and non-ASCII (UTF-8 checks): encoding/json's job
			return nil
		}
	}
	s.ok = false
	return nil
}

// skipStr passes over a string whose contents the tool does not read (a
// message's text, its author, a time): any string encoding/json accepts,
// escapes and UTF-8 included, since an AI answer or a person's name is
// rarely plain ASCII. Like encoding/json it refuses a control character and
// a malformed escape, and lets bytes that are not UTF-8 through.
func (s *benchScanner) skipStr() {
	if !s.ok || len(s.b) == 0 || s.b[0] != '"' {
		s.ok = false
		return
	}
	for i := 1; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.b = s.b[i+1:]
			return
		case c < 0x20:
			s.ok = false
			return
		case c == '\\':
			n := benchEscapeLen(s.b[i:])
			if n == 0 {
				s.ok = false
				return
			}
			i += n - 1
		}
	}
	s.ok = false
}

// benchEscapeLen is the length of the JSON escape at the start of b, 0 if
// it is not one.
func benchEscapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, h := range b[2:6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return 0
			}
		}
		return 6
	}
	return 0
}

// str reads an ASCII string without escapes and returns its contents.
func (s *benchScanner) str() []byte {
	q := s.quoted()
	if !s.ok {
		return nil
	}
	return q[1 : len(q)-1]
}

// openConversation reads welcome.conversation as this server writes it:
// null (no id), or {"id","status","last_seq"}.
func (s *benchScanner) openConversation() (id []byte, lastSeq uint64) {
	if s.next('n') {
		s.lit(`null`)
		return nil, 0
	}
	s.lit(`{"id":`)
	id = s.str()
	s.lit(`,"status":`)
	s.str()
	s.lit(`,"last_seq":`)
	lastSeq = s.num()
	s.lit(`}`)
	return id, lastSeq
}

// next reports whether the next byte is c, without consuming it.
func (s *benchScanner) next(c byte) bool { return s.ok && len(s.b) > 0 && s.b[0] == c }

func (s *benchScanner) boolean() {
	if s.next('t') {
		s.lit(`true`)
	} else {
		s.lit(`false`)
	}
}

func (s *benchScanner) strOrNull() {
	if s.next('n') {
		s.lit(`null`)
	} else {
		s.str()
	}
}

func (s *benchScanner) num() uint64 {
	i := 0
	for i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9' {
		i++
	}
	if !s.ok || i == 0 || i > 19 || (i > 1 && s.b[0] == '0') {
		s.ok = false
		return 0
	}
	n, err := strconv.ParseUint(string(s.b[:i]), 10, 64)
	if err != nil {
		s.ok = false
		return 0
	}
	s.b = s.b[i:]
	return n
}

func (s *benchScanner) end() bool { return s.ok && len(s.b) == 0 }
