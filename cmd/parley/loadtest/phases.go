package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the run's phases after the limit: connect, load, resume.

// forEach runs f for every shopper in list, at most --dial-concurrency at once.
func (r *benchRun) forEach(list []*benchShopper, f func(sh *benchShopper)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.DialConcurrency, len(list)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(list)); i = next.Add(1) - 1 {
				f(list[i])
			}
		})
	}
	wg.Wait()
}

// connectPhase opens every shopper's socket and starts its chat, then
// measures what the idle connections cost the server.
func (r *benchRun) connectPhase(ctx context.Context) error {
	c := r.cfg
	for i := range c.Shoppers {
		sh, err := newBenchShopper(r, i)
		if err != nil {
			return err
		}
		r.shoppers = append(r.shoppers, sh)
	}
	stop, watched := make(chan struct{}), make(chan struct{}) // the list is complete: watch its writes
	go func() { defer close(watched); r.watchWrites(stop) }()
	r.stopWatch = func() { close(stop); <-watched }
	before := r.sampleMem(ctx)
	r.phase.Store("connect")
	start := time.Now()
	r.forEach(r.shoppers, func(sh *benchShopper) {
		if ctx.Err() != nil {
			return
		}
		t0 := time.Now()
		if err := sh.connect(ctx, false); err != nil {
			if ctx.Err() == nil {
				kind := cmp.Or(limitRefusal(err), "connect_failed")
				r.errs.add(kind, fmt.Sprintf("shopper %d: %v", sh.idx, err))
			}
			sh.closeNow()
			return
		}
		r.connect.record(time.Since(t0))
		r.connected.Add(1)
	})
	wall := time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	n := r.connected.Load()
	rep := &r.rep.Connect
	rep.Connected, rep.WallSeconds = int(n), benchRound(wall.Seconds())
	rep.PerSecond = benchRound(float64(n) / wall.Seconds())
	rep.Latency = r.connect.latency()
	r.logf("connected %d of %d shoppers in %v", n, c.Shoppers, wall.Round(time.Millisecond))
	if n == 0 {
		return errors.New("no shopper could connect")
	}

	return r.idleCost(ctx, before, n)
}

// idleCost reports what n idle connections cost the server's memory, from
// before they were opened.
func (r *benchRun) idleCost(ctx context.Context, before benchMemSample, n int64) error {
	// Let the server settle without forcing a GC: the figure is what idle
	// connections cost in a running server, garbage included.
	r.phase.Store("idle")
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(benchIdleSettle):
	}
	after := r.sampleMem(ctx)
	s := &r.rep.Server
	if before.okRSS && after.okRSS {
		s.RSSBeforeKB, s.RSSAfterKB = before.rssKB, after.rssKB
		s.RSSPerConnKB = benchRound((float64(after.rssKB) - float64(before.rssKB)) / float64(n))
	}
	if before.ok && after.ok {
		s.HeapStackBeforeKB = benchRound((before.heap + before.stack) / 1024)
		s.HeapStackAfterKB = benchRound((after.heap + after.stack) / 1024)
		s.HeapStackPerConnKB = benchRound((after.heap + after.stack - before.heap - before.stack) / 1024 / float64(n))
	}
	return nil
}

// live lists the shoppers that are in a conversation (connect succeeded).
func (r *benchRun) live() []*benchShopper {
	var out []*benchShopper
	for _, sh := range r.shoppers {
		sh.mu.Lock()
		ok := sh.conv != ""
		sh.mu.Unlock()
		if ok {
			out = append(out, sh)
		}
	}
	return out
}

// loadPhase sends messages for --duration while the agents reply, then
// drains what is still in flight: a message sent and never acknowledged is
// a lost ack, an agent reply accepted and never delivered a lost reply.
func (r *benchRun) loadPhase(ctx context.Context) error {
	if err := r.agents.create(ctx, r.cfg.agents()); err != nil {
		return err
	}
	live := r.live()
	base := r.loadBaseline(ctx)
	run, err := r.load(ctx, live)
	if err != nil {
		return err
	}
	drain := r.drain(ctx, live)
	r.reportLoad(ctx, base, run, drain)
	return nil
}

// benchBaseline is what the load's figures are counted from.
type benchBaseline struct {
	pid   int           // the server's, whose CPU is read; 0: not read
	cpu   time.Duration // the server's CPU time
	tool  time.Duration // the tool's CPU time
	hists map[string][]benchPromBucket
}

// loadBaseline reads the server's CPU and histograms before the load. CPU
// is read from /proc of one process and the histograms from its /metrics:
// with --kills the load spans several, so neither is.
func (r *benchRun) loadBaseline(ctx context.Context) benchBaseline {
	var b benchBaseline
	if pid := r.serverPID(); pid > 0 && r.chaos == nil {
		cpu, err := benchProcCPU(pid)
		if err != nil {
			r.logf("reading the server's CPU: %v", err)
		} else {
			b.pid, b.cpu = pid, cpu
		}
	}
	b.tool = benchSelfCPU()
	if r.chaos == nil {
		var err error
		if b.hists, err = r.readServerHistograms(ctx); err != nil {
			r.logf("reading the server's ack histogram: %v", err)
		}
	}
	return b
}

// benchLoad is what the load phase counted before its drain.
type benchLoad struct {
	wall    time.Duration
	acked   int64 // acks received during the load
	replies int64 // agent replies accepted during the load
	answers int64 // with --ai: AI answers received during the load
	stalls  Stalls
}

// load runs the shoppers and the agents for --duration (and, with --kills,
// through every kill) and waits for them.
func (r *benchRun) load(ctx context.Context, live []*benchShopper) (benchLoad, error) {
	c := r.cfg
	r.phase.Store("load")
	var wg sync.WaitGroup
	var loadCtx context.Context
	var cancel context.CancelFunc
	if r.chaos != nil {
		// The load runs through the kills: it ends after --duration and
		// after the last restarted server has served a while.
		loadCtx, cancel = r.chaos.start(ctx, &wg)
	} else {
		loadCtx, cancel = context.WithTimeout(ctx, c.Duration)
	}
	defer cancel()
	stalls := startBenchStallProbe()
	defer stalls.stop()
	start := time.Now()
	rng := rand.New(rand.NewPCG(c.Seed, 0))
	for _, sh := range live {
		var interval, phase time.Duration
		if c.Rate > 0 {
			// Each shopper's share of the total rate, with a random phase so
			// that the sends spread evenly over each interval.
			interval = time.Duration(float64(len(live)) / c.Rate * float64(time.Second))
			phase = time.Duration(rng.Int64N(int64(interval) + 1))
		}
		switch {
		case r.chaos != nil:
			wg.Go(func() { r.chaos.shopper(loadCtx, sh, interval, phase) })
		case c.Rate > 0:
			wg.Go(func() { sh.openLoop(loadCtx, interval, phase) })
		default:
			wg.Go(func() { sh.closedLoop(loadCtx) })
		}
	}
	// Agents reply to conversations whose first message is acknowledged:
	// before it, a conversation is no ticket.
	r.agents.run(loadCtx, &wg)
	r.sampleDuring(loadCtx, &wg)
	<-loadCtx.Done()
	l := benchLoad{wall: time.Since(start), stalls: stalls.report(), acked: r.acked.Load(), replies: r.agents.replies.Load(),
		answers: r.ai.answers.Load()}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return l, err
	}
	if r.chaos != nil {
		if err := r.chaos.failed(); err != nil {
			return l, err
		}
	}
	return l, nil
}

// drain waits, up to benchDrainTimeout, for the acks and agent replies
// still on their way after the load: a message sent and never acknowledged
// is a lost ack, an agent reply accepted and never delivered a lost reply.
// With --ai it waits up to benchAIDrainTimeout for the answers owed, and a
// question neither answered nor handed off by then is unanswered.
func (r *benchRun) drain(ctx context.Context, live []*benchShopper) time.Duration {
	r.phase.Store("drain")
	start := time.Now()
	deadline, aiDeadline := time.Now().Add(benchDrainTimeout), time.Now().Add(benchAIDrainTimeout)
	pending := func() (n int) {
		for _, sh := range live {
			n += sh.outstanding()
		}
		return n
	}
	unanswered := func() (n int) {
		for _, sh := range live {
			if sh.unanswered() {
				n++
			}
		}
		return n
	}
	for ctx.Err() == nil {
		now := time.Now()
		if !((pending() > 0 || r.agents.undelivered() > 0) && now.Before(deadline)) &&
			!(r.cfg.AI && unanswered() > 0 && now.Before(aiDeadline)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	if n := unanswered(); n > 0 {
		r.errs.add("ai_unanswered", fmt.Sprintf("%d questions neither answered nor handed off %v after the load", n, benchAIDrainTimeout))
		r.errs.mu.Lock()
		r.errs.counts["ai_unanswered"] += int64(n) - 1
		r.errs.mu.Unlock()
	}
	if n := pending(); n > 0 {
		r.errs.add("lost_ack", fmt.Sprintf("%d messages sent and not acknowledged %v after the load", n, benchDrainTimeout))
		r.errs.mu.Lock()
		r.errs.counts["lost_ack"] += int64(n) - 1
		r.errs.mu.Unlock()
	}
	if n := r.agents.undelivered(); n > 0 {
		r.errs.add("agent_reply_lost", fmt.Sprintf("%d agent replies accepted (201) and not delivered to the shopper's socket %v after the load", n, benchDrainTimeout))
		r.errs.mu.Lock()
		r.errs.counts["agent_reply_lost"] += int64(n) - 1
		r.errs.mu.Unlock()
	}
	return took
}

// reportLoad fills in the report's load section and the CPU figures.
func (r *benchRun) reportLoad(ctx context.Context, base benchBaseline, run benchLoad, drain time.Duration) {
	total := r.acked.Load()
	l := &r.rep.Load
	var hist0, hist1 map[string][]benchPromBucket
	if base.hists != nil {
		if h, err := r.readServerHistograms(ctx); err == nil {
			hist0, hist1 = base.hists, h
			l.ServerAck = benchHistogramBetween(hist0[benchServerAckMetric], hist1[benchServerAckMetric])
			l.ServerCommit = benchHistogramBetween(hist0[benchCommitMetric], hist1[benchCommitMetric])
			l.WALFsync = benchHistogramBetween(hist0[benchFsyncMetric], hist1[benchFsyncMetric])
			l.ServerSched = benchHistogramBetween(hist0[benchSchedMetric], hist1[benchSchedMetric])
		}
	}
	l.DurationSeconds = benchRound(run.wall.Seconds())
	l.Sent, l.Acked, l.AckedInDrain = r.sent.Load(), run.acked, total-run.acked
	l.AckedPerSecond = benchRound(float64(run.acked) / run.wall.Seconds())
	l.DrainSeconds = benchRound(drain.Seconds())
	l.SendAck = r.sendAck.latency()
	l.AgentReplies = r.agents.replies.Load()
	l.AgentRepliesPerSec = benchRound(float64(run.replies) / run.wall.Seconds())
	l.AgentRepliesReceived = r.agents.received.Load()
	l.AgentReplyToShopper = r.agents.lat.latency()
	l.Stalls = run.stalls
	var answers int64
	if r.cfg.AI {
		answers = r.ai.answers.Load()
		r.rep.AI = r.aiReport(run, hist0, hist1)
	}
	r.rep.Tool.CPUSeconds = benchRound((benchSelfCPU() - base.tool).Seconds())
	if total > 0 {
		r.rep.Tool.CPUSecondsPer1000Msgs = benchRound(r.rep.Tool.CPUSeconds / float64(total) * 1000)
	}
	if base.pid > 0 {
		if cpu1, err := benchProcCPU(base.pid); err == nil && total > 0 {
			cpu := (cpu1 - base.cpu).Seconds()
			r.rep.Server.CPUSeconds = benchRound(cpu)
			r.rep.Server.CPUSecondsPer1000Msgs = benchRound(cpu / float64(total) * 1000)
			r.rep.Server.CPUSecondsPer1000All = benchRound(cpu / float64(total+l.AgentReplies+answers) * 1000)
		}
	}
	r.logf("load: %d acknowledged in %v (%d more in a %v drain), %d agent replies", run.acked, run.wall.Round(time.Millisecond),
		total-run.acked, drain.Round(time.Millisecond), l.AgentReplies)
	if a := r.rep.AI; a != nil {
		r.logf("AI: %d answers (%d of them in the drain), %d handoffs", a.Answers, a.AnswersInDrain, a.Handoffs)
	}
}

// resumePhase drops every socket at once, lets the agents post replies the
// shoppers miss, then reconnects everyone at once: each shopper must get
// exactly the events after the last one it saw.
func (r *benchRun) resumePhase(ctx context.Context) error {
	live := r.live()
	r.phase.Store("resume")
	for _, sh := range live {
		sh.drop()
	}
	for _, sh := range live {
		sh.wait()
	}
	r.connected.Store(0)
	r.rep.Resume.MissedReplies = r.postMissed(ctx)

	afters := make([]uint64, len(r.shoppers))
	for _, sh := range live {
		sh.mu.Lock()
		afters[sh.idx] = sh.lastSeq
		sh.mu.Unlock()
	}
	var replayed atomic.Int64
	start := time.Now()
	r.forEach(live, func(sh *benchShopper) {
		if ctx.Err() != nil {
			return
		}
		t0 := time.Now()
		if err := sh.connect(ctx, true); err != nil {
			if ctx.Err() == nil {
				kind := cmp.Or(limitRefusal(err), "resume_failed")
				if errors.Is(err, errBenchViolation) {
					kind = "resume_violation"
				}
				r.errs.add(kind, fmt.Sprintf("shopper %d: %v", sh.idx, err))
			}
			return
		}
		r.resume.record(time.Since(t0))
		r.connected.Add(1)
		sh.mu.Lock()
		replayed.Add(int64(sh.lastSeq - afters[sh.idx]))
		sh.mu.Unlock()
	})
	wall := time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	rs := &r.rep.Resume
	rs.Shoppers, rs.Resumed, rs.ReplayedEvents = len(live), int(r.connected.Load()), replayed.Load()
	rs.WallSeconds, rs.PerSecond = benchRound(wall.Seconds()), benchRound(float64(rs.Resumed)/wall.Seconds())
	rs.Latency = r.resume.latency()
	if pid := r.serverPID(); pid > 0 {
		if v, err := benchProcRSS(pid); err == nil {
			r.rep.Server.RSSEndKB = v
		}
	}
	r.logf("resume: %d of %d sockets in %v, %d events replayed", rs.Resumed, len(live), wall.Round(time.Millisecond), rs.ReplayedEvents)
	return nil
}

// postMissed has the agents post replies to distinct random tickets while
// every socket is closed, so that the resume storm has events to replay.
func (r *benchRun) postMissed(ctx context.Context) int64 {
	a := r.agents
	if len(a.tokens) == 0 {
		return 0
	}
	a.mu.Lock()
	targets := append([]*benchShopper(nil), a.tickets...)
	a.mu.Unlock()
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 1<<32))
	rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	targets = targets[:min(len(targets), benchMissedReplies)]
	var next, posted atomic.Int64
	var wg sync.WaitGroup
	for i, tok := range a.tokens {
		wg.Go(func() {
			for k := next.Add(1) - 1; k < int64(len(targets)) && ctx.Err() == nil; k = next.Add(1) - 1 {
				if a.reply(ctx, tok, targets[k], fmt.Sprintf("a%d-%s-missed-%d", i, r.runID, k), false) {
					posted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return posted.Load()
}

// closeShoppers drops every socket and waits for the readers. It is
// idempotent.
func (r *benchRun) closeShoppers() {
	for _, sh := range r.shoppers {
		sh.drop()
	}
	for _, sh := range r.shoppers {
		sh.wait()
	}
	r.connected.Store(0)
}
