package main

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestGracefulShutdownUnderLoad stops the real server with SIGTERM while
// shoppers and agents write as fast as they can (O5): the server exits 0,
// every socket is told to reconnect with 1001 (going away), and after a
// restart every acknowledged message is there exactly once, every log runs
// 1..N, and every shopper resumes with exactly the events it missed.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x0505))
	ct := newCrashTest(t, crashBuild(t), t.TempDir())
	ct.startChild()
	ct.createAgents()
	ct.setupShoppers()
	if t.Failed() {
		return
	}
	for r := 1; r <= 3; r++ {
		ct.round.Store(int32(r))
		delay := time.Duration(200+rng.IntN(600)) * time.Millisecond
		ct.loadUntil(r, delay, rng.Uint64(), "SIGTERM", func() { shutdownAndCheck(ct) })
		ct.startChild()
		ct.verify(r)
		if t.Failed() {
			return
		}
	}
	ct.closeConns()
	ct.stopChild()
}

// shutdownAndCheck sends SIGTERM, waits for exit 0, and checks that every
// shopper socket was closed by the server with 1001.
func shutdownAndCheck(ct *crashTest) {
	c := ct.child
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		ct.errorf("SIGTERM: %v", err)
		return
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		ct.errorf("no exit 30s after SIGTERM")
		c.kill()
		return
	}
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		ct.errorf("exit %d after SIGTERM:\n%s", code, c.logs.String())
	}
	going, other := 0, map[websocket.StatusCode]int{}
	for _, sh := range ct.shoppers {
		conn := sh.c
		if conn == nil {
			continue
		}
		select {
		case <-conn.conn.Done():
		case <-time.After(5 * time.Second):
			ct.errorf("shopper %d: socket still open 5s after the server exited", sh.idx)
			continue
		}
		if st := conn.closeStatus(); st == websocket.StatusGoingAway {
			going++
		} else {
			other[st]++
		}
	}
	if len(other) > 0 {
		ct.errorf("sockets closed without 1001 (going away): %v; with 1001: %d", other, going)
	}
}
