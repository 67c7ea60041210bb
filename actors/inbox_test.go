package actors

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/engine"
)

// tickingClock is a clock that moves on a millisecond at every reading, so
// that every change has its own activity time.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// openTicket starts a chat for a new shopper and posts one message: a ticket.
func (h *harness) openTicket(name string) string {
	h.t.Helper()
	v := engine.Visitor{ProfileID: name, Name: name}
	conv := h.startChat(v)
	h.post(v, conv, "c1", "hello from "+name)
	return conv
}

// listAll pages through q, limit rows at a time, as an agent following
// next_cursor would, and returns the ids in the order listed.
func (h *harness) listAll(q TicketQuery, me string) []string {
	h.t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		rows, next, err := h.sys.Tickets(context.Background(), q, me)
		if err != nil {
			h.t.Fatalf("list %+v: %v", q, err)
		}
		for _, r := range rows {
			if r.Status != q.Status && !(q.Status == "" && r.Status == engine.StatusOpen) {
				h.t.Fatalf("a %s row in a %q list", r.Status, q.Status)
			}
			got = append(got, r.ID)
		}
		if next == "" {
			return got
		}
		if pages > 1000 {
			h.t.Fatal("paging does not end")
		}
		q.Cursor = next
	}
}

func (h *harness) ticketsMetric(status engine.TicketStatus) int {
	h.t.Helper()
	if _, err := h.sys.Badge(context.Background()); err != nil { // the inbox has seen every change before
		h.t.Fatal(err)
	}
	return int(testutil.ToFloat64(h.sys.metrics.tickets.WithLabelValues(string(status))))
}

// Paging through the closed tickets shows each exactly once, the most
// recently closed first, before and after a restart; the tickets metric
// counts them (H1, H3, O1).
func TestClosedTicketsPageNewestFirst(t *testing.T) {
	h := start(t, Config{Now: tickingClock()})
	ctx := context.Background()
	var closed []string
	for i := 0; i < 9; i++ {
		conv := h.openTicket(fmt.Sprintf("shopper-%d", i))
		if i%3 != 2 {
			if _, err := h.sys.Close(ctx, conv); err != nil {
				t.Fatal(err)
			}
			closed = append(closed, conv)
		}
	}
	slices.Reverse(closed)
	for round := 0; round < 2; round++ {
		if got := h.listAll(TicketQuery{Status: engine.StatusClosed, Limit: 2}, ""); !slices.Equal(got, closed) {
			t.Fatalf("closed tickets, paged by 2: %v, want %v", got, closed)
		}
		if n := len(h.listAll(TicketQuery{Limit: 2}, "")); n != 3 {
			t.Fatalf("%d open tickets, want 3", n)
		}
		if n := h.ticketsMetric(engine.StatusClosed); n != 6 {
			t.Fatalf("parley_tickets{status=closed} = %d, want 6", n)
		}
		h.restart()
	}
}

// A ticket that closes leaves the open list and is the first of the closed
// list at once; the live inbox gets its closed row and the badge drops (H2, H3).
func TestClosedTicketLeavesTheOpenList(t *testing.T) {
	h := start(t, Config{Now: tickingClock()})
	ctx := context.Background()
	inbox := newRecorder()
	defer h.sys.WatchInbox(inbox)()
	older := h.openTicket("ada")
	if _, err := h.sys.Close(ctx, older); err != nil {
		t.Fatal(err)
	}
	conv := h.openTicket("grace")
	other := h.openTicket("alan")
	if got := h.listAll(TicketQuery{}, ""); !slices.Equal(got, []string{other, conv}) {
		t.Fatalf("open tickets %v", got)
	}
	if _, err := h.sys.Close(ctx, conv); err != nil {
		t.Fatal(err)
	}
	if got := h.listAll(TicketQuery{}, ""); !slices.Equal(got, []string{other}) {
		t.Fatalf("open tickets after the close %v", got)
	}
	if got := h.listAll(TicketQuery{Status: engine.StatusClosed}, ""); !slices.Equal(got, []string{conv, older}) {
		t.Fatalf("closed tickets after the close %v", got)
	}
	inbox.waitFor(t, "the closed row and the badge at 1", func(r *recorder) bool {
		last := r.rows[len(r.rows)-1]
		return last.ID == conv && last.Status == engine.StatusClosed && r.badges[len(r.badges)-1] == 1
	})
}

// The closed list filters by assignee ("me" or an agent id) and channel, and
// pages through each filtered list newest first (H1, H6).
func TestClosedTicketsFilters(t *testing.T) {
	h := start(t, Config{Now: tickingClock()})
	ctx := context.Background()
	var mine, bos, all []string
	for i := 0; i < 7; i++ {
		conv := h.openTicket(fmt.Sprintf("shopper-%d", i))
		agent := []engine.Agent{ana, bo, {}}[i%3]
		if agent.ID != "" {
			if _, err := h.sys.Reply(ctx, conv, agent, "on it", nil, "a1"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.sys.Close(ctx, conv); err != nil {
			t.Fatal(err)
		}
		all = append([]string{conv}, all...)
		switch agent.ID {
		case ana.ID:
			mine = append([]string{conv}, mine...)
		case bo.ID:
			bos = append([]string{conv}, bos...)
		}
	}
	for _, tc := range []struct {
		q    TicketQuery
		want []string
	}{
		{TicketQuery{Assignee: "me"}, mine},
		{TicketQuery{Assignee: bo.ID}, bos},
		{TicketQuery{Channel: engine.ChannelWebchat}, all},
		{TicketQuery{Channel: engine.ChannelWebchat, Assignee: "me"}, mine},
		{TicketQuery{Channel: engine.ChannelSMS}, nil},
		{TicketQuery{Assignee: "agent-nobody"}, nil},
	} {
		tc.q.Status, tc.q.Limit = engine.StatusClosed, 2
		if got := h.listAll(tc.q, ana.ID); !slices.Equal(got, tc.want) {
			t.Errorf("closed, channel %q, assignee %q: %v, want %v", tc.q.Channel, tc.q.Assignee, got, tc.want)
		}
	}
}

// A row of a closed ticket that reaches the inbox late (out of order) or
// twice neither brings the ticket back to the open list nor counts it again.
func TestLateRowOfClosedTicketIsIgnored(t *testing.T) {
	h := start(t, Config{Now: tickingClock()})
	ctx := context.Background()
	conv := h.openTicket("ada")
	view, err := h.sys.Ticket(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	closedRow, err := h.sys.Close(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	h.sys.actors.Root.Send(h.sys.inbox, &rowChanged{Row: closedRow})
	h.sys.actors.Root.Send(h.sys.inbox, &rowChanged{Row: view.Row})
	if got := h.listAll(TicketQuery{}, ""); len(got) != 0 {
		t.Fatalf("open tickets %v after a late row of a closed one", got)
	}
	if n := h.ticketsMetric(engine.StatusClosed); n != 1 {
		t.Fatalf("parley_tickets{status=closed} = %d, want 1", n)
	}
	if n, _ := h.sys.Badge(ctx); n != 0 {
		t.Fatalf("badge %d", n)
	}
}

// The open list follows activity, newest first, and filters by assignee and
// channel; a shopper's message takes its ticket to the top (H1, H6).
func TestOpenListFollowsActivity(t *testing.T) {
	h := start(t, Config{Now: tickingClock()})
	ctx := context.Background()
	first, second, third := h.openTicket("ada"), h.openTicket("grace"), h.openTicket("alan")
	if _, err := h.sys.Reply(ctx, first, ana, "on it", nil, "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sys.Reply(ctx, second, bo, "on it", nil, "a1"); err != nil {
		t.Fatal(err)
	}
	h.post(engine.Visitor{ProfileID: "alan", Name: "alan"}, third, "c2", "anyone?")
	for _, tc := range []struct {
		q    TicketQuery
		want []string
	}{
		{TicketQuery{Limit: 1}, []string{third, second, first}},
		{TicketQuery{Assignee: "me"}, []string{first}},
		{TicketQuery{Assignee: bo.ID}, []string{second}},
		{TicketQuery{Channel: engine.ChannelWebchat, Limit: 2}, []string{third, second, first}},
		{TicketQuery{Channel: engine.ChannelWebchat, Assignee: "me"}, []string{first}},
		{TicketQuery{Channel: engine.ChannelSMS}, nil},
		{TicketQuery{Status: engine.StatusSnoozed}, nil},
	} {
		if got := h.listAll(tc.q, ana.ID); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
		}
	}
	h.post(engine.Visitor{ProfileID: "ada", Name: "ada"}, first, "c2", "thanks!")
	if got := h.listAll(TicketQuery{}, ""); !slices.Equal(got, []string{first, third, second}) {
		t.Fatalf("after a message on the oldest: %v", got)
	}
}

// Snoozed tickets leave the open list and the badge, are listed as snoozed,
// and each wakes when its own snooze runs out, the earliest first, whatever
// the order they were snoozed in (H2, H3).
func TestSnoozedTicketsWakeInTurn(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	inbox := newRecorder()
	defer h.sys.WatchInbox(inbox)()
	later, sooner, awake := h.openTicket("ada"), h.openTicket("grace"), h.openTicket("alan")
	now := time.Now()
	if _, err := h.sys.Snooze(ctx, later, now.Add(600*time.Millisecond), ana.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sys.Snooze(ctx, sooner, now.Add(300*time.Millisecond), ana.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.listAll(TicketQuery{}, ""); !slices.Equal(got, []string{awake}) {
		t.Fatalf("open while snoozed: %v", got)
	}
	if got := h.listAll(TicketQuery{Status: engine.StatusSnoozed}, ""); len(got) != 2 {
		t.Fatalf("snoozed: %v", got)
	}
	if n, _ := h.sys.Badge(ctx); n != 1 {
		t.Fatalf("badge while two are snoozed: %d", n)
	}
	woke := func(r *recorder) []string { // the tickets that went from snoozed to open, in turn
		var ids []string
		snoozed := map[string]bool{}
		for _, row := range r.rows {
			switch {
			case row.Status == engine.StatusSnoozed:
				snoozed[row.ID] = true
			case snoozed[row.ID]:
				ids = append(ids, row.ID)
				delete(snoozed, row.ID)
			}
		}
		return ids
	}
	inbox.waitFor(t, "both to wake", func(r *recorder) bool { return len(woke(r)) == 2 })
	if got := woke(inbox); !slices.Equal(got, []string{sooner, later}) || time.Since(now) < 600*time.Millisecond {
		t.Fatalf("woke %v after %s", got, time.Since(now))
	}
	if n, _ := h.sys.Badge(ctx); n != 3 {
		t.Fatalf("badge once they woke: %d", n)
	}
	if got := h.listAll(TicketQuery{Status: engine.StatusSnoozed}, ""); len(got) != 0 {
		t.Fatalf("still snoozed: %v", got)
	}
}
