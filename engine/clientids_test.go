package engine

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// A long conversation keeps only its recent client_ids in memory; the state
// does not grow with the number of messages.
func TestClientIDsAreBounded(t *testing.T) {
	c := NewConversation("c1")
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apply := func(cmd Command) {
		events, err := c.Decide(cmd)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			c.Apply(e)
		}
	}
	apply(StartConversation{ProfileID: "p1", At: at})
	n := RecentClientIDs + 50
	for i := 0; i < n; i++ {
		apply(PostMessage{From: PartyShopper, Text: "hi", ClientID: fmt.Sprintf("m%d", i), At: at})
	}
	if len(c.ClientIDs) != RecentClientIDs || len(c.ClientIDOrder) != RecentClientIDs {
		t.Fatalf("%d ids, %d in order; want %d", len(c.ClientIDs), len(c.ClientIDOrder), RecentClientIDs)
	}
	_, err := c.Decide(PostMessage{From: PartyShopper, Text: "hi", ClientID: fmt.Sprintf("m%d", n-1), At: at})
	var dup *Duplicate
	if !errors.As(err, &dup) || dup.Seq != uint64(n+1) {
		t.Fatalf("recent repeat: %v", err)
	}
	if _, ok := c.ClientIDs[clientKey(PartyShopper, "m0")]; ok {
		t.Fatal("the oldest client_id is still remembered")
	}
}
