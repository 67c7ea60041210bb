package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley/loadtest"
)

// The load tool itself is tested in its package; these are tests of the
// command: its flags, its variables, and what it prints.

// `parley bench --json` prints the report as one JSON object with the field
// names scripts read, and --cpu-profile writes the tool's own profile.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	bin := crashBuild(t)
	profile := filepath.Join(t.TempDir(), "tool.pprof")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"bench", "--server-bin", bin, "--json", "--quiet", "--shoppers", "10", "--agents", "1",
		"--duration", "1s", "--cpu-profile", profile}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("--quiet, yet stderr says %s", errb.String())
	}
	for _, key := range []string{`"shoppers"`, `"acked_per_second"`, `"send_ack"`, `"p999_ms"`, `"agent_reply_to_shopper"`,
		`"rss_per_conn_kb"`, `"heap_stack_per_conn_kb"`, `"cpu_seconds_per_1000_msgs"`, `"machine"`, `"errors"`,
		`"stalls"`, `"wakeups"`, `"stalled_ms"`, `"worst_ms"`, `"server_ack"`, `"server_commit"`, `"wal_fsync"`, `"ok": true`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("report lacks %s", key)
		}
	}
	var rep loadtest.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not one JSON object: %v\n%s", err, out.String())
	}
	if rep.Shoppers != 10 || rep.Agents != 1 || rep.Connect.Connected != 10 || rep.Load.Acked == 0 || !rep.OK {
		t.Errorf("report %+v", rep)
	}
	// --cpu-profile: the tool's own profile, a complete gzip'd pprof file.
	if f, err := os.Open(profile); err != nil {
		t.Errorf("--cpu-profile: %v", err)
	} else {
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err == nil {
			var n int64
			n, err = io.Copy(io.Discard, zr)
			if err == nil && n < 100 {
				err = fmt.Errorf("only %d bytes", n)
			}
		}
		if err != nil {
			t.Errorf("--cpu-profile wrote no complete profile: %v", err)
		}
	}
}

func TestBenchRefusesRemoteTargets(t *testing.T) {
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--addr", "192.0.2.1:80", "--secret", "s", "--admin-token", "t"}, io.Discard, &errb); code != 1 || !strings.Contains(errb.String(), "not loopback") {
		t.Errorf("remote --addr: exit %d: %s", code, errb.String())
	}
}

func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "127.0.0.1:1"},         // no secret or admin token
		{"--secret", "s"},                 // secret without --addr
		{"--shoppers", "0"},               // nothing to do
		{"--duration", "0s"},              // no load
		{"--rate", "-1"},                  // negative
		{"--dial-concurrency", "0"},       // no dialer
		{"--duration", "24h"},             // unbounded
		{"--shoppers", "1000000"},         // beyond any limit
		{"--agents", "-1", "--json=true"}, // negative
	} {
		if _, err := parseBench(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	b, err := parseBench(nil, func(string) string { return "" }, io.Discard)
	c := b.cfg
	if err != nil || c.Shoppers != 1000 || c.Agents != 4 || c.Duration != 10*time.Second || c.DialConcurrency != 200 || c.Seed == 0 {
		t.Errorf("defaults %+v %v", c, err)
	}
	if b, err := parseBench([]string{"--ai"}, func(string) string { return "" }, io.Discard); err != nil || !b.cfg.AI {
		t.Errorf("--ai: %+v %v", b.cfg, err)
	}
	// --agents 0 is none, not the default; PARLEY_ variables stand in for flags.
	env := map[string]string{"PARLEY_AGENTS": "0", "PARLEY_SHOPPERS": "7", "PARLEY_JSON": "true"}
	b, err = parseBench(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || b.cfg.Agents != loadtest.NoAgents || b.cfg.Shoppers != 7 || !b.json {
		t.Errorf("from the environment: %+v %v", b, err)
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
		{"--kills", "1", "--duration", "5s", "--ai"}, // the crash check knows no AI answers
	} {
		if _, err := parseBench(args, env, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if b, err := parseBench([]string{"--kills", "2", "--duration", "6s"}, env, io.Discard); err != nil || b.cfg.Kills != 2 {
		t.Errorf("--kills 2 --duration 6s: %+v %v", b, err)
	}
	var errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--kills", "3", "--addr", "127.0.0.1:1", "--secret", "s", "--admin-token", "t"}, io.Discard, &errb)
	if code != 1 || !strings.Contains(errb.String(), "--kills") || !strings.Contains(errb.String(), "--addr") {
		t.Errorf("--kills with --addr: exit %d: %s", code, errb.String())
	}
}
