package persist

import (
	"errors"
	"strings"
	"testing"
)

// A second store on a directory that is open already is refused with
// ErrInUse, saying which directory, instead of Pebble's bare lock error.
func TestOpenRefusesADirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(Options{Dir: dir, Logger: quiet})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open: %v; want ErrInUse naming %s", err, dir)
	}
}
