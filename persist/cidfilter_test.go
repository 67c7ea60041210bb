package persist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// The filter never forgets an id (no false negatives), and rarely claims one
// it never saw.
func TestCIDFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := newCIDFilter(0)
	var added []uint64
	for len(added) < 100 {
		h := rng.Uint64()
		f.add(h)
		added = append(added, h)
	}
	for _, h := range added {
		if !f.mayContain(h) {
			t.Fatalf("forgot %x", h)
		}
	}
	falsePos := 0
	for i := 0; i < 10000; i++ {
		if f.mayContain(rng.Uint64()) {
			falsePos++
		}
	}
	if falsePos > 300 { // about 1% expected at 10 bits an id
		t.Fatalf("%d false positives in 10,000", falsePos)
	}
}

// A conversation far longer than one filter's first size, and longer than
// any filter, still refuses every repeat and accepts every new id: the
// filter is rebuilt bigger as it fills, then saturates and the index
// answers; the cache entry stays small.
func TestClientIDsOfALongConversation(t *testing.T) {
	s := memStore(t)
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1")}})
	const n = 1500
	for i := 0; i < n; i++ {
		mustAppend(t, s, Commit{Conversation: "c1",
			Events: []engine.Event{message(uint64(i+2), engine.PartyShopper, fmt.Sprintf("m%d", i), "hi")}})
	}
	for _, i := range []int{0, 1, 700, n - 1} {
		err := s.Append(context.Background(), Commit{Conversation: "c1",
			Events: []engine.Event{message(n+2, engine.PartyShopper, fmt.Sprintf("m%d", i), "again")}})
		var de *DuplicateError
		if !errors.As(err, &de) || de.Seq != uint64(i+2) {
			t.Fatalf("repeat of m%d: %v", i, err)
		}
	}
	st := s.streams[partition("c1")].streams[streamID{kindConv, "c1"}]
	if !st.cids.saturated() || len(st.cids.bits) != 0 {
		t.Fatalf("filter of %d words for %d ids, want saturated", len(st.cids.bits), n)
	}
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{message(n+2, engine.PartyShopper, "new", "hi")}})
}

// Up to its limit the filter keeps about 10 bits an id, with room to
// double before the next rebuild.
func TestCIDFilterSize(t *testing.T) {
	for _, ids := range []int{0, 100, cidFilterMaxIDs - 1} {
		f := newCIDFilter(ids)
		if f.saturated() || len(f.bits)*64 < ids*cidBitsPerID || len(f.bits)*64 > max(ids*cidBitsPerID*4, cidFilterMinWords*64) || len(f.bits) > 128 {
			t.Errorf("%d ids: %d bits", ids, len(f.bits)*64)
		}
	}
	if f := newCIDFilter(cidFilterMaxIDs); !f.saturated() || !f.mayContain(42) || f.full() {
		t.Errorf("past the limit: %+v", f)
	}
}
