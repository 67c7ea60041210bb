package loadtest

// The end of a --kills run: the verification of every conversation against
// what the tool was told while the server was killed and restarted, and the
// report's chaos section.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ChaosReport is the report's chaos section; its JSON names are stable.
type ChaosReport struct {
	Kills                 int       `json:"kills"`
	Restarts              int       `json:"restarts"`
	KillAtSeconds         []float64 `json:"kill_at_seconds"`        // into the load
	DowntimeSeconds       float64   `json:"downtime_seconds"`       // SIGKILL → /readyz 200, summed over the kills
	MeanDowntimeSeconds   float64   `json:"mean_downtime_seconds"`  // the same, per kill
	MeanReadySeconds      float64   `json:"mean_ready_seconds"`     // restart → /readyz 200
	MaxReadySeconds       float64   `json:"max_ready_seconds"`      // the slowest restart
	Reconnects            int64     `json:"reconnects"`             // shopper sockets resumed after a kill
	Resent                int64     `json:"resent"`                 // messages re-sent under their client_id after a resume
	AgentRetries          int64     `json:"agent_retries"`          // agent POSTs retried after a transport error or a 5xx
	Agent5xx              int64     `json:"agent_5xx"`              // of which answered 5xx by a server that was up
	IdempotencyProbes     int64     `json:"idempotency_probes"`     // acknowledged messages and replies sent again after a restart, answered with their first seq
	ConversationsVerified int       `json:"conversations_verified"` // logs read back and checked
	EventsVerified        int64     `json:"events_verified"`        // events in those logs
	AckedVerified         int64     `json:"acked_verified"`         // acknowledged shopper messages found once at their seq
	AgentRepliesVerified  int64     `json:"agent_replies_verified"` // accepted agent replies found once at their seq
	VerifySeconds         float64   `json:"verify_seconds"`         // the verification's wall time
	ServerPIDs            []int     `json:"server_pids,omitempty"`  // the first process and each restart's
	ServerCPU             string    `json:"server_cpu"`             // why server.cpu_* are zero
}

// benchTicketLog is the part of GET /api/v1/tickets/{id} the verification reads.
type benchTicketLog struct {
	Events []struct {
		Seq   uint64 `json:"seq"`
		Event struct {
			Kind     string `json:"kind"`
			From     string `json:"from"`
			ClientID string `json:"client_id"`
		} `json:"event"`
	} `json:"events"`
}

// benchChaosTally is what the verification found in order.
type benchChaosTally struct {
	convs, events, acked, replies atomic.Int64
}

// verify reads back every shopper's conversation after the drain and holds
// it against what the tool was told: a log of seq 1..N, each acknowledged
// shopper message and each accepted agent reply once at its seq, no client_id
// stored twice, nothing the tool never sent, and a socket that has seen
// exactly 1..N.
func (ch *benchChaos) verify(ctx context.Context) error {
	r := ch.r
	r.phase.Store("verify")
	start := time.Now()
	ch.mu.Lock()
	byConv := map[string]map[string]uint64{}
	for cid, rep := range ch.replies {
		if byConv[rep.conv] == nil {
			byConv[rep.conv] = map[string]uint64{}
		}
		byConv[rep.conv][cid] = rep.seq
	}
	tried := maps.Clone(ch.tried)
	ch.mu.Unlock()

	live := r.live()
	var t benchChaosTally
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(benchChaosVerifyConc, len(live)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(live)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				ch.verifyOne(ctx, live[i], byConv, tried, &t)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	ch.fillReport(&t, time.Since(start))
	cr := r.rep.Chaos
	r.logf("chaos: %d kills, %d restarts; verified %d conversations (%d events): %d acknowledged shopper messages, %d agent replies, in %v",
		cr.Kills, cr.Restarts, cr.ConversationsVerified, cr.EventsVerified, cr.AckedVerified, cr.AgentRepliesVerified, time.Since(start).Round(time.Millisecond))
	return nil
}

// verifyOne checks one shopper's conversation; each violation is an error
// of its own kind.
func (ch *benchChaos) verifyOne(ctx context.Context, sh *benchShopper, replies map[string]map[string]uint64, tried map[string]string, t *benchChaosTally) {
	r := ch.r
	sh.mu.Lock()
	conv, acks, msgN := sh.conv, maps.Clone(sh.acks), sh.msgN
	sh.mu.Unlock()
	fail := func(kind, format string, args ...any) {
		r.errs.add(kind, fmt.Sprintf("shopper %d, conversation %s: ", sh.idx, conv)+fmt.Sprintf(format, args...))
	}
	status, raw, err := r.apiDo(ctx, "GET", "/api/v1/tickets/"+conv, r.admin, nil)
	if err != nil {
		if ctx.Err() == nil {
			fail("verify_failed", "GET ticket: %v", err)
		}
		return
	}
	if status == http.StatusNotFound && len(acks) == 0 && len(replies[conv]) == 0 {
		return // nothing acknowledged: not a ticket yet, nothing promised
	}
	var log benchTicketLog
	if status != http.StatusOK || json.Unmarshal(raw, &log) != nil {
		fail("verify_failed", "GET ticket: %d %s", status, benchTrim(string(raw), 200))
		return
	}
	n := uint64(len(log.Events))
	stored := benchStoredMessages(log, conv, msgN, tried, fail)
	t.convs.Add(1)
	t.events.Add(int64(n))
	for _, cid := range slices.Sorted(maps.Keys(acks)) {
		switch got, ok := stored["shopper/"+cid]; {
		case !ok:
			fail("verify_lost_ack", "message %s, acknowledged as seq %d, is not in the log of %d events", cid, acks[cid], n)
		case got != acks[cid]:
			fail("verify_wrong_seq", "message %s, acknowledged as seq %d, is at seq %d", cid, acks[cid], got)
		default:
			t.acked.Add(1)
		}
	}
	for _, cid := range slices.Sorted(maps.Keys(replies[conv])) {
		want := replies[conv][cid]
		switch got, ok := stored["agent/"+cid]; {
		case !ok:
			fail("verify_lost_reply", "agent reply %s, accepted as seq %d, is not in the log of %d events", cid, want, n)
		case got != want:
			fail("verify_wrong_seq", "agent reply %s, accepted as seq %d, is at seq %d", cid, want, got)
		default:
			t.replies.Add(1)
		}
	}
	// The live socket has seen the whole log, in order (its reader checked
	// the order), and nothing beyond it.
	_ = sh.await(ctx, benchChaosCatchUp, func() bool { return sh.lastSeq >= n && len(sh.probes) == 0 })
	sh.mu.Lock()
	seen, probes := sh.lastSeq, slices.Sorted(maps.Keys(sh.probes))
	sh.mu.Unlock()
	if seen != n {
		fail("verify_socket_mismatch", "the socket has seen events 1..%d, the log has %d", seen, n)
	}
	if len(probes) > 0 {
		fail("resend_unanswered", "%v, acknowledged and sent again after a restart, got no answer", probes)
	}
}

// benchStoredMessages checks that conv's log runs 1..N, with no message stored
// twice and none the tool never sent, and returns where each message is:
// "from/client_id" → seq.
func benchStoredMessages(log benchTicketLog, conv string, msgN int, tried map[string]string, fail func(kind, format string, args ...any)) map[string]uint64 {
	n := len(log.Events)
	stored := map[string]uint64{}
	for i, e := range log.Events {
		if e.Seq != uint64(i+1) {
			fail("verify_seq_gap", "event %d of %d has seq %d: the log is not 1..N", i+1, n, e.Seq)
		}
		cid := e.Event.ClientID
		if e.Event.Kind != "message" || cid == "" {
			continue
		}
		key := e.Event.From + "/" + cid
		if prev, dup := stored[key]; dup {
			fail("verify_duplicate", "%s message %s stored twice, at seq %d and %d", e.Event.From, cid, prev, e.Seq)
			continue
		}
		stored[key] = e.Seq
		switch e.Event.From {
		case "shopper":
			if k, err := strconv.Atoi(strings.TrimPrefix(cid, "m")); err != nil || !strings.HasPrefix(cid, "m") || k < 1 || k > msgN {
				fail("verify_unknown_message", "seq %d holds shopper message %s, which this shopper never sent", e.Seq, cid)
			}
		case "agent":
			if tried[cid] != conv {
				fail("verify_unknown_message", "seq %d holds agent reply %s, never posted to this conversation", e.Seq, cid)
			}
		}
	}
	return stored
}

func (ch *benchChaos) fillReport(t *benchChaosTally, took time.Duration) {
	cr := ch.r.rep.Chaos
	cr.Kills, cr.Restarts = len(ch.killAt), len(ch.ready)
	cr.KillAtSeconds = make([]float64, 0, len(ch.killAt))
	for _, d := range ch.killAt {
		cr.KillAtSeconds = append(cr.KillAtSeconds, benchRound(d.Seconds()))
	}
	var down, ready, maxReady time.Duration
	for i := range ch.ready {
		down += ch.down[i]
		ready += ch.ready[i]
		maxReady = max(maxReady, ch.ready[i])
	}
	cr.DowntimeSeconds, cr.MaxReadySeconds = benchRound(down.Seconds()), benchRound(maxReady.Seconds())
	if n := len(ch.ready); n > 0 {
		cr.MeanDowntimeSeconds = benchRound(down.Seconds() / float64(n))
		cr.MeanReadySeconds = benchRound(ready.Seconds() / float64(n))
	}
	cr.Reconnects, cr.Resent, cr.AgentRetries = ch.reconnects.Load(), ch.resent.Load(), ch.agentRetries.Load()
	cr.IdempotencyProbes, cr.Agent5xx = ch.probes.Load(), ch.agent5xx.Load()
	cr.ConversationsVerified, cr.EventsVerified = int(t.convs.Load()), t.events.Load()
	cr.AckedVerified, cr.AgentRepliesVerified = t.acked.Load(), t.replies.Load()
	cr.VerifySeconds = benchRound(took.Seconds())
	cr.ServerCPU = fmt.Sprintf("not measured: the load ran on %d server processes", len(ch.ready)+1)
}

// writeChaos prints the chaos section of the table.
func (rep *Report) writeChaos(w io.Writer) {
	cr := rep.Chaos
	if cr == nil {
		return
	}
	fmt.Fprintf(w, "chaos: %d SIGKILLs, %d restarts on the same data and address; down %.2fs in all (%.2fs per kill, SIGKILL → ready); ready %.2fs after a restart on average (max %.2fs)\n",
		cr.Kills, cr.Restarts, cr.DowntimeSeconds, cr.MeanDowntimeSeconds, cr.MeanReadySeconds, cr.MaxReadySeconds)
	fmt.Fprintf(w, "chaos: %d sockets resumed after a kill, %d messages re-sent under their client_id, %d agent replies retried (%d after a 5xx); %d acknowledged messages and replies sent again answered with their first seq\n",
		cr.Reconnects, cr.Resent, cr.AgentRetries, cr.Agent5xx, cr.IdempotencyProbes)
	fmt.Fprintf(w, "chaos: send→ack and agent→shopper above count from the first send: a message a kill caught in flight includes the downtime\n")
	fmt.Fprintf(w, "chaos verified: %d conversations (%d events, seq 1..N each), %d acknowledged shopper messages and %d accepted agent replies each once at their seq, in %.2fs\n",
		cr.ConversationsVerified, cr.EventsVerified, cr.AckedVerified, cr.AgentRepliesVerified, cr.VerifySeconds)
}
