package transport

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// wireStrings are texts a shopper or agent may type: plain ASCII, HTML,
// quotes and backslashes, controls, non-ASCII, invalid UTF-8 and the two
// JavaScript line separators.
var wireStrings = []string{
	"", "Hello, where is my order #12345?", `<script>alert("x")</script> & co`,
	"a\"b\\c", "line\nnext\ttab\r\b\f\x00\x1f", "Åsa 📦 ok", "bad \xff\xfe utf8", "sep\u2028\u2029end", "~!@#$%^*()_+{}|:?",
}

type ackFrameJSON struct {
	Type         string `json:"type"`
	ClientID     string `json:"client_id"`
	Conversation string `json:"conversation"`
	Seq          uint64 `json:"seq"`
}

// The frames written by hand are byte for byte what encoding/json writes
// (PROTOCOL §2 shapes), whatever the text.
func TestHandWrittenFramesMatchEncodingJSON(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 30, 15, 120000000, time.FixedZone("CET", 3600))
	for _, s := range wireStrings {
		for _, from := range []engine.Party{engine.PartyShopper, engine.PartyAgent} {
			e := engine.Event{Seq: 42, At: at, Kind: engine.KindMessage, From: from, Author: s, Text: s, ClientID: s}
			want, err := json.Marshal(eventFrame{"event", "01JCONV" + s, e.Seq, wireTime(e.At), eventBody(e)})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := eventFrameBytes("01JCONV"+s, e); !bytes.Equal(got, want) {
				t.Errorf("event frame of %q:\n got %s\nwant %s", s, got, want)
			}
		}
		want, _ := json.Marshal(ackFrameJSON{"ack", s, "01JCONV", 7})
		if got := ackFrameBytes(s, "01JCONV", 7); !bytes.Equal(got, want) {
			t.Errorf("ack of %q:\n got %s\nwant %s", s, got, want)
		}
	}
	// Zero time and a whole second: RFC 3339 without trailing zeros.
	for _, at := range []time.Time{{}, time.Unix(1700000000, 0)} {
		e := engine.Event{Seq: 1, At: at, Kind: engine.KindMessage, From: engine.PartyShopper, Text: "hi", ClientID: "c"}
		want, _ := json.Marshal(eventFrame{"event", "c1", e.Seq, wireTime(e.At), eventBody(e)})
		if got, _ := eventFrameBytes("c1", e); !bytes.Equal(got, want) {
			t.Errorf("event at %v:\n got %s\nwant %s", at, got, want)
		}
	}
}

// FuzzAppendJSONString: any string, valid UTF-8 or not, comes out as
// encoding/json writes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range wireStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
