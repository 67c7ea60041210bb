package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// godebugOf reads a running process's GODEBUG from /proc.
func godebugOf(t *testing.T, pid int) string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, kv := range strings.Split(string(raw), "\x00") {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			return v
		}
	}
	return ""
}

// uptime is how long this machine has been up.
func uptime(t *testing.T) time.Duration {
	raw, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(raw))[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(secs * float64(time.Second))
}

// TestServeKeepsTheMonitorAwake: `parley serve` runs with the runtime's
// monitor kept out of deep sleep (its CPU at moderate load,
// docs/performance.md), in the same process the operator started, keeping
// the operator's other GODEBUG settings; an operator's own schedtrace is
// left as it is.
func TestServeKeepsTheMonitorAwake(t *testing.T) {
	bin := crashBuild(t)
	t.Setenv("GODEBUG", "madvdontneed=1")
	c := startChild(t, bin, "--data", t.TempDir())
	if got, want := godebugOf(t, c.cmd.Process.Pid), "madvdontneed=1,"+awakeMonitor; got != want {
		t.Errorf("GODEBUG of the serving process = %q, want %q", got, want)
	}
	c.stop(t)
	// The runtime's clock for the trace starts at boot: a machine up for
	// longer than the period prints one line when the process starts.
	if strings.Contains(c.logs.String(), "SCHED ") && uptime(t) < 2147483647*time.Millisecond {
		t.Errorf("a scheduler trace was printed:\n%s", c.logs.String())
	}

	t.Setenv("GODEBUG", "schedtrace=0")
	c = startChild(t, bin, "--data", t.TempDir())
	if got := godebugOf(t, c.cmd.Process.Pid); got != "schedtrace=0" {
		t.Errorf("GODEBUG with the operator's schedtrace = %q, want it unchanged", got)
	}
	c.stop(t)
}

func TestAwakeEnv(t *testing.T) {
	for _, tc := range []struct {
		args, environ []string
		want          []string // nil: no exec
	}{
		{nil, []string{"HOME=/h"}, []string{"GODEBUG=" + awakeMonitor, "HOME=/h"}},
		{[]string{"--addr", ":1"}, nil, []string{"GODEBUG=" + awakeMonitor}},
		{[]string{"serve"}, []string{"GODEBUG=", "A=1"}, []string{"GODEBUG=" + awakeMonitor, "A=1"}},
		{[]string{"bench"}, []string{"GODEBUG=gctrace=1", "GODEBUG=x=2"}, []string{"GODEBUG=gctrace=1," + awakeMonitor}},
		{[]string{"serve"}, []string{"GODEBUG=schedtrace=0"}, nil},
		{[]string{"serve"}, []string{"GODEBUG=gctrace=1,schedtrace=1000"}, nil},
		{[]string{"token", "--sub", "x"}, nil, nil},
		{[]string{"version"}, nil, nil},
		{[]string{"backup"}, nil, nil},
		{[]string{"help"}, nil, nil},
	} {
		got, ok := awakeEnv(tc.args, tc.environ)
		if ok != (tc.want != nil) || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("awakeEnv(%q, %q) = %q, %v; want %q", tc.args, tc.environ, got, ok, tc.want)
		}
	}
}
