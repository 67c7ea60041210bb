package persist

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

// TestCrashConsistency appends from several goroutines on Pebble's crashable
// in-memory file system, takes a crash clone at a random moment (keeping a
// random share of the unsynced data), reopens the clone and checks that every
// acknowledged event is there exactly once, that every stream runs 1..N with
// no gap, that idempotency keys match the events, that rows moved with
// their events, and that a closed ticket left the active rows for the closed
// ones and was counted once.
func TestCrashConsistency(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { crashRound(t, seed) })
	}
}

const crashWriters, crashStreams = 6, 3

func crashRound(t *testing.T, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	fs := vfs.NewCrashableMem()
	s, err := Open(Options{Dir: "db", FS: fs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked = map[string]uint64{}
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := 0; w < crashWriters; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			crashWriter(t, s, rand.New(rand.NewPCG(uint64(seed), uint64(w))), w, stop, func(id string, seq uint64) {
				mu.Lock()
				acked[id] = seq
				mu.Unlock()
			})
		}(w)
	}
	time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
	mu.Lock()
	durable := make(map[string]uint64, len(acked))
	for id, seq := range acked {
		durable[id] = seq
	}
	mu.Unlock()
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
	close(stop)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openOn(t, clone, "db")
	total, closed := 0, map[string]bool{}
	for w := 0; w < crashWriters; w++ {
		for k := 0; k < crashStreams; k++ {
			id := fmt.Sprintf("w%d-s%d", w, k)
			n, isClosed := checkRecovered(t, s2, id, durable[id])
			total += n
			if isClosed {
				closed[id] = true
			}
		}
	}
	checkRowsRecovered(t, s2, closed)
	t.Logf("%d acknowledged before the crash, %d recovered, %d tickets closed", sumOf(durable), total, len(closed))
}

// checkRowsRecovered checks that the active rows are the tickets not closed,
// and that the closed list and count are the closed ones.
func checkRowsRecovered(t *testing.T, s *Store, closed map[string]bool) {
	t.Helper()
	err := s.ActiveRows(func(r engine.TicketRow) error {
		if closed[r.ID] || r.Status == engine.StatusClosed {
			return fmt.Errorf("%s (%s) among the active rows", r.ID, r.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.ClosedRows(ClosedQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !closed[r.ID] {
			t.Fatalf("%s listed closed", r.ID)
		}
	}
	if len(rows) != len(closed) || s.ClosedCount() != len(closed) {
		t.Fatalf("%d closed rows listed, %d counted; %d tickets closed", len(rows), s.ClosedCount(), len(closed))
	}
}

func sumOf(m map[string]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

// crashWriter appends commits of one to three events to its own streams until
// stop, with a ticket event, a row and now and then a snapshot or the end,
// and reports each acknowledged commit.
func crashWriter(t *testing.T, s *Store, rng *rand.Rand, w int, stop chan struct{}, ack func(string, uint64)) {
	type stream struct {
		evs   []engine.Event
		tevs  []engine.TicketEvent
		ended bool
	}
	streams := make([]stream, crashStreams)
	for n, ended := 0, 0; ended < crashStreams; n++ {
		select {
		case <-stop:
			return
		default:
		}
		k := rng.IntN(crashStreams)
		st, id := &streams[k], fmt.Sprintf("w%d-s%d", w, k)
		if st.ended {
			continue
		}
		c := Commit{Conversation: id}
		for i := 0; i < 1+rng.IntN(3); i++ {
			seq := uint64(len(st.evs) + len(c.Events) + 1)
			e := message(seq, engine.PartyShopper, fmt.Sprintf("%s-%d", id, seq), "hello")
			if seq == 1 {
				e = started("p")
			}
			c.Events = append(c.Events, e)
		}
		if len(st.evs) > 3 && rng.IntN(20) == 0 {
			seq := uint64(len(st.evs) + len(c.Events) + 1)
			c.Events = append(c.Events, engine.Event{Seq: seq, At: at(n), Kind: engine.KindEnded, By: engine.PartyAgent})
		}
		if rng.IntN(4) == 0 {
			c.TicketEvents = []engine.TicketEvent{{Seq: uint64(len(st.tevs) + 1), At: at(n), Kind: engine.TicketSnoozed, Until: at(n + 60)}}
		}
		cs, ts := replay(id, append(st.evs, c.Events...), append(st.tevs, c.TicketEvents...))
		row := engine.Row(cs, ts, at(n))
		c.Row = &row
		if rng.IntN(5) == 0 {
			c.Snapshot = &Snapshot{Conversation: *cs, Ticket: *ts}
		}
		if err := s.Append(context.Background(), c); err != nil {
			t.Errorf("%s: %v", id, err)
			return
		}
		st.evs, st.tevs = append(st.evs, c.Events...), append(st.tevs, c.TicketEvents...)
		if cs.Ended {
			st.ended = true
			ended++
		}
		ack(id, uint64(len(st.evs)))
	}
}

// checkRecovered checks one stream after the crash and returns its length
// and whether its ticket is closed.
func checkRecovered(t *testing.T, s *Store, id string, durable uint64) (int, bool) {
	t.Helper()
	evs := collect(t, s, id, 0, 0)
	if uint64(len(evs)) < durable {
		t.Fatalf("%s: %d events recovered, %d were acknowledged", id, len(evs), durable)
	}
	clientIDs := map[string]bool{}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("%s: event %d has seq %d", id, i, e.Seq)
		}
		if e.Kind != engine.KindMessage {
			continue
		}
		if clientIDs[e.ClientID] {
			t.Fatalf("%s: client id %s stored twice", id, e.ClientID)
		}
		clientIDs[e.ClientID] = true
		v, found, err := s.get(cidKey(id, e.From, e.ClientID))
		if seq, _ := beUint64(v); err != nil || !found || seq != e.Seq {
			t.Fatalf("%s: idempotency key of seq %d = %d, %v, %v", id, e.Seq, seq, found, err)
		}
	}
	keys := 0
	if err := s.scan(key(cidPrefix, id), nil, false, func(_, _ []byte) (bool, error) { keys++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	if keys != len(clientIDs) {
		t.Fatalf("%s: %d idempotency keys for %d messages", id, keys, len(clientIDs))
	}
	if len(evs) == 0 {
		return 0, false
	}
	c, tk, err := s.Load(id)
	if err != nil {
		t.Fatalf("%s: Load: %v", id, err)
	}
	if c.LastSeq != uint64(len(evs)) {
		t.Fatalf("%s: Load at %d, log at %d", id, c.LastSeq, len(evs))
	}
	row, _, err := s.Row(id)
	if err != nil || row.Version != c.LastSeq+tk.LastSeq {
		t.Fatalf("%s: row at version %d (%v), streams at %d+%d", id, row.Version, err, c.LastSeq, tk.LastSeq)
	}
	if (row.Status == engine.StatusClosed) != c.Ended {
		t.Fatalf("%s: row %s, conversation ended: %v", id, row.Status, c.Ended)
	}
	return len(evs), c.Ended
}
