package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errUsage reports a command line that flag already explained.
var errUsage = errors.New("usage")

// serveConfig is the command line of `parley serve`.
type serveConfig struct {
	Addr           string
	Data           string
	TLS            tlsOptions // tls.go
	IdentitySecret string
	AdminToken     string
	AllowedOrigins []string
	MetricsAddr    string
	LogLevel       slog.Level
	MaxFrameBytes  int64
	Demo           bool
	ShutdownWait   time.Duration
	PprofAddr      string
	WSRate         float64
	WSBurst        int
	PassivateAfter time.Duration
	MaxConns       int
	PrevSecret     string
	PrevGrace      time.Duration
	HeaderTimeout  time.Duration
	ConnRate       float64
	ConnBurst      int
	TrustedProxies []netip.Prefix
	APIRate        float64
	APIBurst       int
	ReplayBudget   int
	MaxUpload      int
	PublicURL      string
	WebhookPrivate bool
	WALSync        time.Duration
}

// maxWALSync bounds --wal-sync-interval: every acknowledgement may wait
// that long for its fsync.
const maxWALSync = 10 * time.Millisecond

// parseServe reads flags, then PARLEY_<NAME> for every flag not given:
// an explicit flag wins over the environment, which wins over the default.
func parseServe(args []string, env func(string) string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	var origins, level, replay, maxUpload, proxies string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	checkTLS := addTLSFlags(fs, &c.TLS)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.Data, "data", "./data", "data directory; created if missing")
	fs.StringVar(&c.IdentitySecret, "identity-secret", "", "store secret for identity tokens (generated and kept in the data directory when empty)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "bootstrap admin bearer token (generated and kept when empty)")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated origins allowed to open /ws")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics only on this separate address")
	fs.StringVar(&level, "log-level", "info", "log level: debug, info, warn or error")
	fs.Int64Var(&c.MaxFrameBytes, "max-frame-bytes", 65536, "largest WebSocket frame; larger ones close with 1009")
	fs.BoolVar(&c.Demo, "demo", false, "serve the demo store page and mint demo shopper tokens (default: on when no identity secret is given and --addr is loopback only)")
	fs.DurationVar(&c.ShutdownWait, "shutdown-timeout", 15*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "serve net/http/pprof on this separate address (off when empty; keep it on loopback)")
	fs.Float64Var(&c.WSRate, "ws-rate", 10, "messages per second a shopper socket may send, sustained (frames of every kind: five times that)")
	fs.IntVar(&c.WSBurst, "ws-burst", 20, "messages a shopper socket may send in a burst (frames of every kind: five times that)")
	fs.DurationVar(&c.PassivateAfter, "passivate-after", 2*time.Minute, "stop a conversation actor idle this long; it comes back from storage on demand")
	fs.StringVar(&c.PrevSecret, "identity-secret-previous", "", "the identity secret being rotated out: its tokens still work for --identity-secret-grace")
	fs.DurationVar(&c.PrevGrace, "identity-secret-grace", 24*time.Hour, "how long after start tokens signed with --identity-secret-previous are accepted")
	fs.DurationVar(&c.HeaderTimeout, "read-header-timeout", 5*time.Second, "a client must send its request headers within this (cuts off header dribbling)")
	fs.IntVar(&c.MaxConns, "max-connections", 0, "most shopper sockets open at once; more get 503 (default: the open-file limit less 512)")
	fs.Float64Var(&c.ConnRate, "ws-conn-rate", 20, "socket upgrades per second one client address may make (0: no limit)")
	fs.IntVar(&c.ConnBurst, "ws-conn-burst", 100, "socket upgrades one client address may make in a burst")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated addresses or CIDR ranges of reverse proxies whose Forwarded/X-Forwarded-* headers are believed")
	fs.Float64Var(&c.APIRate, "api-rate", 50, "API requests per second per bearer token (0: no limit)")
	fs.IntVar(&c.APIBurst, "api-burst", 100, "API requests per bearer token in a burst")
	fs.StringVar(&replay, "replay-budget", "64MiB", "bytes of replayed events all sockets may hold at once while resuming (KiB, MiB, GiB or bytes)")
	fs.StringVar(&maxUpload, "max-upload-bytes", "10MiB", "largest image POST /api/v1/uploads takes, at most 64MiB (KiB, MiB or bytes)")
	fs.StringVar(&c.PublicURL, "public-url", "", "the http(s) address people reach Parley at, such as https://chat.example.com (default: each request's own)")
	fs.BoolVar(&c.WebhookPrivate, "webhook-allow-private", false, "let webhook URLs point at loopback, link-local and private addresses")
	fs.DurationVar(&c.WALSync, "wal-sync-interval", time.Millisecond, "shortest time between two fsyncs of the write-ahead log: writes meanwhile wait and share the next (0: each fsync starts when the last ends; at most 10ms)")
	if err := parseWithEnv(fs, args, env); err != nil {
		return c, err
	}
	if err := checkTLS(); err != nil {
		return c, err
	}
	if !isSet(fs, env, "demo") {
		// Minting shopper tokens for anyone is for a machine of one's own:
		// a server reachable from other hosts does it only when told to.
		c.Demo = c.IdentitySecret == "" && loopbackOnly(c.Addr)
	}
	var err error
	if c.ReplayBudget, err = parseBytes(replay); err != nil || c.ReplayBudget < 64<<10 {
		return c, fmt.Errorf("--replay-budget %q: want a size of at least 64KiB, such as 64MiB", replay)
	}
	if c.MaxUpload, err = parseBytes(maxUpload); err != nil || c.MaxUpload < 1<<10 || c.MaxUpload > maxUploadBytes {
		return c, fmt.Errorf("--max-upload-bytes %q: want a size from 1KiB to 64MiB, such as 10MiB", maxUpload)
	}
	if c.PublicURL, err = parsePublicURL(c.PublicURL); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = parseTrustedProxies(proxies); err != nil {
		return c, err
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("--log-level: %w", err)
	}
	if c.WSRate <= 0 || c.WSBurst < 1 {
		return c, errors.New("--ws-rate must be positive and --ws-burst at least 1")
	}
	if c.ConnRate < 0 || c.APIRate < 0 || c.MaxConns < 0 {
		return c, errors.New("--ws-conn-rate, --api-rate and --max-connections must not be negative")
	}
	if c.MaxConns == 0 {
		c.MaxConns = defaultMaxConns()
	}
	if c.HeaderTimeout <= 0 {
		return c, errors.New("--read-header-timeout must be positive")
	}
	if c.PassivateAfter <= 0 {
		return c, errors.New("--passivate-after must be positive")
	}
	if c.WALSync < 0 || c.WALSync > maxWALSync {
		return c, fmt.Errorf("--wal-sync-interval %v: want 0 to %v, such as 1ms", c.WALSync, maxWALSync)
	}
	if c.MaxFrameBytes < 256 {
		return c, errors.New("--max-frame-bytes must be at least 256")
	}
	return c, nil
}

// parseWithEnv parses args, then sets each flag that was not given from
// its PARLEY_<NAME> variable.
func parseWithEnv(fs *flag.FlagSet, args []string, env func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v := env(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

func isSet(fs *flag.FlagSet, env func(string) string, name string) bool {
	set := env(envName(name)) != ""
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func envName(flagName string) string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// loopbackOnly reports whether addr listens on loopback alone: 127.0.0.0/8,
// ::1 or localhost. An empty host, 0.0.0.0 or :: listen on every interface.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// parseBytes reads a size: a whole number of bytes, or of KiB, MiB or GiB.
func parseBytes(s string) (int, error) {
	num, unit := strings.TrimSpace(s), 1
	for suffix, n := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(num, suffix); ok {
			num, unit = strings.TrimSpace(v), n
		}
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 0 || v > (1<<40)/unit {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	return v * unit, nil
}

// maxUploadBytes bounds --max-upload-bytes: an upload is held in memory
// while it is checked, and written to the store in one batch.
const maxUploadBytes = 64 << 20

// parsePublicURL checks --public-url, the one place it is validated: an
// absolute http or https URL of a host, with an optional path prefix and no
// credentials, query or fragment. It returns it without a trailing slash.
func parsePublicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("--public-url %q: want an http(s) URL such as https://chat.example.com", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// osEnv is os.Getenv, a variable so that tests can replace it.
var osEnv = os.Getenv

// defaultMaxConns leaves 512 descriptors of the process's open-file limit for
// storage, the API and the listeners; the rest may be shopper sockets.
func defaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<20 {
		return 100_000
	}
	return max(64, int(lim.Cur)-512)
}
