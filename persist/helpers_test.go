package persist

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/engine"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// memStore opens a store on a fresh in-memory file system.
func memStore(t testing.TB) *Store {
	t.Helper()
	return openOn(t, vfs.NewMem(), "db")
}

func openOn(t testing.TB, fs vfs.FS, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, FS: fs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }

// started is the first event of a conversation.
func started(profile string) engine.Event {
	return engine.Event{Seq: 1, At: at(0), Kind: engine.KindStarted, Welcome: "Hi!",
		ProfileID: profile, ProfileName: "Ann", Channel: engine.ChannelWebchat}
}

func message(seq uint64, from engine.Party, clientID, text string) engine.Event {
	return engine.Event{Seq: seq, At: at(int(seq)), Kind: engine.KindMessage, From: from,
		AuthorID: "a1", Author: "Ann", Text: text, ClientID: clientID}
}

// script is a varied conversation log of n events (n >= 1).
func script(profile string, n int) []engine.Event {
	evs := []engine.Event{started(profile)}
	for seq := uint64(2); len(evs) < n; seq++ {
		var e engine.Event
		switch seq % 5 {
		case 0:
			e = engine.Event{Seq: seq, At: at(int(seq)), Kind: engine.KindSeen, By: engine.PartyAgent, UpTo: seq - 1}
		case 1:
			e = engine.Event{Seq: seq, At: at(int(seq)), Kind: engine.KindAssigned, Agent: &engine.AgentRef{ID: "ag", Name: "Bo"}}
		case 3:
			e = message(seq, engine.PartyAgent, fmt.Sprintf("a%d", seq), "hello back")
		default:
			e = message(seq, engine.PartyShopper, fmt.Sprintf("s%d", seq), fmt.Sprintf("question %d", seq))
		}
		evs = append(evs, e)
	}
	return evs
}

// replay applies events to a fresh state, the reference Load must match.
func replay(id string, evs []engine.Event, tevs []engine.TicketEvent) (*engine.Conversation, *engine.Ticket) {
	c, t := engine.NewConversation(id), &engine.Ticket{ID: id}
	for _, e := range evs {
		c.Apply(e)
	}
	for _, e := range tevs {
		t.Apply(e)
	}
	return c, t
}

func mustAppend(t testing.TB, s *Store, c Commit) {
	t.Helper()
	if err := s.Append(context.Background(), c); err != nil {
		t.Fatalf("append %s: %v", c.Conversation, err)
	}
}

func collect(t testing.TB, s *Store, id string, after uint64, limit int) []engine.Event {
	t.Helper()
	var out []engine.Event
	if err := s.Events(id, after, limit, func(e engine.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
