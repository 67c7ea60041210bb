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

// A conversation far longer than one filter's first size still refuses every
// repeat and accepts every new id: the filter is rebuilt bigger as it fills.
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
	if bytes := len(st.cids.bits) * 8; bytes > n*cidBitsPerID*2/8+64 {
		t.Fatalf("filter of %d bytes for %d ids", bytes, n)
	}
}
