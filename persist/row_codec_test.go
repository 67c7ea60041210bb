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

// rowSeeds are rows with every field set, none set, and the edge values a
// stored row can carry.
func rowSeeds() []engine.TicketRow {
	ts := time.Date(2025, 3, 1, 9, 30, 15, 123456789, time.UTC)
	w := ts.Add(-time.Minute)
	epoch := time.Unix(0, 0).UTC()
	return []engine.TicketRow{
		{ID: "c1", Channel: engine.ChannelWebchat, Status: engine.StatusSnoozed,
			Profile: engine.ProfileRef{ID: "p1", Name: "Åsa"}, Preview: "Where is my order? 📦", Unread: true,
			Assignee: &engine.AgentRef{ID: "ag1", Name: "Bo"}, UpdatedAt: ts, WaitingSince: &w, SnoozedUntil: &ts, Version: 77},
		{ID: "c2", Channel: engine.ChannelWebchat, Status: engine.StatusOpen, UpdatedAt: ts, Version: 1},
		{Assignee: &engine.AgentRef{}, WaitingSince: &epoch}, // present but empty: presence survives
		{},
	}
}

// A row survives storage exactly, whichever fields are set (H2's inbox is
// rebuilt from stored rows at start-up).
func TestRowCodecRoundTrip(t *testing.T) {
	for _, r := range rowSeeds() {
		b := appendRow(nil, &r)
		got, err := decodeRow(b)
		if err != nil {
			t.Fatalf("decodeRow(%x): %v", b, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("row %q:\n got %+v\nwant %+v", r.ID, got, r)
		}
	}
}

// Rows written in the earlier JSON format still load, with their version.
func TestRowCodecReadsJSONRows(t *testing.T) {
	r := rowSeeds()[0]
	old, err := encodeRecord(rowRecord{r, r.Version})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRow(old)
	if err != nil {
		t.Fatal(err)
	}
	if !sameValue(reflect.ValueOf(got), reflect.ValueOf(r)) {
		t.Errorf("JSON row:\n got %+v\nwant %+v", got, r)
	}
	for _, bad := range [][]byte{nil, {0}, {9, 1, 2}, {recordV1, '{'}} {
		if _, err := decodeRow(bad); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeRow(%x) = %v, want errCorrupt", bad, err)
		}
	}
}

// The rows a store writes are the rows it lists, across a reopen.
func TestRowsStoredAndListed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	want := rowSeeds()[0]
	want.ID = engine.NewID(t0)
	want.Version = 1
	mustAppend(t, s, Commit{Conversation: want.ID, Events: []engine.Event{started("p1")}, Row: &want})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []engine.TicketRow
	if err := s.ActiveRows(func(r engine.TicketRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("Rows after reopen = %+v, want [%+v]", got, want)
	}
}

// FuzzDecodeRow feeds arbitrary bytes to the row decoder: it never panics,
// a refusal is errCorrupt, and whatever decodes (in this format) re-encodes to bytes that
// decode to the same row and re-encode to the same bytes.
func FuzzDecodeRow(f *testing.F) {
	for _, r := range rowSeeds() {
		f.Add(appendRow(nil, &r))
	}
	unknown := appendRow(nil, &engine.TicketRow{ID: "c3"})
	unknown = protowire.AppendString(protowire.AppendTag(unknown, 99, protowire.BytesType), "later")
	f.Add(unknown)
	f.Add([]byte{recordRowV2, byte(fRowPreview<<3 | 2), 0x7f, 'a'}) // length past the end
	f.Add([]byte{recordV1, '{', '}'})
	f.Add([]byte("\x01{\"updated_at\":\"2025-03-01T09:00:00+02:00\",\"waiting_since\":null,\"version\":3}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRow(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeRow(%x) = %v, want errCorrupt", b, err)
			}
			return
		}
		if b[0] == recordV1 {
			return // the JSON format is FuzzRecordDecode's; its times may lie outside Unix nanoseconds
		}
		enc := appendRow(nil, &r)
		again, err := decodeRow(enc)
		if err != nil || !reflect.DeepEqual(again, inUTC(r)) {
			t.Fatalf("re-decode of %x: %+v, %v; want %+v", b, again, err, r)
		}
		if enc2 := appendRow(nil, &again); !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
		}
	})
}

// inUTC is r with its times in UTC: a stored row keeps the instant, not the
// offset a JSON row was written with.
func inUTC(r engine.TicketRow) engine.TicketRow {
	r.UpdatedAt = r.UpdatedAt.UTC()
	if r.WaitingSince != nil {
		t := r.WaitingSince.UTC()
		r.WaitingSince = &t
	}
	if r.SnoozedUntil != nil {
		t := r.SnoozedUntil.UTC()
		r.SnoozedUntil = &t
	}
	return r
}
