package persist

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/engine"
)

// The storage figures an operator reads to account for the server's memory
// (O1) reflect what was written, and a scrape after Close is empty, not a
// panic.
func TestStorageCollector(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	id := engine.NewID(t0)
	mustAppend(t, s, Commit{Conversation: id, Events: []engine.Event{started("p")}})
	for seq := uint64(2); seq <= 50; seq++ {
		mustAppend(t, s, Commit{Conversation: id, Events: []engine.Event{message(seq, engine.PartyShopper, "c"+strings.Repeat("x", int(seq)), "hello")}})
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 8 {
		t.Fatalf("gathered %d metrics, err %v; want 8", n, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			got[mf.GetName()] = g.GetValue()
		} else if h := m.GetHistogram(); h != nil {
			got[mf.GetName()] = float64(h.GetSampleCount())
			if bs := h.GetBucket(); len(bs) < 10 || bs[len(bs)-1].GetCumulativeCount() > h.GetSampleCount() {
				t.Errorf("%s buckets %v of %d samples", mf.GetName(), bs, h.GetSampleCount())
			}
		} else {
			got[mf.GetName()] = m.GetCounter().GetValue()
		}
	}
	if got["parley_storage_disk_bytes"] <= 0 || got["parley_storage_memtable_bytes"] <= 0 {
		t.Errorf("after 50 appends and a flush: %v; want disk and memtable bytes above 0", got)
	}
	if got["parley_storage_wal_fsync_seconds"] < 50 { // every durable append waited for an fsync
		t.Errorf("after 50 durable appends: %v WAL fsyncs; want at least 50", got["parley_storage_wal_fsync_seconds"])
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("after Close: %d metrics, err %v; want none", n, err)
	}
}
