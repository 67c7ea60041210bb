package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestBenchChaosRun runs the load tool with two SIGKILLs of its server
// during the load: the load must go on through both restarts, and every
// acknowledged message and accepted agent reply must be found in the logs
// once, at its seq.
func TestBenchChaosRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, spawns and kills the real binary")
	}
	rep, out := benchRunJSON(t, 3*time.Minute, "--shoppers", "40", "--agents", "2", "--duration", "6s",
		"--kills", "2", "--rate", "200", "--agent-rate", "50")
	for _, key := range []string{`"chaos"`, `"kills"`, `"restarts"`, `"downtime_seconds"`, `"mean_ready_seconds"`, `"resent"`,
		`"acked_verified"`, `"agent_replies_verified"`, `"conversations_verified"`, `"server_cpu"`} {
		if !strings.Contains(out, key) {
			t.Errorf("report lacks %s", key)
		}
	}
	cr := rep.Chaos
	if cr == nil {
		t.Fatalf("no chaos section:\n%s", out)
	}
	t.Logf("chaos: %+v", *cr)
	if cr.Kills != 2 || cr.Restarts != 2 || len(cr.KillAtSeconds) != 2 || len(cr.ServerPIDs) != 3 {
		t.Errorf("kills %d restarts %d at %v pids %v", cr.Kills, cr.Restarts, cr.KillAtSeconds, cr.ServerPIDs)
	}
	if cr.DowntimeSeconds <= 0 || cr.MeanReadySeconds <= 0 || cr.MaxReadySeconds < cr.MeanReadySeconds {
		t.Errorf("downtime %v, ready mean %v max %v", cr.DowntimeSeconds, cr.MeanReadySeconds, cr.MaxReadySeconds)
	}
	// Every socket died with the kills and came back (a socket still
	// resuming when the next kill comes comes back once for both).
	if cr.Reconnects < 40 || cr.Reconnects > 2*40 {
		t.Errorf("%d sockets resumed after 2 kills of 40", cr.Reconnects)
	}
	if cr.ConversationsVerified != 40 || cr.EventsVerified <= 0 {
		t.Errorf("verified %d conversations, %d events", cr.ConversationsVerified, cr.EventsVerified)
	}
	// Every ack the tool received and every reply the server accepted was
	// checked, and there were some of each.
	if acked := rep.Load.Acked + rep.Load.AckedInDrain; cr.AckedVerified != acked || acked <= 0 {
		t.Errorf("%d acknowledged shopper messages verified of %d", cr.AckedVerified, acked)
	}
	if cr.AgentRepliesVerified != rep.Load.AgentReplies || cr.AgentRepliesVerified <= 0 {
		t.Errorf("%d agent replies verified of %d", cr.AgentRepliesVerified, rep.Load.AgentReplies)
	}
	if cr.IdempotencyProbes <= 0 {
		t.Errorf("no acknowledged message sent again after a restart")
	}
	if rep.Violations != 0 || !rep.OK {
		t.Errorf("violations %d: %v %v", rep.Violations, rep.Errors, rep.Examples)
	}
	if rep.Server.CPUSeconds != 0 || !strings.Contains(cr.ServerCPU, "not measured") {
		t.Errorf("server CPU %v across restarts: %q", rep.Server.CPUSeconds, cr.ServerCPU)
	}
	// The resume storm still runs, against the last server.
	if rep.Resume.Resumed != 40 {
		t.Errorf("resume: %+v", rep.Resume)
	}
}

// TestBenchChaosFlags: --kills restarts the server, so it needs one the
// tool spawned, and time for the server to serve between kills.
func TestBenchChaosFlags(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"--kills", "1", "--addr", "127.0.0.1:1", "--secret", "s", "--admin-token", "t"},
		{"--kills", "-1"},
		{"--kills", "5", "--duration", "3s"},
		{"--kills", "100000", "--duration", "2h"},
	} {
		if _, err := parseBench(args, env, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if c, err := parseBench([]string{"--kills", "2", "--duration", "6s"}, env, io.Discard); err != nil || c.Kills != 2 {
		t.Errorf("--kills 2 --duration 6s: %+v %v", c, err)
	}
	var errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--kills", "3", "--addr", "127.0.0.1:1", "--secret", "s", "--admin-token", "t"}, io.Discard, &errb)
	if code != 1 || !strings.Contains(errb.String(), "--kills") || !strings.Contains(errb.String(), "--addr") {
		t.Errorf("--kills with --addr: exit %d: %s", code, errb.String())
	}
}
