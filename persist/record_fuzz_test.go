package persist

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parley-chat/parley/engine"
)

// FuzzDecodeTicketEvent feeds arbitrary bytes to the ticket-event decoder:
// it never panics, a refusal is errCorrupt, and whatever decodes re-encodes
// to bytes that decode to the same event and re-encode to the same bytes.
func FuzzDecodeTicketEvent(f *testing.F) {
	ts := time.Date(2025, 3, 1, 9, 30, 15, 1, time.UTC)
	for _, e := range []engine.TicketEvent{
		{Seq: 3, At: ts, Kind: engine.TicketSnoozed, Until: ts.Add(time.Hour), AtSeq: 17, AgentID: "ag1"},
		{Seq: 1, At: time.Unix(0, 0).UTC(), Kind: engine.TicketSnoozed},
		{Seq: 1 << 62, At: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), Kind: "from-the-future"},
		{},
	} {
		f.Add(appendTicketEvent(nil, &e))
	}
	unknown := appendTicketEvent(nil, &engine.TicketEvent{Seq: 2, Kind: engine.TicketSnoozed})
	unknown = protowire.AppendString(protowire.AppendTag(unknown, 99, protowire.BytesType), "later")
	f.Add(unknown)
	f.Add([]byte{0xff})
	f.Add([]byte{byte(fAgentID<<3 | 2), 0x7f, 'a'}) // length past the end
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeTicketEvent(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeTicketEvent(%x) = %v, want errCorrupt", b, err)
			}
			return
		}
		enc := appendTicketEvent(nil, &e)
		again, err := decodeTicketEvent(enc)
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("re-decode of %x: %+v, %v; want %+v", b, again, err, e)
		}
		if enc2 := appendTicketEvent(nil, &again); !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
		}
	})
}

// recordKinds are the types stored as a version byte and JSON, each with a
// constructor of a fresh value to decode into.
var recordKinds = []struct {
	name string
	new  func() any
}{
	{"row", func() any { return new(rowRecord) }},
	{"snapshot", func() any { return new(Snapshot) }},
	{"agent", func() any { return new(agentRecord) }},
	{"settings", func() any { return new(engine.Settings) }},
	{"faq", func() any { return new(engine.FAQ) }},
	{"profile", func() any { return new(engine.Profile) }},
	{"profile-event", func() any { return new(engine.ProfileEvent) }},
}

// FuzzRecordDecode decodes arbitrary bytes as every kind of JSON record:
// decoding never panics, a refusal is errCorrupt, and whatever decodes
// encodes again (it can be stored back), decodes to the same value, and
// encodes to the same bytes the second time.
func FuzzRecordDecode(f *testing.F) {
	for _, v := range recordSeeds() {
		b, err := encodeRecord(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte(`{"id":"no-version-byte"}`))
	f.Add([]byte("\x02{}"))
	f.Add([]byte("\x01{\"updated_at\":\"2025-03-01T09:00:00+00:00\",\"version\":1}"))
	f.Add([]byte("\x01{\"updated_at\":\"25-03-01\"}"))
	f.Add([]byte("\x01{} {}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range recordKinds {
			v := k.new()
			if err := decodeRecord(b, v); err != nil {
				if !errors.Is(err, errCorrupt) {
					t.Fatalf("%s: decodeRecord(%q) = %v, want errCorrupt", k.name, b, err)
				}
				continue
			}
			enc, err := encodeRecord(v)
			if err != nil {
				t.Fatalf("%s: %q decodes to %+v, which does not encode: %v", k.name, b, v, err)
			}
			again := k.new()
			if err := decodeRecord(enc, again); err != nil {
				t.Fatalf("%s: re-decode of %q: %v", k.name, enc, err)
			}
			if !sameValue(reflect.ValueOf(v), reflect.ValueOf(again)) {
				t.Fatalf("%s: %q decodes to\n%+v\nbut its encoding %q to\n%+v", k.name, b, v, enc, again)
			}
			if enc2, err := encodeRecord(again); err != nil || !bytes.Equal(enc2, enc) {
				t.Fatalf("%s: encoding is not stable: %q then %q (%v)", k.name, enc, enc2, err)
			}
		}
	})
}

// recordSeeds are one realistic value of each record kind.
func recordSeeds() []any {
	ts := time.Date(2025, 3, 1, 9, 30, 15, 123456789, time.UTC)
	w := ts.Add(-time.Minute)
	ref := &engine.AgentRef{ID: "ag1", Name: "Bo"}
	conv := engine.Conversation{ID: "c1", ProfileID: "p1", ProfileName: "Åsa", Channel: engine.ChannelWebchat,
		LastSeq: 4, StartedAt: ts, ClientIDs: map[string]uint64{"s:c-1": 2, "a:c-2": 3},
		ShopperSeen: 3, AgentSeen: 2, LastShopperMsg: 2, LastAgentMsg: 3, Assignee: ref,
		Preview: "Where is my order? 📦", ActivityAt: ts, WaitingSince: w}
	settings := engine.DefaultSettings()
	settings.OfficeHours.Weekly = map[string][][2]string{"mon": {{"09:00", "17:00"}}}
	settings.AI.LLM = &engine.LLMSettings{BaseURL: "https://llm.example/v1", Model: "m", APIKey: "sk"}
	settings.Notifications.Email.To = []string{"team@example.com"}
	return []any{
		rowRecord{engine.TicketRow{ID: "c1", Channel: engine.ChannelWebchat, Status: engine.StatusSnoozed,
			Profile: engine.ProfileRef{ID: "p1", Name: "Åsa"}, Preview: "hi", Unread: true, Assignee: ref,
			UpdatedAt: ts, WaitingSince: &w, SnoozedUntil: &ts}, 7},
		Snapshot{Conversation: conv, Ticket: engine.Ticket{ID: "c1", LastSeq: 1, SnoozedUntil: ts, SnoozedAtSeq: 4}},
		agentRecord{engine.Agent{ID: "ag1", Name: "Ana", Email: "ana@example.com", Role: engine.RoleAgent, CreatedAt: ts}, "hash"},
		settings,
		engine.FAQ{ID: "f1", Question: "Shipping?", Answer: "2 days.", Published: true, Position: 1, Kind: engine.KindFAQ, UpdatedAt: ts},
		engine.Profile{ID: "p1", Name: "Åsa", Email: "asa@example.com", Phone: "+46 70", UpdatedAt: ts},
		engine.ProfileEvent{ID: "e1", Name: "Placed Order", At: ts,
			Properties: map[string]any{"total": 12.5, "items": []any{"a", nil, true}, "nested": map[string]any{}}},
	}
}

// sameValue is reflect.DeepEqual except that times are equal when they are
// the same instant with the same UTC offset: JSON keeps both, but not
// whether the location was time.Local, time.UTC or a fixed zone.
func sameValue(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == reflect.TypeFor[time.Time]() {
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		return ta.Equal(tb) && oa == ob
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() && !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Kind() == reflect.Map {
			for _, k := range a.MapKeys() {
				if bv := b.MapIndex(k); !bv.IsValid() || !sameValue(a.MapIndex(k), bv) {
					return false
				}
			}
			return true
		}
		fallthrough
	case reflect.Array:
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}
