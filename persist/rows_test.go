package persist

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

// rowOf is a ticket row for the row-index tests.
func rowOf(id string, ch engine.Channel, assignee string, st engine.TicketStatus, sec int, version uint64) engine.TicketRow {
	r := engine.TicketRow{ID: id, Channel: ch, Status: st, Profile: engine.ProfileRef{ID: "p-" + id, Name: "Ann"},
		Preview: "hello " + id, UpdatedAt: at(sec), Version: version}
	if assignee != "" {
		r.Assignee = &engine.AgentRef{ID: assignee, Name: strings.ToUpper(assignee)}
	}
	return r
}

func putRow(t *testing.T, s *Store, r engine.TicketRow) {
	t.Helper()
	mustAppend(t, s, Commit{Conversation: r.ID, Row: &r})
}

// newestFirst sorts rows the way every list shows them.
func newestFirst(rows []engine.TicketRow) {
	slices.SortFunc(rows, func(a, b engine.TicketRow) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// pageAll lists every page of q, limit rows at a time, from the first page
// to the last, as an agent paging with the cursor would.
func pageAll(t *testing.T, s *Store, q ClosedQuery) []engine.TicketRow {
	t.Helper()
	var all []engine.TicketRow
	for page := 0; ; page++ {
		rows, err := s.ClosedRows(q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
		if len(rows) < q.Limit {
			return all
		}
		last := rows[len(rows)-1]
		q.After = &RowPosition{UnixNano: last.UpdatedAt.UnixNano(), ID: last.ID}
		if page > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

// history writes 60 tickets, some left open, the others closed after their
// open row; several share a time, so ids break ties. It returns the closed
// rows and the open ones.
func history(t *testing.T, s *Store) (closed, open []engine.TicketRow) {
	for i := 0; i < 60; i++ {
		id := fmt.Sprintf("t%02d", i)
		ch := engine.ChannelWebchat
		if i%7 == 0 {
			ch = engine.ChannelSMS
		}
		assignee := []string{"ag-a", "ag-b", ""}[i%3]
		if i == 17 {
			assignee = "ag-rare"
		}
		r := rowOf(id, ch, assignee, engine.StatusOpen, i/3, 1)
		putRow(t, s, r)
		if i%5 == 0 {
			open = append(open, r)
			continue
		}
		r.Status, r.Version, r.UpdatedAt = engine.StatusClosed, 2, at(100+(i*7)%40)
		putRow(t, s, r)
		closed = append(closed, r)
	}
	return closed, open
}

// Every closed list, whatever its filters, pages through its tickets newest
// activity first, each exactly once, and the store remembers across a reopen
// which tickets are open and how many are closed (H1, H3).
func TestClosedListsPageEachTicketOnce(t *testing.T) {
	fs := vfs.NewMem()
	s := openOn(t, fs, "db")
	closed, open := history(t, s)
	check := func(s *Store) {
		t.Helper()
		for _, ch := range []engine.Channel{"", engine.ChannelWebchat, engine.ChannelSMS} {
			for _, as := range []string{"", "ag-a", "ag-b", "ag-rare", "ag-nobody"} {
				var want []engine.TicketRow
				for _, r := range closed {
					if (ch == "" || r.Channel == ch) && (as == "" || r.Assignee != nil && r.Assignee.ID == as) {
						want = append(want, r)
					}
				}
				newestFirst(want)
				got := pageAll(t, s, ClosedQuery{Channel: ch, Assignee: as, Limit: 4})
				if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Fatalf("closed, channel %q, assignee %q:\n got %v\nwant %v", ch, as, ids(got), ids(want))
				}
			}
		}
		if n := s.ClosedCount(); n != len(closed) {
			t.Fatalf("ClosedCount = %d, want %d", n, len(closed))
		}
		var active []engine.TicketRow
		if err := s.ActiveRows(func(r engine.TicketRow) error { active = append(active, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(active, open) {
			t.Fatalf("active rows %v, want %v", ids(active), ids(open))
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openOn(t, fs, "db"))
}

func ids(rows []engine.TicketRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// A ticket that closes leaves the active rows and is the first closed one in
// the same commit; a closed row written again replaces its entries (an older
// one never does), and the ticket is counted once (H3).
func TestClosingMovesTheRow(t *testing.T) {
	s := memStore(t)
	putRow(t, s, rowOf("old", engine.ChannelWebchat, "ag-a", engine.StatusClosed, 1, 5))
	r := rowOf("c1", engine.ChannelWebchat, "ag-a", engine.StatusOpen, 2, 1)
	putRow(t, s, r)
	if got, found, err := s.Row("c1"); err != nil || !found || !reflect.DeepEqual(got, r) {
		t.Fatalf("Row(c1) = %+v, %v, %v", got, found, err)
	}
	r.Status, r.Version, r.UpdatedAt = engine.StatusClosed, 2, at(3)
	putRow(t, s, r)
	if n := countActive(t, s); n != 0 {
		t.Fatalf("%d active rows after the close", n)
	}
	firstClosed := func(q ClosedQuery) []string {
		t.Helper()
		q.Limit = 10
		rows, err := s.ClosedRows(q)
		if err != nil {
			t.Fatal(err)
		}
		return ids(rows)
	}
	if got := firstClosed(ClosedQuery{}); !reflect.DeepEqual(got, []string{"c1", "old"}) {
		t.Fatalf("closed list %v", got)
	}
	putRow(t, s, r) // the same row twice
	moved := r
	moved.Version, moved.UpdatedAt, moved.Assignee = 3, at(0), &engine.AgentRef{ID: "ag-b", Name: "B"}
	putRow(t, s, moved)
	stale := r
	stale.Version = 2
	putRow(t, s, stale)
	for _, tc := range []struct {
		q    ClosedQuery
		want []string
	}{
		{ClosedQuery{}, []string{"old", "c1"}},
		{ClosedQuery{Assignee: "ag-a"}, []string{"old"}},
		{ClosedQuery{Assignee: "ag-b"}, []string{"c1"}},
		{ClosedQuery{Channel: engine.ChannelWebchat, Assignee: "ag-b"}, []string{"c1"}},
	} {
		if got := firstClosed(tc.q); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Fatalf("%+v: %v, want %v", tc.q, got, tc.want)
		}
	}
	if got, _, _ := s.Row("c1"); !reflect.DeepEqual(got, moved) {
		t.Fatalf("Row(c1) = %+v, want %+v", got, moved)
	}
	if n := s.ClosedCount(); n != 2 {
		t.Fatalf("ClosedCount = %d, want 2", n)
	}
	if _, found, err := s.Row("nobody"); found || err != nil {
		t.Fatalf("Row(nobody) = %v, %v", found, err)
	}
}

func countActive(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	if err := s.ActiveRows(func(engine.TicketRow) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
