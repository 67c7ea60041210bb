package actors

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/engine"
)

// Requests go straight to a running actor's mailbox while the actor keeps
// passivating under them (2 ms idle): none may be lost to a stopping actor
// (a lost one times out), none may run on two incarnations at once (a
// duplicate or a gap in the log), and every post lands once (S12).
func TestRequestsRaceWithPassivation(t *testing.T) {
	h := start(t, Config{PassivateAfter: 2 * time.Millisecond, ProfileIdleAfter: 2 * time.Millisecond, RequestTimeout: 3 * time.Second})
	const shoppers, senders, posts = 4, 4, 60
	type chat struct {
		v    engine.Visitor
		conv string
	}
	chats := make([]chat, shoppers)
	for i := range chats {
		v := engine.Visitor{ProfileID: fmt.Sprintf("racer-%d", i), Name: "Racer"}
		chats[i] = chat{v, h.startChat(v)}
	}
	var wg sync.WaitGroup
	errs := make(chan error, shoppers*senders*posts)
	for i, c := range chats {
		for s := range senders {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(s)))
				for n := range posts {
					// Pauses around the idle time, so that requests arrive
					// before, during and after each passivation.
					time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
					cid := fmt.Sprintf("s%d-%d", s, n)
					if _, err := h.sys.ShopperPost(context.Background(), c.v, c.conv, "hi "+cid, nil, cid); err != nil {
						errs <- fmt.Errorf("%s %s: %w", c.conv, cid, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	passivations := 0.0
	for _, c := range chats {
		view, err := h.sys.Ticket(context.Background(), c.conv)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, e := range view.Events {
			if e.Seq != uint64(i+1) {
				t.Fatalf("%s: event %d has seq %d", c.conv, i, e.Seq)
			}
			if e.Kind == engine.KindMessage {
				if seen[e.ClientID] {
					t.Fatalf("%s: %s stored twice", c.conv, e.ClientID)
				}
				seen[e.ClientID] = true
			}
		}
		if len(seen) != senders*posts {
			t.Errorf("%s: %d messages stored, want %d", c.conv, len(seen), senders*posts)
		}
	}
	passivations = testutil.ToFloat64(h.sys.metrics.actors.WithLabelValues("conversation"))
	t.Logf("conversation actors live at the end: %v", passivations)
}
