package actors

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// BenchmarkActiveConversationMemory measures the heap and stack that one live
// conversation actor holds (with one message stored and its profile actor
// passivated), by starting 5,000 and comparing memory in use. An idle
// conversation passivates and then holds none of it.
func BenchmarkActiveConversationMemory(b *testing.B) {
	const n = 5000
	h := start(b, Config{ProfileIdleAfter: time.Millisecond})
	ctx := context.Background()
	before := heapInUse()
	for i := 0; i < n; i++ {
		v := engine.Visitor{ProfileID: "mem-" + strconv.Itoa(i), Name: "Shopper"}
		info, _, err := h.sys.StartChat(ctx, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.sys.ShopperPost(ctx, v, info.ID, "hello there", nil, "c1"); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the idle profile actors passivate
	after := heapInUse()
	b.ReportMetric(float64(after-before)/n, "heapB/conversation")
}

func heapInUse() uint64 {
	var m runtime.MemStats
	for i := 0; i < 2; i++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
