package main

import (
	"os"
	"strings"
	"syscall"
)

// awakeMonitor is the GODEBUG setting that keeps the Go runtime's system
// monitor (sysmon) out of its deep sleep.
//
// The runtime parks sysmon whenever every P is idle, and the first system
// call after that wakes it and sets it polling every 20 µs for the next
// millisecond. A chat server at a moderate rate goes idle between almost
// every pair of messages, so it pays that wake-up and some fifty short
// sleeps again and again: measured under `parley bench --rate 2000` on a
// 2-core virtual machine, sysmon was 12–13% of the server's CPU (5,600
// nanosleeps and 2,300 extra futex calls a second). The runtime only skips
// the deep sleep when schedtrace is set, and then sysmon backs off as it
// does while work goes on: 20 µs doubling up to 10 ms, about 100 wake-ups a
// second when the server is idle. The period is the largest schedtrace
// takes (2^31-1 ms, 24.8 days), so the trace itself is printed at most
// once in that time (a single "SCHED" line on stderr).
const awakeMonitor = "schedtrace=2147483647"

// keepMonitorAwake re-executes this process, once, with awakeMonitor added
// to GODEBUG, for the commands that run for long (serve and bench). The
// runtime reads schedtrace only when it starts, so it cannot be set later.
// When the exec fails the process simply goes on as it is.
func keepMonitorAwake(args []string) {
	env, ok := awakeEnv(args, os.Environ())
	if !ok {
		return
	}
	if exe, err := os.Executable(); err == nil {
		_ = syscall.Exec(exe, os.Args, env)
	}
}

// awakeEnv is environ with awakeMonitor added to GODEBUG, and whether args
// (a command line without the program) need it: serve and bench do, unless
// GODEBUG already sets schedtrace (an operator's own; schedtrace=0 keeps
// Go's default). The runtime reads the first GODEBUG of the environment,
// so the new one replaces it.
func awakeEnv(args, environ []string) ([]string, bool) {
	if cmd, _ := command(args); cmd != "serve" && cmd != "bench" {
		return nil, false
	}
	godebug := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug = v
			break
		}
	}
	for _, setting := range strings.Split(godebug, ",") {
		if strings.HasPrefix(strings.TrimSpace(setting), "schedtrace=") {
			return nil, false
		}
	}
	if godebug != "" {
		godebug += ","
	}
	env := []string{"GODEBUG=" + godebug + awakeMonitor}
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	return env, true
}
