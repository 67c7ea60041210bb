package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/parley-chat/parley/cmd/parley/loadtest"
)

// benchFlags is the command line of `parley bench`: the load tool's Config
// and how to print its report.
type benchFlags struct {
	cfg        loadtest.Config
	json       bool
	quiet      bool
	cpuProfile string // write the tool's own CPU profile here
}

func parseBench(args []string, env func(string) string, stderr io.Writer) (benchFlags, error) {
	var b benchFlags
	c := &b.cfg
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "", "address of a running server on loopback (empty: spawn one)")
	fs.StringVar(&c.ServerBin, "server-bin", "", "parley executable to spawn (default: this one)")
	fs.StringVar(&c.Secret, "secret", "", "identity secret of the server given by --addr")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin token of the server given by --addr")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "pid of the server given by --addr, to read its memory and CPU from /proc")
	fs.IntVar(&c.Shoppers, "shoppers", loadtest.DefaultShoppers, "shopper sockets")
	fs.IntVar(&c.Agents, "agents", loadtest.DefaultAgents, "agents replying through the API")
	fs.DurationVar(&c.Duration, "duration", loadtest.DefaultDuration, "length of the load phase")
	fs.Float64Var(&c.Rate, "rate", 0, "shopper messages per second in all (0: each shopper keeps one message in flight)")
	fs.Float64Var(&c.AgentRate, "agent-rate", 0, "agent replies per second in all (0: each agent keeps one reply in flight)")
	fs.IntVar(&c.DialConcurrency, "dial-concurrency", loadtest.DefaultDialConcurrency, "sockets being opened at once")
	fs.BoolVar(&c.PlainDial, "plain-dial", false, "open sockets as a plain client does (net/http's default client), not with the tool's direct upgrade")
	fs.BoolVar(&b.json, "json", false, "print the report as one JSON object on stdout")
	fs.BoolVar(&b.quiet, "quiet", false, "no progress lines on stderr")
	fs.Uint64Var(&c.Seed, "seed", 0, "random seed (0: random)")
	fs.DurationVar(&c.SampleEvery, "sample-every", 0, "during the load, sample the server's memory and goroutines this often (a soak)")
	fs.DurationVar(&c.PassivateAfter, "passivate-after", 0, "--passivate-after for the spawned server (0: its default)")
	fs.BoolVar(&c.AI, "ai", false, "turn the server's AI agent on before the chats start: shoppers ask the sample FAQs' questions and wait for the AI's answers")
	fs.IntVar(&c.Kills, "kills", 0, "SIGKILL the spawned server this many times during the load, restart it, and verify every acknowledged message (0: none)")
	fs.StringVar(&b.cpuProfile, "cpu-profile", "", "write the tool's own CPU profile (pprof) to this file")
	if err := parseWithEnv(fs, args, env); err != nil {
		return b, err
	}
	// A zero in the Config means its default; on the command line it is a
	// mistake (Validate refuses it before the defaults are filled in),
	// except --agents 0, which is none.
	switch {
	case c.Agents < 0:
		return b, fmt.Errorf("--agents must be 0..%d", loadtest.MaxAgents)
	case c.Agents == 0:
		c.Agents = loadtest.NoAgents
	}
	if err := c.Validate(); err != nil {
		return b, err
	}
	c.EnsureDefaults()
	return b, nil
}

// benchCmd is `parley bench`.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b, err := parseBench(args, osEnv, stderr)
	if err != nil {
		return err
	}
	if b.cpuProfile != "" {
		f, err := os.Create(b.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	progress := stderr
	if b.quiet {
		progress = nil
	}
	rep, err := loadtest.Run(ctx, b.cfg, progress)
	if !rep.Finished() {
		return err
	}
	if b.json {
		if err := rep.WriteJSON(stdout); err != nil {
			return err
		}
	} else {
		rep.WriteTable(stdout)
	}
	if !rep.OK {
		return fmt.Errorf("%d errors other than rate limits: %s", rep.Violations, rep.ErrorSummary())
	}
	return err // stopping the server failed after the run
}
