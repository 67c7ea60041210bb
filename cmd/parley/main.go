// Command parley runs Parley, the realtime customer-support chat engine.
//
//	parley serve [flags]     start the server (the default command)
//	parley token [flags]     print a shopper identity token
//	parley bench [flags]     load a local server and report latencies and costs
//	parley backup [flags]    ask a running server for a checkpoint
//	parley version           print the version, revision and Go version (also --version)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	keepMonitorAwake(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  parley serve [--addr 127.0.0.1:8080] [--data ./data] [--identity-secret S] [--admin-token T]
               [--allowed-origins a,b] [--metrics-addr ADDR] [--log-level info]
               [--max-frame-bytes 65536] [--demo] [--pprof-addr ADDR]
               [--ws-rate 10] [--ws-burst 20] [--passivate-after 2m] [--max-connections N]
               [--ws-conn-rate 20] [--ws-conn-burst 100] [--api-rate 50] [--api-burst 100]
               [--identity-secret-previous S] [--identity-secret-grace 24h] [--read-header-timeout 5s]
               [--shutdown-timeout 15s] [--replay-budget 64MiB] [--wal-sync-interval 1ms]
               [--tls-cert F --tls-key F | --acme-domain d1,d2 [--acme-email E]]
  parley token (--secret S | --data DIR) --sub ID [--name N] [--email E] [--ttl 1h]
  parley bench [--shoppers 1000] [--agents 4] [--duration 10s] [--rate 0] [--agent-rate 0]
               [--addr 127.0.0.1:PORT --secret S --admin-token T [--server-pid PID]]
               [--server-bin PATH] [--dial-concurrency 200] [--json] [--quiet] [--seed N]
               [--sample-every 1m] [--passivate-after D] [--kills N] [--cpu-profile FILE]
  parley backup --addr 127.0.0.1:8080 --admin-token T --to DIR   (DIR must not exist yet)
  parley version                         (or parley --version)
Every serve flag also reads PARLEY_<NAME> from the environment (a flag wins).
`

// command splits a command line (without the program) into its command
// and that command's arguments: serve when the line is empty or starts with
// a flag, version for --version alone.
func command(args []string) (string, []string) {
	switch {
	case len(args) == 1 && args[0] == "--version":
		return "version", nil
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		return args[0], args[1:]
	}
	return "serve", args
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, args := command(args)
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr)
	case "token":
		err = mintToken(args, stdout, stderr)
	case "bench":
		err = benchCmd(ctx, args, stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args, stdout, stderr)
	case "version":
		if len(args) > 0 {
			fmt.Fprintf(stderr, "parley version: takes no arguments\n")
			return 2
		}
		versionCmd(stdout)
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "parley %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
