package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// The backup test (O6) runs the real binary, keeps shoppers sending
// messages over WebSockets, and takes several backups with `parley backup`
// in the middle of that traffic. Each backup must hold every message
// acknowledged before its call began, exactly once and at its acknowledged
// seq, in a log that runs 1..N: checked by serving each checkpoint with a
// second `parley serve --data <checkpoint>` and reading it through the API.

const (
	backupSecret       = "backup-test-identity-secret"
	backupAdminToken   = "backup-test-admin-token"
	backupShopperCount = 8
	backupRounds       = 4
	backupWait         = 10 * time.Second
)

// backupAck is one acknowledged shopper message.
type backupAck struct {
	conv, text string
	seq        uint64
}

// backupTraffic is what the shoppers have had acknowledged so far.
type backupTraffic struct {
	mu    sync.Mutex
	acked map[string]backupAck // by client_id
	per   [backupShopperCount]int
}

func (tr *backupTraffic) record(shopper int, cid string, a backupAck) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.acked[cid] = a
	tr.per[shopper]++
}

// snapshot copies every ack received so far.
func (tr *backupTraffic) snapshot() map[string]backupAck {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[string]backupAck, len(tr.acked))
	for k, v := range tr.acked {
		out[k] = v
	}
	return out
}

// everyShopperAcked reports whether each shopper has at least n acks.
func (tr *backupTraffic) everyShopperAcked(n int) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, c := range tr.per {
		if c < n {
			return false
		}
	}
	return true
}

func TestBackupUnderTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := crashBuild(t)
	src := backupServe(t, bin, t.TempDir())
	root := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	traffic := &backupTraffic{acked: map[string]backupAck{}}
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // also when a wait below fails
	for i := range backupShopperCount {
		wg.Go(func() { backupShopper(ctx, t, src.addr, i, traffic) })
	}
	backupUntil(t, "every shopper has a ticket", func() bool { return traffic.everyShopperAcked(1) })

	type taken struct {
		dir   string
		acked map[string]backupAck
	}
	var backups []taken
	for r := range backupRounds {
		// Let the traffic move between backups, so that each one is taken
		// while messages are being written.
		before := len(traffic.snapshot())
		backupUntil(t, "more acks", func() bool { return len(traffic.snapshot()) >= before+2*backupShopperCount })
		dir := filepath.Join(root, fmt.Sprintf("backup-%d", r))
		acked := traffic.snapshot() // strictly before the call starts
		var out, errb bytes.Buffer
		code := run(ctx, []string{"backup", "--addr", src.addr, "--admin-token", backupAdminToken, "--to", dir}, &out, &errb)
		if code != 0 {
			t.Fatalf("backup %d: exit %d: %s", r, code, errb.String())
		}
		if got := strings.TrimSpace(out.String()); got != dir {
			t.Fatalf("backup %d printed %q, want %q", r, got, dir)
		}
		backups = append(backups, taken{dir, acked})
	}
	// The traffic went on after the last backup: they were taken under load.
	last := len(traffic.snapshot())
	backupUntil(t, "acks after the last backup", func() bool { return len(traffic.snapshot()) > last })
	cancel()
	wg.Wait()
	if t.Failed() {
		return
	}
	total := len(traffic.snapshot())

	backupRefusals(t, src.addr, backups[0].dir)
	src.stop(t)

	for i, b := range backups {
		dst := backupServe(t, bin, b.dir)
		n := backupVerify(t, dst.addr, b.acked)
		dst.stop(t)
		t.Logf("backup %d: %d messages acknowledged before it, all present once at their seq in %d conversations", i, len(b.acked), n)
	}
	t.Logf("%d messages acknowledged in all during %d backups", total, len(backups))
}

// backupRefusals checks what `parley backup` refuses and how it says so.
func backupRefusals(t *testing.T, addr, existing string) {
	t.Helper()
	ctx := context.Background()
	fresh := filepath.Join(t.TempDir(), "fresh")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"existing dir", []string{"--addr", addr, "--admin-token", backupAdminToken, "--to", existing}, 1, "already exists"},
		{"wrong token", []string{"--addr", addr, "--admin-token", "nope", "--to", fresh}, 1, "a valid bearer token is required"},
		{"no token", []string{"--addr", addr, "--to", fresh}, 2, "--admin-token and --to are required"},
		{"no dir", []string{"--addr", addr, "--admin-token", backupAdminToken}, 2, "--admin-token and --to are required"},
	} {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"backup"}, tc.args...), &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.msg) || out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d saying %q", tc.name, code, out.String(), errb.String(), tc.code, tc.msg)
		}
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused backup created %s: %v", fresh, err)
	}

	// PARLEY_ADDR and PARLEY_ADMIN_TOKEN stand in for the flags.
	env := map[string]string{"PARLEY_ADDR": addr, "PARLEY_ADMIN_TOKEN": backupAdminToken}
	old := osEnv
	osEnv = func(k string) string { return env[k] }
	defer func() { osEnv = old }()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"backup", "--to", fresh}, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != fresh {
		t.Errorf("backup from the environment: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// backupShopper logs in, starts a chat and sends messages one at a time,
// each as soon as the previous one is acknowledged, until ctx ends.
func backupShopper(ctx context.Context, t *testing.T, addr string, i int, traffic *backupTraffic) {
	profile := fmt.Sprintf("backup_shopper_%02d", i)
	tok, err := identity.Mint([]byte(backupSecret), engine.Visitor{ProfileID: profile, Name: profile}, time.Hour, time.Now())
	if err != nil {
		t.Error(err)
		return
	}
	dctx, dcancel := context.WithTimeout(ctx, backupWait)
	ws, err := wsclient.Dial(dctx, "ws://"+addr+"/ws", nil)
	dcancel()
	if err != nil {
		t.Errorf("shopper %d: dial: %v", i, err)
		return
	}
	defer ws.Close()
	fail := func(what string, err error) {
		if ctx.Err() == nil {
			t.Errorf("shopper %d: %s: %v", i, what, err)
		}
	}
	if _, err := ws.Hello(ctx, tok, nil); err != nil {
		fail("hello", err)
		return
	}
	started, err := ws.StartChat(ctx)
	if err != nil {
		fail("started", err)
		return
	}
	conv := started.Conversation
	for n := 1; ctx.Err() == nil; n++ {
		cid := fmt.Sprintf("b%02d-m%05d", i, n)
		text := fmt.Sprintf("shopper %d, message %d", i, n)
		ack, err := ws.SendMessage(ctx, wsclient.Message{ClientID: cid, Text: text})
		if err != nil {
			fail("ack of "+cid, err)
			return
		}
		if ack.Conversation != conv || ack.Seq == 0 {
			t.Errorf("shopper %d: ack of %s names seq %d of %q, expected a seq of %q", i, cid, ack.Seq, ack.Conversation, conv)
			return
		}
		traffic.record(i, cid, backupAck{conv: conv, text: text, seq: ack.Seq})
		ws.Drain() // the echoes are not this test's business
	}
}

// backupVerify reads every conversation with an acknowledged message from
// the server and checks the promise. It returns the number of conversations.
func backupVerify(t *testing.T, addr string, acked map[string]backupAck) int {
	t.Helper()
	byConv := map[string]map[string]backupAck{}
	for cid, a := range acked {
		if byConv[a.conv] == nil {
			byConv[a.conv] = map[string]backupAck{}
		}
		byConv[a.conv][cid] = a
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: backupWait}
	for conv, want := range byConv {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/tickets/"+conv, nil)
		req.Header.Set("Authorization", "Bearer "+backupAdminToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET ticket %s: %v", conv, err)
		}
		var tk crashTicket
		err = json.NewDecoder(resp.Body).Decode(&tk)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Errorf("GET ticket %s: %d %v", conv, resp.StatusCode, err)
			continue
		}
		found := map[string][]uint64{}
		for i, e := range tk.Events {
			if e.Seq != uint64(i+1) {
				t.Errorf("conversation %s: event %d of %d has seq %d: not 1..N", conv, i+1, len(tk.Events), e.Seq)
			}
			if e.Event.Kind == "message" && e.Event.ClientID != "" {
				found[e.Event.ClientID] = append(found[e.Event.ClientID], e.Seq)
				if a, ok := want[e.Event.ClientID]; ok && e.Event.Text != a.text {
					t.Errorf("conversation %s: %s has text %q, sent %q", conv, e.Event.ClientID, e.Event.Text, a.text)
				}
			}
		}
		for cid, a := range want {
			switch seqs := found[cid]; {
			case len(seqs) == 0:
				t.Errorf("conversation %s: %s, acknowledged as seq %d before the backup, is LOST (the backup has %d events)", conv, cid, a.seq, len(tk.Events))
			case len(seqs) > 1:
				t.Errorf("conversation %s: %s stored %d times, at seqs %v", conv, cid, len(seqs), seqs)
			case seqs[0] != a.seq:
				t.Errorf("conversation %s: %s acknowledged as seq %d is at seq %d", conv, cid, a.seq, seqs[0])
			}
		}
	}
	return len(byConv)
}

// backupUntil waits for cond, failing the test after backupWait.
func backupUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(backupWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in %v", what, backupWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// backupServe starts `parley serve` on data and waits until it is ready. The
// shopper rate limit is raised: this test measures nothing but durability.
func backupServe(t *testing.T, bin, data string) *serveChild {
	t.Helper()
	return startChild(t, bin, "--data", data, "--identity-secret", backupSecret, "--admin-token", backupAdminToken,
		"--ws-rate", "10000", "--ws-burst", "10000")
}
