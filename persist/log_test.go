package persist

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

func TestAppendConflicts(t *testing.T) {
	s := memStore(t)
	ctx := context.Background()
	mustAppend(t, s, Commit{Conversation: "c1", Events: script("p1", 3)})
	snooze := engine.TicketEvent{Seq: 1, At: at(9), Kind: engine.TicketSnoozed, Until: at(99), AtSeq: 3, AgentID: "ag"}
	mustAppend(t, s, Commit{Conversation: "c1", TicketEvents: []engine.TicketEvent{snooze}})

	for _, tc := range []struct {
		name string
		c    Commit
		want ConflictError
	}{
		{"gap", Commit{Events: []engine.Event{message(5, engine.PartyShopper, "x", "hi")}}, ConflictError{"c/c1", 4, 5}},
		{"fork", Commit{Events: []engine.Event{message(3, engine.PartyShopper, "x", "hi")}}, ConflictError{"c/c1", 4, 3}},
		{"new stream not at 1", Commit{Conversation: "c2", Events: []engine.Event{message(2, engine.PartyShopper, "x", "hi")}}, ConflictError{"c/c2", 1, 2}},
		{"gap inside commit", Commit{Events: []engine.Event{message(4, engine.PartyShopper, "x", "hi"), message(6, engine.PartyShopper, "y", "hi")}}, ConflictError{"c/c1", 5, 6}},
		{"ticket fork", Commit{TicketEvents: []engine.TicketEvent{snooze}}, ConflictError{"t/c1", 2, 1}},
		{"ticket gap", Commit{Events: []engine.Event{message(4, engine.PartyShopper, "x", "hi")},
			TicketEvents: []engine.TicketEvent{{Seq: 3, Kind: engine.TicketSnoozed}}}, ConflictError{"t/c1", 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.Conversation == "" {
				tc.c.Conversation = "c1"
			}
			err := s.Append(ctx, tc.c)
			var ce *ConflictError
			if !errors.As(err, &ce) || *ce != tc.want {
				t.Fatalf("Append = %v, want %+v", err, tc.want)
			}
		})
	}
	// Nothing of the refused commits was written.
	if got := collect(t, s, "c1", 0, 0); len(got) != 3 {
		t.Fatalf("c1 has %d events, want 3", len(got))
	}
	if last, _ := s.LastSeq("c2"); last != 0 {
		t.Fatalf("c2 last seq = %d", last)
	}
	if _, _, err := s.Load("c2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load(c2) = %v, want ErrNotFound", err)
	}
}

func TestAppendDuplicate(t *testing.T) {
	s := memStore(t)
	ctx := context.Background()
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1"), message(2, engine.PartyShopper, "m1", "hi")}})

	row := engine.TicketRow{ID: "c1", Preview: "again"}
	err := s.Append(ctx, Commit{Conversation: "c1",
		Events: []engine.Event{message(3, engine.PartyShopper, "m2", "new"), message(4, engine.PartyShopper, "m1", "again")},
		Row:    &row})
	var de *DuplicateError
	if !errors.As(err, &de) || *de != (DuplicateError{"c1", "m1", 2}) {
		t.Fatalf("Append = %v, want duplicate of seq 2", err)
	}
	if last, _ := s.LastSeq("c1"); last != 2 {
		t.Fatalf("last seq %d after a refused commit", last)
	}
	if n := countRows(t, s); n != 0 {
		t.Fatalf("%d rows written by a refused commit", n)
	}

	// The same client id from the other side is a different message.
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{message(3, engine.PartyAgent, "m1", "agent")}})
	// A repeat inside one commit is refused too.
	err = s.Append(ctx, Commit{Conversation: "c1",
		Events: []engine.Event{message(4, engine.PartyShopper, "m9", "a"), message(5, engine.PartyShopper, "m9", "b")}})
	if !errors.As(err, &de) || de.Seq != 4 {
		t.Fatalf("Append = %v, want duplicate within commit", err)
	}
	// Client ids are per conversation.
	mustAppend(t, s, Commit{Conversation: "c2", Events: []engine.Event{started("p1"), message(2, engine.PartyShopper, "m1", "hi")}})
}

// countRows counts the active rows and the closed ones.
func countRows(t *testing.T, s *Store) int {
	n := 0
	if err := s.ActiveRows(func(engine.TicketRow) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	closed, err := s.ClosedRows(ClosedQuery{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return n + len(closed)
}

func TestAppendRowAndPointer(t *testing.T) {
	s := memStore(t)
	evs := script("p1", 2)
	c, tk := replay("c1", evs, nil)
	row := engine.Row(c, tk, at(5))
	mustAppend(t, s, Commit{Conversation: "c1", Events: evs, Row: &row,
		Open: &OpenPointer{ProfileID: "p1", Channel: engine.ChannelWebchat, Conversation: "c1"}})

	var rows []engine.TicketRow
	if err := s.ActiveRows(func(r engine.TicketRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], row) || rows[0].Version != 2 {
		t.Fatalf("rows = %+v, want [%+v]", rows, row)
	}
	openIs(t, s, "p1", "c1")
	if got, _ := s.OpenConversation("p1", engine.ChannelSMS); got != "" {
		t.Fatalf("sms pointer = %q", got)
	}

	// A new conversation takes the pointer; the old one's clear must not drop it.
	mustAppend(t, s, Commit{Conversation: "c2", Events: script("p1", 1),
		Open: &OpenPointer{ProfileID: "p1", Channel: engine.ChannelWebchat, Conversation: "c2"}})
	end := engine.Event{Seq: 3, At: at(9), Kind: engine.KindEnded, By: engine.PartyAgent}
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{end},
		Open: &OpenPointer{ProfileID: "p1", Channel: engine.ChannelWebchat}})
	openIs(t, s, "p1", "c2")

	mustAppend(t, s, Commit{Conversation: "c2", Events: []engine.Event{{Seq: 2, At: at(9), Kind: engine.KindEnded}},
		Open: &OpenPointer{ProfileID: "p1", Channel: engine.ChannelWebchat}})
	openIs(t, s, "p1", "")

	// A pointer to another conversation is refused: no batch spans two.
	err := s.Append(context.Background(), Commit{Conversation: "c1",
		Open: &OpenPointer{ProfileID: "p1", Channel: engine.ChannelWebchat, Conversation: "c2"}})
	if err == nil {
		t.Fatal("pointer to another conversation accepted")
	}
}

func openIs(t *testing.T, s *Store, profile, want string) {
	t.Helper()
	got, err := s.OpenConversation(profile, engine.ChannelWebchat)
	if err != nil || got != want {
		t.Fatalf("OpenConversation(%s) = %q, %v; want %q", profile, got, err, want)
	}
}

// TestLoad checks that Load equals applying every event, with no snapshot,
// with a snapshot in the middle, and with one at the very end.
func TestLoad(t *testing.T) {
	evs := script("p1", 40)
	tevs := []engine.TicketEvent{
		{Seq: 1, At: at(3), Kind: engine.TicketSnoozed, Until: at(100), AtSeq: 3, AgentID: "ag"},
		{Seq: 2, At: at(30), Kind: engine.TicketSnoozed, Until: at(200), AtSeq: 30, AgentID: "ag"},
	}
	wantC, wantT := replay("c1", evs, tevs)
	for _, snapAt := range []int{0, 1, 17, 25, 40} {
		s := memStore(t)
		for i := range evs {
			c := Commit{Conversation: "c1", Events: evs[i : i+1]}
			switch i {
			case 2:
				c.TicketEvents = tevs[:1]
			case 29:
				c.TicketEvents = tevs[1:]
			}
			if i+1 == snapAt {
				tn := 0
				if i >= 2 {
					tn = 1
				}
				if i >= 29 {
					tn = 2
				}
				sc, st := replay("c1", evs[:i+1], tevs[:tn])
				c.Snapshot = &Snapshot{Conversation: *sc, Ticket: *st}
			}
			mustAppend(t, s, c)
		}
		gotC, gotT, err := s.Load("c1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotC, wantC) || !reflect.DeepEqual(gotT, wantT) {
			t.Fatalf("snapshot at %d: Load\n got %+v %+v\nwant %+v %+v", snapAt, gotC, gotT, wantC, wantT)
		}
	}
}

func TestSnapshotAheadOfLogRefused(t *testing.T) {
	s := memStore(t)
	evs := script("p1", 3)
	c, tk := replay("c1", evs, nil)
	err := s.Append(context.Background(), Commit{Conversation: "c1", Events: evs[:2],
		Snapshot: &Snapshot{Conversation: *c, Ticket: *tk}})
	if err == nil {
		t.Fatal("snapshot at 3 accepted with a log at 2")
	}
	if last, _ := s.LastSeq("c1"); last != 0 {
		t.Fatalf("last seq %d", last)
	}
}

func TestEventsRange(t *testing.T) {
	s := memStore(t)
	mustAppend(t, s, Commit{Conversation: "ab", Events: script("p1", 10)})
	// An id that starts with another id must not leak into its scans.
	mustAppend(t, s, Commit{Conversation: "ab/e/", Events: script("p1", 4)})
	mustAppend(t, s, Commit{Conversation: "a", Events: script("p1", 2)})
	for _, tc := range []struct {
		after       uint64
		limit, want int
		first       uint64
	}{{0, 0, 10, 1}, {3, 0, 7, 4}, {3, 2, 2, 4}, {10, 0, 0, 0}, {99, 5, 0, 0}} {
		got := collect(t, s, "ab", tc.after, tc.limit)
		if len(got) != tc.want || (tc.want > 0 && got[0].Seq != tc.first) {
			t.Fatalf("Events(after %d, limit %d) = %d events", tc.after, tc.limit, len(got))
		}
	}
	if last, _ := s.LastSeq("ab"); last != 10 {
		t.Fatalf("LastSeq(ab) = %d", last)
	}
	stop := errors.New("stop")
	if err := s.Events("ab", 0, 0, func(engine.Event) error { return stop }); err != stop {
		t.Fatalf("Events returned %v, want the callback's error", err)
	}
}

func TestAppendHonoursContext(t *testing.T) {
	s := memStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Append(ctx, Commit{Conversation: "c1", Events: script("p", 1)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append = %v", err)
	}
}

func TestClosed(t *testing.T) {
	s := memStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := s.Append(context.Background(), Commit{Conversation: "c1", Events: script("p", 1)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, _, err := s.Load("c1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close = %v", err)
	}
	if _, _, err := s.Settings(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Settings after Close = %v", err)
	}
}

// TestDuplicateAfterCacheLoss checks that idempotency holds when the stream
// cache is cold: after eviction and after a reopen.
func TestDuplicateAfterCacheLoss(t *testing.T) {
	fs := vfs.NewMem()
	s := openOn(t, fs, "db")
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1"), message(2, engine.PartyShopper, "m1", "hi")}})
	dup := Commit{Conversation: "c1", Events: []engine.Event{message(3, engine.PartyShopper, "m1", "again")}}
	for i := range s.streams {
		clear(s.streams[i].streams)
	}
	var de *DuplicateError
	if err := s.Append(context.Background(), dup); !errors.As(err, &de) || de.Seq != 2 {
		t.Fatalf("after eviction: Append = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openOn(t, fs, "db")
	if err := s.Append(context.Background(), dup); !errors.As(err, &de) || de.Seq != 2 {
		t.Fatalf("after reopen: Append = %v", err)
	}
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{message(3, engine.PartyShopper, "m2", "new")}})
	if err := s.Append(context.Background(), Commit{Conversation: "c1",
		Events: []engine.Event{message(4, engine.PartyShopper, "m2", "again")}}); !errors.As(err, &de) || de.Seq != 3 {
		t.Fatalf("warm cache: Append = %v", err)
	}
}

// TestClientIDHashCollision checks that a hash already in the set only costs
// a read: a new client id whose hash collides is still accepted.
func TestClientIDHashCollision(t *testing.T) {
	s := memStore(t)
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1"), message(2, engine.PartyShopper, "m1", "hi")}})
	sh := &s.streams[partition("c1")]
	st := sh.streams[streamID{kindConv, "c1"}]
	st.cids.add(s.cidHash(cidKey("c1", engine.PartyShopper, "m9"), len(st.cidPrefix)))
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{message(3, engine.PartyShopper, "m9", "new")}})
}
