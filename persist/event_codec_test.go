package persist

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parley-chat/parley/engine"
)

func codecCases() map[string]engine.Event {
	ts := time.Date(2025, 3, 1, 9, 30, 15, 123456789, time.UTC)
	return map[string]engine.Event{
		"started": {Seq: 1, At: ts, Kind: engine.KindStarted, Welcome: "Hi! How can we help?",
			ProfileID: "p_1", ProfileName: "Åsa Ölund", Channel: engine.ChannelSMS},
		"message": {Seq: 2, At: ts, Kind: engine.KindMessage, From: engine.PartyShopper,
			AuthorID: "p_1", Author: "Åsa", Text: "Where is my order? 📦", ClientID: "c-42",
			Attachments: []engine.Attachment{
				{URL: "https://x.test/a.png", ContentType: "image/png"},
				{}, // an empty attachment keeps its place
				{URL: "https://x.test/b.pdf", ContentType: "application/pdf"},
			}},
		"seen":             {Seq: 1 << 40, At: ts, Kind: engine.KindSeen, By: engine.PartyAgent, UpTo: 1<<40 - 1},
		"assigned":         {Seq: 4, At: ts, Kind: engine.KindAssigned, Agent: &engine.AgentRef{ID: "ag1", Name: "Bo"}},
		"assign-nil":       {Seq: 5, At: ts, Kind: engine.KindAssigned},
		"assign-empty-ref": {Seq: 5, At: ts, Kind: engine.KindAssigned, Agent: &engine.AgentRef{}},
		"handoff":          {Seq: 6, At: ts, Kind: engine.KindHandoff, Target: engine.HandoffZendesk},
		"ended":            {Seq: 7, At: ts, Kind: engine.KindEnded, By: engine.PartyShopper},
		"zero":             {},
		"epoch":            {Seq: 1, At: time.Unix(0, 0).UTC(), Kind: engine.KindStarted},
		"pre-epoch":        {Seq: 1, At: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), Kind: engine.KindStarted},
	}
}

func TestEventRoundTrip(t *testing.T) {
	for name, e := range codecCases() {
		t.Run(name, func(t *testing.T) {
			got, err := decodeEvent(appendEvent(nil, &e))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, e)
			}
		})
	}
}

func TestTicketEventRoundTrip(t *testing.T) {
	ts := time.Date(2025, 3, 1, 9, 30, 15, 1, time.UTC)
	for name, e := range map[string]engine.TicketEvent{
		"snoozed": {Seq: 3, At: ts, Kind: engine.TicketSnoozed, Until: ts.Add(time.Hour), AtSeq: 17, AgentID: "ag1"},
		"delivery": {Seq: 4, At: ts, Kind: engine.TicketDelivery, AtSeq: 9, Status: engine.SMSUndelivered,
			Error: "error 30003: Unreachable destination handset"},
		"zero": {},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeTicketEvent(appendTicketEvent(nil, &e))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, e)
			}
		})
	}
}

func TestDecodeSkipsUnknownFields(t *testing.T) {
	e := codecCases()["message"]
	b := appendEvent(nil, &e)
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendString(b, "from the future")
	b = protowire.AppendTag(b, 100, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	got, err := decodeEvent(b)
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	cases := map[string][]byte{
		"bad tag":         {0xff},
		"overlong varint": {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"wrong wire type": protowire.AppendFixed32(protowire.AppendTag(nil, fSeq, protowire.Fixed32Type), 1),
		"string as int":   protowire.AppendVarint(protowire.AppendTag(nil, fText, protowire.VarintType), 1),
		"field zero":      {0x00, 0x01},
		"length past end": {byte(fText<<3 | 2), 0x7f, 'a'},
		"bad nested":      append(protowire.AppendTag(nil, fAgent, protowire.BytesType), 2, 0x0a, 0x05),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeEvent(b); !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeEvent = %v, want errCorrupt", err)
			}
			if _, err := decodeTicketEvent(b); err == nil && name != "string as int" && name != "bad nested" {
				t.Fatalf("decodeTicketEvent accepted %x", b)
			}
		})
	}
}

// TestDecodeTruncated cuts a full record at every length: each prefix either
// fails or decodes, never panics, and the full record is the only one equal
// to the original.
func TestDecodeTruncated(t *testing.T) {
	e := codecCases()["message"]
	full := appendEvent(nil, &e)
	failed := 0
	for i := 0; i < len(full); i++ {
		got, err := decodeEvent(full[:i])
		if err != nil {
			failed++
			continue
		}
		if reflect.DeepEqual(got, e) {
			t.Fatalf("prefix of %d/%d bytes decoded to the whole event", i, len(full))
		}
	}
	if failed == 0 {
		t.Fatal("no truncation was detected")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range codecCases() {
		f.Add(appendEvent(nil, &e))
	}
	te := engine.TicketEvent{Seq: 1, At: t0, Kind: engine.TicketSnoozed, Until: t0, AtSeq: 2, AgentID: "x"}
	f.Add(appendTicketEvent(nil, &te))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err == nil {
			// Whatever decodes re-encodes to something that decodes the same.
			again, err := decodeEvent(appendEvent(nil, &e))
			if err != nil || !reflect.DeepEqual(again, e) {
				t.Fatalf("re-decode: %+v, %v; want %+v", again, err, e)
			}
		}
		if te, err := decodeTicketEvent(b); err == nil {
			again, err := decodeTicketEvent(appendTicketEvent(nil, &te))
			if err != nil || !reflect.DeepEqual(again, te) {
				t.Fatalf("re-decode ticket: %+v, %v; want %+v", again, err, te)
			}
		}
	})
}
