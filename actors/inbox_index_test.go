package actors

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// The ordered views list exactly what filtering and sorting every row would,
// page after page, through any sequence of changes, and wake snoozed rows in
// deadline order: checked against that naive model after random changes.
func TestActiveIndexMatchesFilterAndSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := newActiveIndex()
	model := map[string]engine.TicketRow{}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	statuses := []engine.TicketStatus{engine.StatusOpen, engine.StatusOpen, engine.StatusSnoozed}
	channels := []engine.Channel{engine.ChannelWebchat, engine.ChannelWebchat, engine.ChannelSMS}
	agents := []string{"", "ag-a", "ag-b", "ag-rare"}
	for step := 0; step < 3000; step++ {
		id := fmt.Sprintf("t%03d", rng.IntN(300))
		if rng.IntN(5) == 0 {
			x.remove(id)
			delete(model, id)
			continue
		}
		r := engine.TicketRow{ID: id, Status: statuses[rng.IntN(3)], Channel: channels[rng.IntN(3)],
			UpdatedAt: t0.Add(time.Duration(rng.IntN(50)) * time.Second)} // times repeat: ids break ties
		if a := agents[rng.IntN(4)]; a != "" && (a != "ag-rare" || rng.IntN(10) == 0) {
			r.Assignee = &engine.AgentRef{ID: a}
		}
		if r.Status == engine.StatusSnoozed {
			u := t0.Add(time.Duration(rng.IntN(100)) * time.Second)
			r.SnoozedUntil = &u
		}
		x.put(r)
		model[id] = r
		if step%500 == 499 {
			checkViews(t, x, model, statuses, channels, agents)
		}
	}
	checkWakes(t, x, model, t0.Add(40*time.Second))
}

func checkViews(t *testing.T, x *activeIndex, model map[string]engine.TicketRow,
	statuses []engine.TicketStatus, channels []engine.Channel, agents []string) {
	t.Helper()
	for _, st := range statuses[1:] {
		for _, ch := range append([]engine.Channel{""}, channels[1:]...) {
			for _, as := range append(agents, "ag-nobody") {
				var want []string
				for _, r := range model {
					if r.Status == st && (ch == "" || r.Channel == ch) && (as == "" || r.Assignee != nil && r.Assignee.ID == as) {
						want = append(want, r.ID)
					}
				}
				slices.SortFunc(want, func(a, b string) int { // newest activity first, then the greater id
					if c := model[b].UpdatedAt.Compare(model[a].UpdatedAt); c != 0 {
						return c
					}
					return strings.Compare(b, a)
				})
				var got []string
				var after *cursor
				for {
					rows, next := x.page(view{st, ch, as}, after, 7)
					for _, r := range rows {
						got = append(got, r.ID)
					}
					if next == "" {
						break
					}
					var err error
					if after, err = decodeCursor(next); err != nil {
						t.Fatal(err)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("view %s/%q/%q:\n got %v\nwant %v", st, ch, as, got, want)
				}
			}
		}
	}
}

func checkWakes(t *testing.T, x *activeIndex, model map[string]engine.TicketRow, now time.Time) {
	t.Helper()
	var want []string
	var first time.Time
	for _, r := range model {
		if r.SnoozedUntil == nil {
			continue
		}
		if first.IsZero() || r.SnoozedUntil.Before(first) {
			first = *r.SnoozedUntil
		}
		if !now.Before(*r.SnoozedUntil) {
			want = append(want, r.ID)
		}
	}
	if next, ok := x.nextWake(); !ok || !next.Equal(first) {
		t.Fatalf("next wake %v, want %v", next, first)
	}
	got := x.due(now)
	for i := 1; i < len(got); i++ {
		if model[got[i]].SnoozedUntil.Before(*model[got[i-1]].SnoozedUntil) {
			t.Fatalf("due out of deadline order: %v", got)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("due %v, want %v", got, want)
	}
}

// An agent's views go with their last active ticket: memory follows the
// active tickets, not the agents ever seen.
func TestActiveIndexDropsEmptyViews(t *testing.T) {
	x := newActiveIndex()
	for i := 0; i < 100; i++ {
		x.put(engine.TicketRow{ID: fmt.Sprint(i), Status: engine.StatusOpen, Channel: engine.ChannelWebchat,
			Assignee: &engine.AgentRef{ID: "agent-" + strings.Repeat("x", i%10)}})
	}
	for i := 0; i < 100; i++ {
		x.remove(fmt.Sprint(i))
	}
	if len(x.views) != 0 || len(x.rows) != 0 || x.wakes.Len() != 0 {
		t.Fatalf("%d views, %d rows, %d wakes left", len(x.views), len(x.rows), x.wakes.Len())
	}
}

// BenchmarkActiveIndexPut measures what a message costs the inbox's index:
// the row of one of 10,000 active tickets (assigned, so in four views) moves
// to the front of its views.
func BenchmarkActiveIndexPut(b *testing.B) {
	const n = 10_000
	x := newActiveIndex()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rows := make([]engine.TicketRow, n)
	for i := range rows {
		rows[i] = engine.TicketRow{ID: engine.NewID(t0.Add(time.Duration(i) * time.Second)), Status: engine.StatusOpen,
			Channel: engine.ChannelWebchat, Assignee: &engine.AgentRef{ID: fmt.Sprintf("agent-%d", i%20)},
			UpdatedAt: t0.Add(time.Duration(i) * time.Second)}
		x.put(rows[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := rows[i%n]
		r.UpdatedAt = t0.Add(time.Duration(n+i) * time.Second)
		x.put(r)
	}
}
