package main

import (
	"encoding/json"
	"strconv"
)

// benchDecodeFrame decodes a server frame into f. The two frames that make
// nearly all of a load's traffic, `ack` and a message `event`, are read
// without reflection when they have exactly the shape this server writes
// (PROTOCOL §2 field order, ASCII strings without escapes); anything else, or any
// byte out of place, goes to encoding/json, so the fast path never decides
// on its own what a frame means. f.Conversation may point into b.
func benchDecodeFrame(b []byte, f *benchFrame) error {
	*f = benchFrame{}
	if benchScanAck(b, f) || benchScanMessage(b, f) {
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

func benchScanMessage(b []byte, f *benchFrame) bool {
	s := benchScanner{b: b, ok: true}
	s.lit(`{"type":"event","conversation":`)
	conv := s.quoted()
	s.lit(`,"seq":`)
	seq := s.num()
	s.lit(`,"at":`)
	s.str()
	s.lit(`,"event":{"kind":"message","from":`)
	from := s.str()
	s.lit(`,"author":`)
	s.str()
	s.lit(`,"text":`)
	s.str()
	s.lit(`,"attachments":[],"client_id":`)
	cid := s.str()
	s.lit(`}}`)
	if !s.end() {
		return false
	}
	f.Type, f.Conversation, f.Seq = "event", conv, seq
	f.Event.Kind, f.Event.From, f.Event.ClientID = "message", string(from), string(cid)
	return true
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

// str reads an ASCII string without escapes and returns its contents.
func (s *benchScanner) str() []byte {
	q := s.quoted()
	if !s.ok {
		return nil
	}
	return q[1 : len(q)-1]
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
