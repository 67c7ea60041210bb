package persist

import (
	"github.com/prometheus/client_golang/prometheus"
)

// storageCollector exposes what the store holds in memory and on disk, read
// from Pebble at each scrape. With the Go heap and the process's RSS it
// accounts for the server's memory: the block cache and the memtables live
// outside the Go heap and are bounded by their own sizes.
type storageCollector struct {
	s                                       *Store
	cache, memtables, disk, compactions, l0 *prometheus.Desc
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
	}
}

func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cache
	ch <- c.memtables
	ch <- c.disk
	ch <- c.compactions
	ch <- c.l0
}

func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.enter() != nil {
		return // closed: nothing to report
	}
	m := c.s.db.Metrics()
	c.s.leave()
	ch <- prometheus.MustNewConstMetric(c.cache, prometheus.GaugeValue, float64(m.BlockCache.Size))
	ch <- prometheus.MustNewConstMetric(c.memtables, prometheus.GaugeValue, float64(m.MemTable.Size))
	ch <- prometheus.MustNewConstMetric(c.disk, prometheus.GaugeValue, float64(m.DiskSpaceUsage()))
	ch <- prometheus.MustNewConstMetric(c.compactions, prometheus.CounterValue, float64(m.Compact.Count))
	ch <- prometheus.MustNewConstMetric(c.l0, prometheus.GaugeValue, float64(m.Levels[0].TablesCount))
}
