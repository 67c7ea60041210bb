package actors

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// BenchmarkRestart measures a restart on a store that holds many tickets:
// opening Pebble and starting the actor system, until it answers a request.
// The store is written once, before the timer, with 10 events per ticket.
// PARLEY_BENCH_TICKETS sets the number of tickets (default 100,000, so 1,000,000
// events).
func BenchmarkRestart(b *testing.B) {
	tickets := 100_000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_TICKETS")); err == nil && v > 0 {
		tickets = v
	}
	dir := b.TempDir()
	start := time.Now()
	fillStore(b, dir, tickets, 10)
	b.Logf("wrote %d tickets, %d events in %s", tickets, tickets*10, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLog()})
		if err != nil {
			b.Fatal(err)
		}
		sys, err := Start(store, Config{}, nil, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		n, err := sys.Badge(context.Background())
		if err != nil || n != tickets {
			b.Fatalf("badge %d, %v; want %d", n, err, tickets)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s/restart")
		b.StopTimer()
		_ = sys.Shutdown(context.Background())
		_ = store.Close()
		b.StartTimer()
	}
}

// fillStore writes tickets conversations of events events each, with their
// inbox rows and open pointers, the way the actors would.
func fillStore(tb testing.TB, dir string, tickets, events int) {
	store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLog()})
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := store.Append(context.Background(), ticketCommit(i, events)); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < tickets; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

func ticketCommit(i, n int) persist.Commit {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	id := engine.NewID(at)
	profile := fmt.Sprintf("profile-%d", i)
	conv := engine.NewConversation(id)
	var events []engine.Event
	cmds := []engine.Command{engine.StartConversation{ProfileID: profile, ProfileName: "Shopper", Welcome: "Hi!", At: at}}
	for m := 1; m < n; m++ {
		cmds = append(cmds, engine.PostMessage{From: engine.PartyShopper, AuthorID: profile, Author: "Shopper",
			Text: "Where is my order? It was supposed to arrive yesterday.", ClientID: "c" + strconv.Itoa(m), At: at})
	}
	for _, cmd := range cmds {
		evs, err := conv.Decide(cmd)
		if err != nil {
			panic(err)
		}
		for _, e := range evs {
			conv.Apply(e)
		}
		events = append(events, evs...)
	}
	row := engine.Row(conv, &engine.Ticket{ID: id}, at)
	return persist.Commit{Conversation: id, Events: events, Row: &row,
		Open: &persist.OpenPointer{ProfileID: profile, Channel: engine.ChannelWebchat, Conversation: id}}
}
