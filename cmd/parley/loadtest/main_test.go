package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(removingBinary{m}) }

// removingBinary runs the tests, then removes the binary parleyBin built.
type removingBinary struct{ m *testing.M }

func (r removingBinary) Run() int {
	code := r.m.Run()
	if testBinary.dir != "" {
		os.RemoveAll(testBinary.dir)
	}
	return code
}

var testBinary struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// parleyBin builds the parley command once for the package's tests: the
// tool spawns its servers from it, as the command spawns them from itself.
func parleyBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and spawns the real binary")
	}
	b := &testBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "parley-loadtest-bin-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "parley")
		start := time.Now()
		if out, err := exec.Command("go", "build", "-o", b.bin, "github.com/parley-chat/parley/cmd/parley").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		t.Logf("built %s in %v", b.bin, time.Since(start).Round(time.Millisecond))
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// startServer runs `parley serve` on a temp data directory with args and
// waits until it is ready; it returns its address. The test's cleanup kills
// it.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	ch := &benchChild{bin: parleyBin(t), dir: t.TempDir()}
	logs := &benchLogTail{}
	cmd := exec.Command(ch.bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", ch.dir}, args...)...)
	cmd.Env = benchChildEnv()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	var addr string
	for addr == "" {
		if m := benchListenRe.FindStringSubmatch(logs.head()); m != nil {
			addr = m[1]
			break
		}
		select {
		case <-done:
			t.Fatalf("parley serve exited before listening:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line in 20s:\n%s", logs.String())
		}
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	r := &benchRun{addr: addr, api: &http.Client{Transport: tr, Timeout: time.Second}}
	if err := r.waitReady(context.Background()); err != nil {
		t.Fatalf("%v:\n%s", err, logs.String())
	}
	return addr
}
