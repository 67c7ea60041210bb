package persist

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// walGate is an errorfs injector that can hold the fsyncs of the
// write-ahead log: while held, a sync of a WAL file blocks until release.
// It injects no error.
type walGate struct {
	mu      sync.Mutex
	held    chan struct{} // nil when open; closed by release
	waiting chan string   // the path of each sync that starts to wait
}

func newWALGate() *walGate { return &walGate{waiting: make(chan string, 64)} }

func (g *walGate) String() string { return "walGate" }

func (g *walGate) MaybeError(op errorfs.Op) error {
	switch op.Kind {
	case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
	default:
		return nil
	}
	if !strings.HasSuffix(op.Path, ".log") {
		return nil
	}
	g.mu.Lock()
	held := g.held
	g.mu.Unlock()
	if held == nil {
		return nil
	}
	select {
	case g.waiting <- op.Path:
	default:
	}
	<-held
	return nil
}

func (g *walGate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held == nil {
		g.held = make(chan struct{})
	}
}

func (g *walGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held != nil {
		close(g.held)
		g.held = nil
	}
}

// awaitSync waits until a WAL sync is held at the gate.
func (g *walGate) awaitSync(t *testing.T) {
	t.Helper()
	select {
	case <-g.waiting:
	case <-time.After(5 * time.Second):
		t.Fatal("no WAL sync reached the gate")
	}
}

// gatedStore opens a store on an in-memory file system whose WAL fsyncs the
// returned gate can hold. The gate is released before the store closes.
func gatedStore(t *testing.T, opts Options) (*Store, *walGate, vfs.FS) {
	t.Helper()
	gate, mem := newWALGate(), vfs.NewMem()
	opts.Dir, opts.FS, opts.Logger = "db", errorfs.Wrap(mem, gate), quiet
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		gate.release()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, gate, mem
}

// appendAsync starts an append and returns where its answer will come.
func appendAsync(s *Store, c Commit) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Append(context.Background(), c) }()
	return done
}

func answer(t *testing.T, done <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}
