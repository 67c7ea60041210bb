package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Defaults of Config, and the bounds that keep one run finite whatever it
// asks for.
const (
	DefaultShoppers        = 1000
	DefaultAgents          = 4
	DefaultDuration        = 10 * time.Second
	DefaultDialConcurrency = 200

	// NoAgents, as Config.Agents, runs without agents.
	NoAgents = -1

	MaxShoppers = 100_000
	MaxAgents   = 1000
	MaxDuration = 2 * time.Hour
	MaxKills    = 1000
)

// Config is one run of the load tool. The zero value of each field means
// its default, as EnsureDefaults fills it in. Each field is the flag of
// `parley bench` named after it, and Validate's errors name the flags.
type Config struct {
	// Addr is the host:port of a running server to load, on loopback only:
	// the tool opens thousands of sockets as fast as it can, and aimed at
	// another machine it would be a denial-of-service tool. Empty: Run
	// spawns a server of its own on a fresh data directory, and stops it
	// and removes the directory at the end.
	Addr string
	// Secret and AdminToken are the identity secret and admin token of the
	// server at Addr; both are required with Addr, and made up for a
	// spawned server.
	Secret     string
	AdminToken string
	// ServerPID is the pid of the server at Addr, to read its memory and
	// CPU from /proc. Zero: unknown, and those figures are not measured.
	ServerPID int

	// ServerBin is the parley executable Run spawns a server from when
	// Addr is empty. Default: os.Executable(), which is right when the
	// caller is the parley binary itself and wrong in a test binary.
	ServerBin string

	// Shoppers is the number of shopper sockets, each logged in with a chat
	// of its own. Default DefaultShoppers, at most MaxShoppers.
	Shoppers int
	// Agents is the number of agents replying through the API. Default
	// DefaultAgents; NoAgents (any negative) for none; at most MaxAgents.
	Agents int
	// Duration is the length of the load phase. Default DefaultDuration,
	// at most MaxDuration.
	Duration time.Duration
	// Rate is the shopper messages per second in all. Zero: a closed loop,
	// in which each shopper keeps one message in flight.
	Rate float64
	// AgentRate is the agent replies per second in all. Zero: a closed
	// loop, in which each agent keeps one reply in flight.
	AgentRate float64
	// DialConcurrency is the number of sockets being opened at once.
	// Default DefaultDialConcurrency.
	DialConcurrency int
	// PlainDial opens sockets as a plain client does: coder/websocket's
	// upgrade through net/http's default client (a dial goroutine and a
	// persistConn per socket), instead of the tool's direct upgrade on the
	// caller's goroutine. With DialConcurrency as large as Shoppers, the
	// resume storm is every shopper reconnecting at once, as browsers of a
	// restarted server would without back-off.
	PlainDial bool
	// Seed seeds every random choice (send phases, reply targets, kill
	// times). Zero: a random seed, which the report names.
	Seed uint64
	// PassivateAfter is the spawned server's --passivate-after. Zero: its
	// default.
	PassivateAfter time.Duration
	// SampleEvery, when positive, samples the server's memory and
	// goroutines this often during the load (a soak).
	SampleEvery time.Duration
	// AI turns the server's AI agent on before the shoppers start their
	// chats (PUT /api/v1/settings with the admin token: the built-in
	// retrieval over the published FAQs, handoff to the Helpdesk,
	// min_confidence 0.6), so that every chat is the AI's. Each shopper
	// then asks questions the sample FAQs answer, one at a time: the next
	// goes once the AI's answer (or a handoff) has arrived, in the closed
	// loop at once and at a rate on the shopper's next tick (a tick that
	// finds its question unanswered is skipped and counted). Agents reply
	// only to conversations handed off to people. With Addr, the server's
	// AI settings are put back as they were at the end. It cannot be used
	// with Kills.
	AI bool
	// Kills, when positive, kills the spawned server with SIGKILL this many
	// times during the load, restarts it on the same data and address, and
	// verifies every acknowledged message afterwards. At most MaxKills; it
	// needs a spawned server and a Duration of a second per kill and one
	// more.
	Kills int
}

// EnsureDefaults fills in the default of every zero field and returns c.
func (c *Config) EnsureDefaults() *Config {
	if c.Shoppers == 0 {
		c.Shoppers = DefaultShoppers
	}
	if c.Agents == 0 {
		c.Agents = DefaultAgents
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.DialConcurrency == 0 {
		c.DialConcurrency = DefaultDialConcurrency
	}
	if c.Seed == 0 {
		c.Seed = benchRandomSeed()
	}
	return c
}

// agents is the number of agents to run.
func (c *Config) agents() int { return max(c.Agents, 0) }

// Validate checks a Config whose defaults are filled in.
func (c *Config) Validate() error {
	switch {
	case c.Shoppers < 1 || c.Shoppers > MaxShoppers:
		return fmt.Errorf("--shoppers must be 1..%d", MaxShoppers)
	case c.Agents > MaxAgents:
		return fmt.Errorf("--agents must be 0..%d", MaxAgents)
	case c.Duration <= 0 || c.Duration > MaxDuration:
		return fmt.Errorf("--duration must be positive and at most %v", MaxDuration)
	case c.Rate < 0 || c.AgentRate < 0:
		return errors.New("--rate and --agent-rate must not be negative")
	case c.DialConcurrency < 1:
		return errors.New("--dial-concurrency must be at least 1")
	case c.Addr != "" && (c.Secret == "" || c.AdminToken == ""):
		return errors.New("--addr needs --secret and --admin-token")
	case c.Addr == "" && (c.Secret != "" || c.AdminToken != "" || c.ServerPID != 0):
		return errors.New("--secret, --admin-token and --server-pid go with --addr")
	case c.AI && c.Kills != 0:
		return errors.New("--ai cannot be used with --kills: the crash check knows no AI answers")
	}
	return benchChaosCheck(*c)
}

// benchLoopback resolves addr and returns it with its host replaced by a
// loopback IP, refusing anything else. The tool is a local load generator
// that opens thousands of sockets as fast as it can: aimed at another
// machine it would be a denial-of-service tool, so it never is. Dialing the
// resolved IP (not the name) keeps a name from resolving elsewhere later.
func benchLoopback(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("--addr %q: name a loopback host, such as 127.0.0.1", addr)
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return "", fmt.Errorf("--addr %q resolves to %s, which is not loopback: parley bench only loads a server on this machine", addr, ip.IP)
		}
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("--addr %q resolves to nothing", addr)
	}
	return net.JoinHostPort(ips[0].IP.String(), port), nil
}
