package persist

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Background writes are paced so that they do not starve the write-ahead
// log's fsync.
//
// Every acknowledgement waits for an fsync of the WAL. A flush or compaction
// writes megabytes at the disk's full speed, and while it does, that fsync
// queues behind it: on the standard virtual disk a 0.3 ms fsync became 3–4
// ms at the median and 10–12 ms at p99 next to an unpaced writer, and stayed
// at 0.5 ms / 1.3 ms next to one paced at 20 MB/s. Pacing spreads the same
// bytes over more time. It never applies to the WAL, the manifest or reads,
// and it is lifted while Pebble stalls writes, so that paced compactions can
// never be what holds the commits back.

// pacer is a leaky bucket shared by every background write: each write books
// its bytes at rate and sleeps until its booking comes due. Bookings up to
// pacerSlack ahead pass without sleeping.
type pacer struct {
	rate    float64 // bytes a second
	stalled atomic.Int32

	mu   sync.Mutex
	next time.Time // when the bytes booked so far are written at rate
}

const pacerSlack = 2 * time.Millisecond

func newPacer(bytesPerSecond int64) *pacer {
	if bytesPerSecond <= 0 {
		return nil
	}
	return &pacer{rate: float64(bytesPerSecond)}
}

// wait books n bytes and sleeps until they are due.
func (p *pacer) wait(n int) {
	if p.stalled.Load() > 0 {
		return
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now // idle time is not saved up as a burst
	}
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	d := p.next.Sub(now)
	p.mu.Unlock()
	if d > pacerSlack {
		time.Sleep(d)
	}
}

// listen lifts the pacing while Pebble stalls writes.
func (p *pacer) listen(l *pebble.EventListener) {
	begin, end := l.WriteStallBegin, l.WriteStallEnd
	l.WriteStallBegin = func(info pebble.WriteStallBeginInfo) {
		p.stalled.Add(1)
		if begin != nil {
			begin(info)
		}
	}
	l.WriteStallEnd = func() {
		p.stalled.Add(-1)
		if end != nil {
			end()
		}
	}
}

// pacedFS paces the writes of files created for flushes and compactions.
type pacedFS struct {
	vfs.FS
	p *pacer
}

func (fs pacedFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !background(category) {
		return f, err
	}
	return pacedFile{File: f, p: fs.p}, nil
}

func background(c vfs.DiskWriteCategory) bool {
	switch c {
	case "pebble-memtable-flush", "pebble-compaction", "pebble-blob-file-rewrite":
		return true
	}
	return false
}

type pacedFile struct {
	vfs.File
	p *pacer
}

func (f pacedFile) Write(b []byte) (int, error) {
	f.p.wait(len(b))
	return f.File.Write(b)
}

func (f pacedFile) WriteAt(b []byte, off int64) (int, error) {
	f.p.wait(len(b))
	return f.File.WriteAt(b, off)
}
