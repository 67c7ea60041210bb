package persist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// TestConcurrentAppends runs 64 writers on 64 streams while 8 writers race
// on one stream: every stream ends up 1..N without a gap, and each seq of the
// contested stream was won by exactly one writer.
func TestConcurrentAppends(t *testing.T) {
	s := memStore(t)
	const streams, perStream, racers, contested = 64, 40, 8, 200
	var wg sync.WaitGroup
	for w := 0; w < streams; w++ {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			for _, e := range script("p", perStream) {
				if err := s.Append(context.Background(), Commit{Conversation: id, Events: []engine.Event{e}}); err != nil {
					t.Errorf("%s: %v", id, err)
					return
				}
			}
		}(fmt.Sprintf("own-%d", w))
	}
	won := make([][]uint64, racers)
	for r := 0; r < racers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			won[r] = race(t, s, "hot", r, contested)
		}(r)
	}
	wg.Wait()

	for w := 0; w < streams; w++ {
		checkStream(t, s, fmt.Sprintf("own-%d", w), perStream)
	}
	checkStream(t, s, "hot", contested)
	winner := map[uint64]int{}
	for r, seqs := range won {
		for _, seq := range seqs {
			if prev, ok := winner[seq]; ok {
				t.Fatalf("seq %d won by racers %d and %d", seq, prev, r)
			}
			winner[seq] = r
		}
	}
	if len(winner) != contested {
		t.Fatalf("%d seqs won, want %d", len(winner), contested)
	}
	for _, e := range collect(t, s, "hot", 0, 0) {
		if want := fmt.Sprintf("r%d-%d", winner[e.Seq], e.Seq); e.Seq > 1 && e.ClientID != want {
			t.Fatalf("seq %d holds %q, but %q was acknowledged", e.Seq, e.ClientID, want)
		}
	}
}

// race appends to id at whatever seq looks next until the stream holds n
// events, and returns the seqs this racer won.
func race(t *testing.T, s *Store, id string, r, n int) []uint64 {
	var won []uint64
	for {
		last, err := s.LastSeq(id)
		if err != nil {
			t.Error(err)
			return won
		}
		if last >= uint64(n) {
			return won
		}
		e := started("p")
		if last > 0 {
			e = message(last+1, engine.PartyShopper, fmt.Sprintf("r%d-%d", r, last+1), "hi")
		}
		err = s.Append(context.Background(), Commit{Conversation: id, Events: []engine.Event{e}})
		var ce *ConflictError
		switch {
		case err == nil:
			won = append(won, last+1)
		case errors.As(err, &ce):
		default:
			t.Error(err)
			return won
		}
	}
}

// checkStream asserts that stream id holds seqs 1..n exactly.
func checkStream(t *testing.T, s *Store, id string, n int) {
	t.Helper()
	evs := collect(t, s, id, 0, 0)
	if len(evs) != n {
		t.Fatalf("%s has %d events, want %d", id, len(evs), n)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("%s: event %d has seq %d", id, i, e.Seq)
		}
	}
}
