package actors

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// BenchmarkInboxHistory measures the inbox on a store that holds a year of
// history: PARLEY_BENCH_CLOSED closed tickets (default 1,000,000) and
// PARLEY_BENCH_OPEN open ones (default 10,000). Filling the store takes
// minutes, so it runs only when asked for by name (-bench InboxHistory), never
// under -bench . (make bench-go).
//
// PARLEY_BENCH_DIR keeps the filled store in that directory and reuses it on
// the next run, so that a run measures a process that did not fill it (its
// RSS). The store's shape: one ticket every 30 s, 1% of them SMS, assigned
// round-robin to 20 agents except every 20,000th, which goes to a rare agent
// (50 in a million); each closed ticket has a start, a shopper message, an
// agent reply and an end; the open tickets come last, half of them answered.
//
//	restart        open the store and start the actors until they answer the
//	               badge; reports start-up seconds, heap and RSS after start,
//	               and the first closed page after start (cold)
//	open-page      the first page of open tickets (limit 50)
//	closed-page    the first page of closed tickets
//	closed-rare    the first page of closed tickets of the rare agent
//	closed-deep    the 21st page of closed tickets (by cursor)
func BenchmarkInboxHistory(b *testing.B) {
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "InboxHistory") {
		b.Skip("fills a store of a million tickets: run with -bench InboxHistory")
	}
	closed, open := envInt("PARLEY_BENCH_CLOSED", 1_000_000), envInt("PARLEY_BENCH_OPEN", 10_000)
	dir := historyStore(b, closed, open)
	unread := 0 // open tickets without an agent's reply
	for i := closed; i < closed+open; i++ {
		if i%2 != 0 {
			unread++
		}
	}
	b.Run("restart", func(b *testing.B) {
		var sum restartFigures
		for i := 0; i < b.N; i++ {
			f := historyRestart(b, dir, unread)
			sum.start += f.start
			sum.coldPage += f.coldPage
			sum.heap += f.heap
			sum.rss += f.rss
		}
		n := float64(b.N)
		b.ReportMetric(sum.start.Seconds()/n, "s/restart")
		b.ReportMetric(float64(sum.coldPage.Microseconds())/1000/n, "ms/cold-closed-page")
		b.ReportMetric(float64(sum.heap)/(1<<20)/n, "heapMB")
		b.ReportMetric(float64(sum.rss)/(1<<20)/n, "rssMB")
	})
	store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	sys, err := Start(store, historyConfig, nil, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sys.Shutdown(context.Background()) }()
	for _, bc := range []struct {
		name  string
		q     TicketQuery
		pages int
	}{
		{"open-page", TicketQuery{}, 1},
		{"closed-page", TicketQuery{Status: engine.StatusClosed}, 1},
		{"closed-rare", TicketQuery{Status: engine.StatusClosed, Assignee: rareAgent.ID}, 1},
		{"closed-deep", TicketQuery{Status: engine.StatusClosed}, 21},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				historyPages(b, sys, bc.q, bc.pages)
			}
		})
	}
}

// historyPages lists pages pages of q and checks the last one is full.
func historyPages(b *testing.B, sys *System, q TicketQuery, pages int) {
	b.StopTimer()
	cursor := ""
	for p := 1; p < pages; p++ { // the pages before the one measured
		_, next, err := sys.Tickets(context.Background(), TicketQuery{Status: q.Status, Assignee: q.Assignee, Cursor: cursor}, "")
		if err != nil || next == "" {
			b.Fatalf("page %d: next %q, %v", p, next, err)
		}
		cursor = next
	}
	q.Cursor = cursor
	b.StartTimer()
	rows, next, err := sys.Tickets(context.Background(), q, "")
	if err != nil || len(rows) == 0 || len(rows) < 50 && next != "" {
		b.Fatalf("%d rows, next %q, %v", len(rows), next, err)
	}
}

// restartFigures are what one restart took and left.
type restartFigures struct {
	start, coldPage time.Duration // until the badge answers; the first closed page after it
	heap, rss       uint64        // heap and stacks the running system holds; the process's RSS
}

// historyRestart opens the store and starts the actors until they answer
// the badge, then lists the first closed page.
func historyRestart(b *testing.B, dir string, unread int) (f restartFigures) {
	b.StopTimer()
	debug.FreeOSMemory()
	heap0 := heapInUse()
	b.StartTimer()
	t0 := time.Now()
	store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	sys, err := Start(store, historyConfig, nil, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sys.Shutdown(context.Background()) }()
	n, err := sys.Badge(context.Background())
	if err != nil || n != unread {
		b.Fatalf("badge %d, %v; want %d", n, err, unread)
	}
	f.start = time.Since(t0)
	t1 := time.Now()
	if rows, _, err := sys.Tickets(context.Background(), TicketQuery{Status: engine.StatusClosed}, ""); err != nil || len(rows) != 50 {
		b.Fatalf("first closed page: %d rows, %v", len(rows), err)
	}
	f.coldPage = time.Since(t1)
	b.StopTimer()
	debug.FreeOSMemory()
	f.heap, f.rss = heapInUse()-heap0, rssBytes()
	return f
}

// historyStore returns a store holding closed and open tickets: the one in
// PARLEY_BENCH_DIR if it was filled before, else a new one.
func historyStore(b *testing.B, closed, open int) string {
	dir := os.Getenv("PARLEY_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	done, db := filepath.Join(dir, "filled"), filepath.Join(dir, "db")
	want := fmt.Sprintf("%d closed, %d open", closed, open)
	if got, err := os.ReadFile(done); err == nil && string(got) == want {
		return db
	}
	start := time.Now()
	fillHistory(b, db, closed, open)
	if err := os.WriteFile(done, []byte(want), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %s in %s", want, time.Since(start).Round(time.Second))
	return db
}

func fillHistory(b *testing.B, dir string, closed, open int) {
	store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	work := make(chan int, 1024)
	var wg sync.WaitGroup
	for w := 0; w < 128; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := store.Append(context.Background(), historyCommit(i, i < closed)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < closed+open; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

// historyConfig lets a request take as long as it takes: the figures are
// the measure.
var historyConfig = Config{RequestTimeout: 10 * time.Minute}

var (
	historyStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rareAgent    = engine.AgentRef{ID: "agent-rare", Name: "Rare"}
)

// historyCommit is ticket i of the history store, closed or left open, in
// one commit with its row, as the actors would have written it.
func historyCommit(i int, closed bool) persist.Commit {
	at := historyStart.Add(time.Duration(i) * 30 * time.Second)
	id := engine.NewID(at)
	ch := engine.ChannelWebchat
	if i%100 == 99 {
		ch = engine.ChannelSMS
	}
	agent := engine.AgentRef{ID: "agent-" + strconv.Itoa(i%20), Name: "Agent"}
	if i%20_000 == 7 {
		agent = rareAgent
	}
	profile := "profile-" + strconv.Itoa(i)
	cmds := []engine.Command{
		engine.StartConversation{ProfileID: profile, ProfileName: "Shopper", Channel: ch, Welcome: "Hi!", At: at},
		engine.PostMessage{From: engine.PartyShopper, AuthorID: profile, Author: "Shopper",
			Text: "Where is my order? It was supposed to arrive yesterday.", ClientID: "c1", At: at},
	}
	if closed || i%2 == 0 {
		cmds = append(cmds, engine.PostMessage{From: engine.PartyAgent, AuthorID: agent.ID, Author: agent.Name,
			Text: "It is on its way: you will have it tomorrow.", ClientID: "a1", At: at.Add(time.Minute)})
	}
	if closed {
		cmds = append(cmds, engine.EndConversation{By: engine.PartyAgent, At: at.Add(2 * time.Minute)})
	}
	conv := engine.NewConversation(id)
	var events []engine.Event
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
	return persist.Commit{Conversation: id, Events: events, Row: &row}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// rssBytes is the process's resident set size, 0 where /proc is missing.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
