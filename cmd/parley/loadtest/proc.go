package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// This file is the tool's view of the server process: spawning it, and
// reading its memory and CPU from /proc and /metrics (Linux only).

// benchClockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
// It is 100 on every Linux architecture Go supports (the kernel fixes the
// user-visible value regardless of CONFIG_HZ), so it is hardcoded rather
// than read with sysconf, which Go cannot call without cgo.
const benchClockTicks = 100

// benchRaiseNoFile raises the soft RLIMIT_NOFILE to the hard one and returns
// the limit in force.
func benchRaiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("setrlimit NOFILE to %d: %w", lim.Max, err)
		}
	}
	return lim.Cur, nil
}

var benchListenRe = regexp.MustCompile(`msg=listening addr=(\S+)`)

// benchChild is a `parley serve` the tool started and must stop. With
// --kills it is one data directory and address served by a succession of
// processes: proc is the current one.
type benchChild struct {
	bin           string
	dir           string
	addr          string
	secret, admin string
	passivate     time.Duration
	proc          *benchProc
	stopOnce      sync.Once
	stopErr       error
}

// benchProc is one process of a benchChild.
type benchProc struct {
	cmd     *exec.Cmd
	logs    *benchLogTail
	done    chan struct{} // closed once Wait has returned
	waitErr error         // set before done is closed
}

// kill ends the process with SIGKILL and waits for it.
func (p *benchProc) kill() {
	_ = p.cmd.Process.Kill() // an error only says it has already exited
	<-p.done
}

// benchSpawn starts `serve` on a fresh data directory and waits for its
// listening line.
func benchSpawn(ctx context.Context, c Config) (*benchChild, error) {
	bin := c.ServerBin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding this executable to spawn a server: %w (use --server-bin)", err)
		}
		bin = exe
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, err
	}
	ch := &benchChild{bin: bin, dir: dir, secret: benchRandomHex(16), admin: benchRandomHex(16), passivate: c.PassivateAfter}
	p, addr, err := ch.start(ctx, "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ch.proc, ch.addr = p, addr
	return ch, nil
}

// start runs `serve` on the child's data directory at addr and waits for
// its listening line, which names the address it got.
func (ch *benchChild) start(ctx context.Context, addr string) (*benchProc, string, error) {
	args := []string{"serve", "--addr", addr, "--data", ch.dir,
		"--identity-secret", ch.secret, "--admin-token", ch.admin,
		"--ws-rate", "1000", "--ws-burst", "2000", "--ws-conn-rate", "0", "--api-rate", "0", "--log-level", "info"}
	if ch.passivate > 0 {
		args = append(args, "--passivate-after", ch.passivate.String())
	}
	p := &benchProc{logs: &benchLogTail{}, done: make(chan struct{})}
	// Not CommandContext: the child is stopped with SIGTERM and waited for,
	// so that its graceful shutdown is part of the run.
	p.cmd = exec.Command(ch.bin, args...)
	p.cmd.Env = benchChildEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	// If the tool dies without stopping it, the kernel does.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", ch.bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.After(30 * time.Second)
	for {
		if m := benchListenRe.FindStringSubmatch(p.logs.head()); m != nil {
			return p, m[1], nil
		}
		select {
		case <-p.done:
			return nil, "", fmt.Errorf("%s serve exited (%v) before listening:\n%s", ch.bin, p.waitErr, p.logs.String())
		case <-deadline:
			p.kill()
			return nil, "", fmt.Errorf("%s serve: no listening line in 30s:\n%s", ch.bin, p.logs.String())
		case <-ctx.Done():
			p.kill()
			return nil, "", ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop ends the child with SIGTERM (SIGKILL after 30 s), waits for it and
// removes its data directory. It is idempotent.
func (ch *benchChild) stop() error {
	ch.stopOnce.Do(func() {
		p := ch.proc
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.kill()
			ch.stopErr = fmt.Errorf("server did not exit 30s after SIGTERM; killed:\n%s", p.logs.String())
		}
		if ch.stopErr == nil && p.waitErr != nil {
			ch.stopErr = fmt.Errorf("server exited with %v:\n%s", p.waitErr, p.logs.String())
		}
		if err := os.RemoveAll(ch.dir); err != nil && ch.stopErr == nil {
			ch.stopErr = err
		}
	})
	return ch.stopErr
}

// benchChildEnv is the environment without PARLEY_*, so that a developer's
// settings do not change the spawned server.
func benchChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// benchLogTail keeps the start of a child's log (for the listening line) and
// its last lines (for an error message), never the whole of it.
type benchLogTail struct {
	mu    sync.Mutex
	first bytes.Buffer
	tail  []byte
}

const benchLogKeep = 16 << 10

func (l *benchLogTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := benchLogKeep - l.first.Len(); n > 0 {
		l.first.Write(p[:min(n, len(p))])
	}
	l.tail = append(l.tail, p...)
	if len(l.tail) > 2*benchLogKeep {
		l.tail = append(l.tail[:0], l.tail[len(l.tail)-benchLogKeep:]...)
	}
	return len(p), nil
}

func (l *benchLogTail) head() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first.String()
}

func (l *benchLogTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tail
	if len(t) > benchLogKeep {
		t = t[len(t)-benchLogKeep:]
	}
	return string(t)
}

// benchProcRSS returns VmRSS of pid in KiB.
func benchProcRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseUint(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// benchProcCPU returns the user+system CPU time pid has used.
func benchProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: the fields
	// that follow start after its last ')'. utime and stime are fields 14, 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ut+st) * time.Second / benchClockTicks, nil
}

// benchProcMaxOpenFiles returns the soft "Max open files" of pid (0: unknown).
func benchProcMaxOpenFiles(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// benchMetrics reads the Go heap and stack in use from the server's /metrics.
func (r *benchRun) benchMetrics(ctx context.Context) (heap, stack float64, err error) {
	m, err := r.benchReadMetrics(ctx, "parley_go_memstats_heap_inuse_bytes", "parley_go_memstats_stack_inuse_bytes")
	if err != nil {
		return 0, 0, err
	}
	return m["parley_go_memstats_heap_inuse_bytes"], m["parley_go_memstats_stack_inuse_bytes"], nil
}

// benchReadMetrics reads the server's /metrics once and returns the values
// of the named unlabelled metrics, failing if one is missing.
func (r *benchRun) benchReadMetrics(ctx context.Context, names ...string) (map[string]float64, error) {
	out := make(map[string]float64, len(names))
	err := r.scanMetrics(ctx, func(name string, v float64) {
		if slices.Contains(names, name) {
			out[name] = v
		}
	})
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("/metrics lacks %s", name)
		}
	}
	return out, nil
}

// scanMetrics reads the server's /metrics once, handing each sample's series
// (name and labels, as written) and value to fn.
func (r *benchRun) scanMetrics(ctx context.Context, fn func(series string, v float64)) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.addr+"/metrics", nil)
	resp, err := r.api.Do(req)
	if err != nil {
		return fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return fmt.Errorf("/metrics: %q: %w", line, err)
		}
		fn(line[:i], v)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("/metrics: %w", err)
	}
	return nil
}

// benchMemSample is the server's memory at one moment.
type benchMemSample struct {
	rssKB       uint64
	heap, stack float64
	ok, okRSS   bool
}

func (r *benchRun) sampleMem(ctx context.Context) benchMemSample {
	var s benchMemSample
	if pid := r.serverPID(); pid > 0 {
		if v, err := benchProcRSS(pid); err == nil {
			s.rssKB, s.okRSS = v, true
		} else {
			r.logf("reading the server's RSS: %v", err)
		}
	}
	if h, st, err := r.benchMetrics(ctx); err == nil {
		s.heap, s.stack, s.ok = h, st, true
	} else {
		r.logf("reading the server's metrics: %v", err)
	}
	return s
}

// benchSelfCPU is the user+system CPU time this process has used.
func benchSelfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
