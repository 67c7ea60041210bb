package actors

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// BenchmarkCommandRoundTrip measures one shopper message through the whole
// actor path — request, decide, durable commit, apply, publish, reply — from
// one conversation at a time and from 64 conversations at once, on a real
// Pebble directory with fsync.
func BenchmarkCommandRoundTrip(b *testing.B) {
	for _, convs := range []int{1, 64} {
		b.Run(fmt.Sprintf("conversations=%d", convs), func(b *testing.B) {
			h := startB(b)
			ctx := context.Background()
			ids := make([]string, convs)
			visitors := make([]engine.Visitor, convs)
			for i := range ids {
				visitors[i] = engine.Visitor{ProfileID: "bench-" + strconv.Itoa(i), Name: "Bench"}
				info, _, err := h.sys.StartChat(ctx, visitors[i])
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = info.ID
			}
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := 0; w < convs; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						_, err := h.sys.ShopperPost(ctx, visitors[w], ids[w], "hello", nil, "m"+strconv.FormatInt(n, 10))
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func startB(b *testing.B) *harness { return start(b, Config{}) }
