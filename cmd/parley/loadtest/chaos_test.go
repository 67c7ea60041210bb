package loadtest

import (
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
	rep, out := benchRunJSON(t, 3*time.Minute, Config{Shoppers: 40, Agents: 2, Duration: 6 * time.Second,
		Kills: 2, Rate: 200, AgentRate: 50})
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
