package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// TestConversationProperties drives conversations with random commands, some
// valid, some refused, applies every decided event and checks the invariants
// of the log and the state after every step.
func TestConversationProperties(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runProperties(t, rand.New(rand.NewPCG(seed, 0x9a71e7)), 3000)
		})
	}
}

func runProperties(t *testing.T, r *rand.Rand, steps int) {
	base := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	now := base
	c := engine.NewConversation("conv")
	tk := &engine.Ticket{ID: "conv"}
	var log []engine.Event
	var tlog []engine.TicketEvent
	parties := []engine.Party{engine.PartyShopper, engine.PartyAgent, engine.PartyAI, engine.PartySystem, "bogus"}
	agents := []*engine.AgentRef{nil, {ID: "a1", Name: "Ana"}, {ID: "a2", Name: "Bo"}}
	clientIDs := []string{"", "x", "y", "z", "w", "v"} // few, so they repeat
	restarts := 0
	seen := map[string]int{} // what the run exercised
	defer func() {
		for _, k := range []string{"started", "message", "seen", "assigned", "ended", "snoozed", "duplicate", "closed", "invalid"} {
			if seen[k] == 0 {
				t.Errorf("the random run never produced %s: %v", k, seen)
			}
		}
	}()

	for step := range steps {
		now = now.Add(time.Duration(r.IntN(120)) * time.Second)
		var cmd engine.Command
		switch k := r.IntN(100); {
		case k < 3:
			cmd = engine.StartConversation{ProfileID: "p1", ProfileName: "Ada", Welcome: "Hi!", At: now}
		case k < 55:
			from := parties[r.IntN(len(parties))]
			id := clientIDs[r.IntN(len(clientIDs))]
			if r.IntN(3) == 0 {
				id = fmt.Sprint("m", step) // a fresh one
			}
			text := []string{"hello", "", "  ", "where is my order?", "\xff"}[r.IntN(5)]
			var atts []engine.Attachment
			if r.IntN(10) == 0 {
				atts = []engine.Attachment{{URL: "https://files.example.com/a.png", ContentType: "image/png"}}
			}
			authorID := []string{"", "a1", "a2"}[r.IntN(3)]
			cmd = engine.PostMessage{From: from, AuthorID: authorID, Author: authorID, Text: text,
				Attachments: atts, ClientID: id, At: now}
		case k < 75:
			by := []engine.Party{engine.PartyShopper, engine.PartyAgent, engine.PartyAI}[r.IntN(3)]
			cmd = engine.MarkSeen{By: by, UpTo: uint64(r.IntN(int(c.LastSeq) + 3)), At: now}
		case k < 85:
			cmd = engine.AssignTicket{Agent: agents[r.IntN(len(agents))], At: now}
		case k < 93:
			until := now.Add(time.Duration(r.IntN(7200)-600) * time.Second)
			cmd = engine.SnoozeTicket{Until: until, AgentID: "a1", At: now}
		case k < 96:
			cmd = engine.EndConversation{By: parties[r.IntN(3)], At: now}
		default:
			// The next session: a new conversation and ticket (S8, H8).
			if c.Ended {
				restarts++
				c, tk, log, tlog = engine.NewConversation(fmt.Sprint("conv", restarts)), &engine.Ticket{}, nil, nil
			}
			continue
		}

		before := cloneConversation(c)
		beforeTicket := *tk
		var events []engine.Event
		var err error
		if sn, ok := cmd.(engine.SnoozeTicket); ok {
			var tev []engine.TicketEvent
			tev, err = tk.DecideSnooze(c, sn)
			nextTicket := tk.After(tev)
			if !reflect.DeepEqual(*tk, beforeTicket) {
				t.Fatalf("step %d: After changed the ticket", step)
			}
			for _, e := range tev {
				tk.Apply(e)
				tlog = append(tlog, e)
				seen[string(e.Kind)]++
			}
			if !reflect.DeepEqual(nextTicket, *tk) {
				t.Fatalf("step %d: After gave the ticket %+v, Apply %+v", step, nextTicket, *tk)
			}
			if err == nil && len(tev) != 1 {
				t.Fatalf("step %d: snooze decided %d events", step, len(tev))
			}
			if err == nil && tk.Status(c, now) != engine.StatusSnoozed {
				t.Fatalf("step %d: a fresh snooze left the ticket %s", step, tk.Status(c, now))
			}
		} else {
			events, err = c.Decide(cmd)
			if !reflect.DeepEqual(c, before) {
				t.Fatalf("step %d: Decide(%+v) changed the state", step, cmd)
			}
			next := c.After(events)
			if !reflect.DeepEqual(c, before) {
				t.Fatalf("step %d: After changed the state", step)
			}
			for _, e := range events {
				c.Apply(e)
				log = append(log, e)
				seen[string(e.Kind)]++
			}
			checkAfter(t, step, &next, c, tk, now)
		}
		if errors.As(err, new(*engine.Duplicate)) {
			seen["duplicate"]++
		} else if err != nil {
			seen[string(engine.ErrorCode(err))]++
		}
		var dup *engine.Duplicate
		switch {
		case errors.As(err, &dup):
			pm := cmd.(engine.PostMessage)
			if dup.Seq == 0 || dup.Seq > c.LastSeq || log[dup.Seq-1].ClientID != pm.ClientID || log[dup.Seq-1].From != pm.From {
				t.Fatalf("step %d: duplicate of %q from %s points at seq %d", step, pm.ClientID, pm.From, dup.Seq)
			}
		case err != nil && engine.ErrorCode(err) == engine.CodeInternal:
			t.Fatalf("step %d: %T answered with an uncoded error %v", step, cmd, err)
		}
		if err != nil && (len(events) > 0 || !reflect.DeepEqual(c, before) || !reflect.DeepEqual(*tk, beforeTicket)) {
			t.Fatalf("step %d: a refused %T changed something: %v", step, cmd, err)
		}

		// Ended is terminal: after the end every command is refused.
		if before.Ended && err == nil {
			t.Fatalf("step %d: %T accepted after the end: %v", step, cmd, events)
		}
		if before.Ended && !c.Ended {
			t.Fatalf("step %d: the conversation reopened", step)
		}
		if c.Ended {
			if s := tk.Status(c, now); s != engine.StatusClosed {
				t.Fatalf("step %d: ended conversation's ticket is %s", step, s)
			}
			if row := engine.Row(c, tk, now); row.Unread || row.CountsForBadge() || row.WaitingSince != nil {
				t.Fatalf("step %d: closed row %+v still unread or waiting", step, row)
			}
		}
		// Receipt marks only move forward and never pass the log.
		if c.ShopperSeen < before.ShopperSeen || c.AgentSeen < before.AgentSeen {
			t.Fatalf("step %d: a seen mark moved back: %d→%d, %d→%d", step,
				before.ShopperSeen, c.ShopperSeen, before.AgentSeen, c.AgentSeen)
		}
		if c.ShopperSeen > c.LastSeq || c.AgentSeen > c.LastSeq {
			t.Fatalf("step %d: seen marks %d/%d past the last seq %d", step, c.ShopperSeen, c.AgentSeen, c.LastSeq)
		}
		// Receipts and assignment change neither the preview nor the order of the inbox.
		if _, ok := cmd.(engine.MarkSeen); ok && (c.Preview != before.Preview || !c.ActivityAt.Equal(before.ActivityAt)) {
			t.Fatalf("step %d: a receipt changed the preview or activity", step)
		}

		checkLog(t, step, c, log)

		// Rebuilding from the log (twice over) gives the same state.
		re := engine.NewConversation(c.ID)
		for range 2 {
			for _, e := range log {
				re.Apply(e)
			}
		}
		if !reflect.DeepEqual(re, c) {
			t.Fatalf("step %d: rebuilt state\n%+v\nwant\n%+v", step, re, c)
		}
		rt := &engine.Ticket{ID: tk.ID}
		for _, e := range tlog {
			rt.Apply(e)
		}
		if !reflect.DeepEqual(*rt, *tk) {
			t.Fatalf("step %d: rebuilt ticket %+v, want %+v", step, rt, tk)
		}
	}
}

// checkLog checks the log itself: seqs consecutive from 1, started first and
// only first, nothing after ended, one seq per (side, client_id).
func checkLog(t *testing.T, step int, c *engine.Conversation, log []engine.Event) {
	t.Helper()
	if uint64(len(log)) != c.LastSeq {
		t.Fatalf("step %d: %d events but LastSeq %d", step, len(log), c.LastSeq)
	}
	ids := map[string]uint64{}
	for i, e := range log {
		if e.Seq != uint64(i+1) {
			t.Fatalf("step %d: event %d has seq %d", step, i, e.Seq)
		}
		if (e.Kind == engine.KindStarted) != (i == 0) {
			t.Fatalf("step %d: %s at seq %d", step, e.Kind, e.Seq)
		}
		if e.Kind == engine.KindEnded && i != len(log)-1 {
			t.Fatalf("step %d: events after ended at seq %d", step, e.Seq)
		}
		if e.Kind == engine.KindSeen && e.UpTo >= e.Seq {
			t.Fatalf("step %d: seen at seq %d covers up to %d", step, e.Seq, e.UpTo)
		}
		if e.Kind == engine.KindMessage {
			key := string(e.From) + "/" + e.ClientID
			if prev, ok := ids[key]; ok {
				t.Fatalf("step %d: client_id %s stored at seq %d and %d", step, key, prev, e.Seq)
			}
			ids[key] = e.Seq
			if c.ClientIDs[key] != e.Seq {
				t.Fatalf("step %d: ClientIDs[%s] = %d, want %d", step, key, c.ClientIDs[key], e.Seq)
			}
		}
	}
	if len(ids) != len(c.ClientIDs) {
		t.Fatalf("step %d: %d client ids in the log, %d in the state", step, len(ids), len(c.ClientIDs))
	}
}

// checkAfter checks that the state After foretold is the state applied,
// but for the memory of client ids, which it leaves out, and so is its row.
func checkAfter(t *testing.T, step int, next, c *engine.Conversation, tk *engine.Ticket, now time.Time) {
	t.Helper()
	if next.ClientIDs != nil || next.ClientIDOrder != nil {
		t.Fatalf("step %d: After kept the memory of client ids", step)
	}
	applied := *c
	applied.ClientIDs, applied.ClientIDOrder = nil, nil
	if !reflect.DeepEqual(*next, applied) {
		t.Fatalf("step %d: After gave\n%+v\nApply gave\n%+v", step, *next, applied)
	}
	if a, b := engine.Row(next, tk, now), engine.Row(c, tk, now); !reflect.DeepEqual(a, b) {
		t.Fatalf("step %d: the row of After %+v, of Apply %+v", step, a, b)
	}
}

func cloneConversation(c *engine.Conversation) *engine.Conversation {
	cp := *c
	cp.ClientIDs = make(map[string]uint64, len(c.ClientIDs))
	for k, v := range c.ClientIDs {
		cp.ClientIDs[k] = v
	}
	return &cp
}
