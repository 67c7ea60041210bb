package transport

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// longConversation stores a conversation of n messages of text bytes each
// for profile, written straight into storage, and returns its id.
func longConversation(t *testing.T, h *harness, profile string, n int, text string) string {
	t.Helper()
	info, _, err := h.sys.StartChat(context.Background(), engine.Visitor{ProfileID: profile, Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	for seq := uint64(2); seq <= uint64(n)+1; {
		var events []engine.Event
		for ; seq <= uint64(n)+1 && len(events) < 200; seq++ {
			events = append(events, engine.Event{Seq: seq, At: at, Kind: engine.KindMessage, From: engine.PartyAgent,
				AuthorID: "agent", Author: "Ana", Text: text, ClientID: "c" + strconv.FormatUint(seq, 10)})
		}
		if err := h.store.Append(context.Background(), persist.Commit{Conversation: info.ID, Events: events}); err != nil {
			t.Fatal(err)
		}
	}
	return info.ID
}

// rss is the process's resident memory in bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc: ", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// Many sockets resume a long conversation from the start and never read:
// the server holds their replays within its budget, page by page, instead
// of a copy of the whole log for each (memory bounded), drops them as their
// writes time out, and a socket that does read still gets the whole log,
// in order, meanwhile (S12).
func TestResumesThatNeverReadStayWithinTheBudget(t *testing.T) {
	const (
		messages = 3000
		sockets  = 60
		budget   = 4 << 20
	)
	// A write timeout that a reading client on a busy machine (the race
	// detector, two cores) always meets; the ones that never read are cut
	// off by it.
	h := start(t, Config{ReplayBudget: budget, WriteTimeout: 3 * time.Second, HelloTimeout: time.Minute})
	text := strings.Repeat("x", engine.MaxTextRunes)
	conv := longConversation(t, h, "p-long", messages, text) // 12 MB of log
	tok := token(t, "p-long", "Ada")

	base := rss(t)
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			peak.Store(max(peak.Load(), rss(t)))
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})

	// Clients with a small receive buffer, so that the kernel does not
	// take the replays off the server's hands.
	dialer := &net.Dialer{}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			_ = conn.(*net.TCPConn).SetReadBuffer(4096)
		}
		return conn, err
	}}}
	hello, _ := json.Marshal(frame{"type": "hello", "token": tok, "resume": frame{"conversation": conv, "after": 0}})
	var mutes []*websocket.Conn
	for range sockets {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, _, err := websocket.Dial(ctx, h.wsURL(), &websocket.DialOptions{HTTPClient: client})
		if err == nil {
			err = ws.Write(ctx, websocket.MessageText, hello)
		}
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		mutes = append(mutes, ws)
	}
	t.Cleanup(func() {
		for _, ws := range mutes {
			_ = ws.CloseNow()
		}
	})

	good := h.dial(nil)
	good.send(frame{"type": "hello", "token": tok, "resume": frame{"conversation": conv, "after": 0}})
	good.readType("welcome")
	for want := uint64(1); want <= messages+1; want++ {
		f, err := good.next(30 * time.Second)
		if err != nil {
			t.Fatalf("waiting for event %d: %v", want, err)
		}
		if f["type"] != "event" || num(f["seq"]) != want {
			t.Fatalf("expected event %d, got %v", want, f)
		}
	}

	for deadline := time.Now().Add(30 * time.Second); h.sockets() > 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets still open; the ones that never read should have timed out", h.sockets())
		}
	}
	close(stop)
	sampler.Wait()
	grew := peak.Load() - base
	t.Logf("RSS %d MiB before, peak %d MiB: grew %d MiB for %d sockets resuming %d MiB each",
		base>>20, peak.Load()>>20, grew>>20, sockets, messages*len(text)>>20)
	// Holding each socket's replay whole would take sockets × 12 MB and
	// more; within the budget it is a few pages in flight.
	if limit := int64(300 << 20); grew > limit {
		t.Fatalf("RSS grew by %d MiB resuming %d sockets that never read; want under %d MiB", grew>>20, sockets, limit>>20)
	}
	if n := testutil.ToFloat64(h.srv.m.replayBytes); n != 0 {
		t.Fatalf("%v replay bytes still held after every socket closed", n)
	}
}
