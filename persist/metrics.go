package persist

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// storageCollector exposes what the store holds in memory and on disk, read
// from Pebble at each scrape. With the Go heap and the process's RSS it
// accounts for the server's memory: the block cache and the memtables live
// outside the Go heap and are bounded by their own sizes.
type storageCollector struct {
	s                                              *Store
	cache, memtables, disk, compactions, l0, fsync *prometheus.Desc
	uploads, uploadBytes                           *prometheus.Desc
}

// Collector returns a Prometheus collector of the store's figures.
func (s *Store) Collector() prometheus.Collector {
	return &storageCollector{
		s: s,
		cache: prometheus.NewDesc("parley_storage_block_cache_bytes",
			"Bytes held by the storage block cache (bounded by its configured size).", nil, nil),
		memtables: prometheus.NewDesc("parley_storage_memtable_bytes",
			"Bytes held by storage memtables: writes not yet flushed to tables.", nil, nil),
		disk: prometheus.NewDesc("parley_storage_disk_bytes",
			"Bytes the store uses on disk: tables, write-ahead log and manifests.", nil, nil),
		compactions: prometheus.NewDesc("parley_storage_compactions_total",
			"Storage compactions run since start.", nil, nil),
		l0: prometheus.NewDesc("parley_storage_l0_files",
			"Tables in level 0 of the store; many mean writes outrun compactions.", nil, nil),
		fsync: prometheus.NewDesc("parley_storage_wal_fsync_seconds",
			"Time of each fsync of the write-ahead log: every acknowledged write waits for one.", nil, nil),
		uploads: prometheus.NewDesc("parley_uploads_stored",
			"Uploaded images the store holds.", nil, nil),
		uploadBytes: prometheus.NewDesc("parley_uploads_stored_bytes",
			"Bytes of the uploaded images the store holds.", nil, nil),
	}
}

func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cache
	ch <- c.memtables
	ch <- c.disk
	ch <- c.compactions
	ch <- c.l0
	ch <- c.fsync
	ch <- c.uploads
	ch <- c.uploadBytes
}

func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.enter() != nil {
		return // closed: nothing to report
	}
	m := c.s.db.Metrics()
	count, bytes, err := c.s.uploadTotals()
	c.s.leave()
	if err == nil {
		ch <- prometheus.MustNewConstMetric(c.uploads, prometheus.GaugeValue, float64(count))
		ch <- prometheus.MustNewConstMetric(c.uploadBytes, prometheus.GaugeValue, float64(bytes))
	}
	ch <- prometheus.MustNewConstMetric(c.cache, prometheus.GaugeValue, float64(m.BlockCache.Size))
	ch <- prometheus.MustNewConstMetric(c.memtables, prometheus.GaugeValue, float64(m.MemTable.Size))
	ch <- prometheus.MustNewConstMetric(c.disk, prometheus.GaugeValue, float64(m.DiskSpaceUsage()))
	ch <- prometheus.MustNewConstMetric(c.compactions, prometheus.CounterValue, float64(m.Compact.Count))
	ch <- prometheus.MustNewConstMetric(c.l0, prometheus.GaugeValue, float64(m.Levels[0].TablesCount))
	if h := m.LogWriter.FsyncLatency; h != nil {
		var pb dto.Metric
		if h.Write(&pb) == nil {
			count, sum, buckets := fsyncBuckets(pb.GetHistogram())
			ch <- prometheus.MustNewConstHistogram(c.fsync, count, sum, buckets)
		}
	}
}

// fsyncBounds are the bounds of Pebble's 100 fsync-latency buckets that the
// metric keeps: a readable dozen of its own, so that every count stays exact.
var fsyncBounds = func() map[float64]bool {
	keep := map[float64]bool{}
	for i, le := range pebble.FsyncLatencyBuckets {
		switch {
		case le <= 0:
		case le < 5e6: // the linear 0.1 ms steps below 5 ms: keep 0.5, 1, 2, 3, 4 ms
			if ms := le / 1e6; ms == 0.5 || ms == 1 || ms == 2 || ms == 3 || ms == 4 {
				keep[le] = true
			}
		case i%5 == 0: // the exponential steps from 5 ms to 10 s: every fifth
			keep[le] = true
		}
	}
	return keep
}()

// fsyncBuckets converts Pebble's histogram (nanoseconds) to the metric's.
func fsyncBuckets(h *dto.Histogram) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = map[float64]uint64{}
	for _, b := range h.GetBucket() {
		if fsyncBounds[b.GetUpperBound()] {
			buckets[b.GetUpperBound()/1e9] = b.GetCumulativeCount()
		}
	}
	return h.GetSampleCount(), h.GetSampleSum() / 1e9, buckets
}
