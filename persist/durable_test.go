package persist

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// LastSeq answers the durable last seq (welcome.conversation.last_seq): an
// append waiting for its fsync is not counted, even though Pebble already
// shows its event to readers and the seq checks already count it, and even
// when the stream's cache entry is pressed by many other streams meanwhile.
func TestLastSeqIsDurable(t *testing.T) { // S12
	s, gate, _ := gatedStore(t, Options{})
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{started("p1")}})
	gate.hold()
	done := appendAsync(s, Commit{Conversation: "c1", Events: []engine.Event{message(2, engine.PartyShopper, "m2", "hi")}})
	gate.awaitSync(t)

	if last, err := s.LastSeq("c1"); err != nil || last != 1 {
		t.Fatalf("LastSeq while seq 2 waits for its fsync = %d, %v; want 1", last, err)
	}
	// Other streams of the same lock shard crowd the stream cache.
	for i, n := 0, 0; n < 8*streamCacheCap; i++ {
		id := "other-" + strconv.Itoa(i)
		if partition(id) != partition("c1") {
			continue
		}
		n++
		if _, err := s.LastSeq(id); err != nil {
			t.Fatal(err)
		}
	}
	if last, err := s.LastSeq("c1"); err != nil || last != 1 {
		t.Fatalf("LastSeq after the cache was crowded = %d, %v; want 1", last, err)
	}
	if err := s.Append(context.Background(), Commit{Conversation: "c1",
		Events: []engine.Event{message(2, engine.PartyShopper, "m2b", "fork")}}); !errors.As(err, new(*ConflictError)) {
		t.Fatalf("a second seq 2 while the first waits: %v, want a conflict", err)
	}

	gate.release()
	if err := answer(t, done, "the append"); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastSeq("c1"); err != nil || last != 2 {
		t.Fatalf("LastSeq after the fsync = %d, %v; want 2", last, err)
	}
}
