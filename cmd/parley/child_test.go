package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

// serveChild is one `parley serve` process that a test runs from the real
// binary and kills, restarts or stops.
type serveChild struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	addr string
	done chan struct{} // closed once Wait has returned
}

// startChild starts `bin serve --addr 127.0.0.1:0 args...` and waits until
// it listens and answers /readyz with 200. The test's cleanup kills it.
func startChild(t *testing.T, bin string, args ...string) *serveChild {
	t.Helper()
	return startChildOver(t, bin, nil, args...)
}

// startChildOver is startChild for a child that serves TLS when roots is
// not nil: /readyz is asked over https, trusting roots.
func startChildOver(t *testing.T, bin string, roots *x509.CertPool, args ...string) *serveChild {
	t.Helper()
	c := &serveChild{logs: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	c.cmd.Env = childEnv() // without PARLEY_*: a developer's settings do not change the child
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(c.kill)
	deadline := time.Now().Add(20 * time.Second)
	for c.addr == "" {
		if m := addrRe.FindStringSubmatch(c.logs.String()); m != nil {
			c.addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line in 20s:\n%s", c.logs.String())
		}
		select {
		case <-c.done:
			t.Fatalf("parley serve exited (%v) before listening:\n%s", c.cmd.ProcessState, c.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	tr, scheme := &http.Transport{}, "http"
	if roots != nil {
		tr.TLSClientConfig, scheme = &tls.Config{RootCAs: roots}, "https"
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Second}
	for {
		resp, err := client.Get(scheme + "://" + c.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready in 20s (%v):\n%s", err, c.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill ends the child with SIGKILL and waits for it.
func (c *serveChild) kill() {
	_ = c.cmd.Process.Kill() // an error only says it has already exited
	<-c.done
}

// stop ends the child with SIGTERM and checks that it exits 0.
func (c *serveChild) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30s after SIGTERM:\n%s", c.logs.String())
	}
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGTERM (%v):\n%s", code, c.cmd.ProcessState, c.logs.String())
	}
}

// childEnv is this process's environment without PARLEY_*, so that a
// developer's settings do not change a child the tests start.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// chatAs opens a socket to the child as the shopper v, with a token signed
// with secret, says hello and starts a chat. It returns the socket, the
// started event and the token; the test closes the socket.
func (c *serveChild) chatAs(ctx context.Context, t *testing.T, secret string, v engine.Visitor) (*wsclient.Conn, *wsclient.Frame, string) {
	t.Helper()
	tok, err := identity.Mint([]byte(secret), v, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := wsclient.Dial(ctx, "ws://"+c.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Hello(ctx, tok, nil); err != nil {
		t.Fatal(err)
	}
	started, err := conn.StartChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return conn, started, tok
}
