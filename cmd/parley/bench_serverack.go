package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The server's own account of send → ack: from reading a message.send to
// queueing its ack. Next to the tool's figure it splits the tail between
// the server and everything around it (the tool, the kernel, the machine).
const benchServerAckMetric = "parley_ws_ack_seconds"

// benchPromBucket is one cumulative bucket of a Prometheus histogram.
type benchPromBucket struct {
	le    float64 // upper bound, seconds; +Inf for the last
	count float64 // observations ≤ le
}

// benchServerAck is the server's part of send → ack over the load and its
// drain, to the resolution of the histogram's buckets.
type benchServerAck struct {
	Count float64 `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
}

// readServerAck reads the buckets of the server's ack histogram.
func (r *benchRun) readServerAck(ctx context.Context) ([]benchPromBucket, error) {
	var out []benchPromBucket
	prefix := benchServerAckMetric + `_bucket{le="`
	err := r.scanMetrics(ctx, func(series string, v float64) {
		le, ok := strings.CutPrefix(series, prefix)
		if !ok || !strings.HasSuffix(le, `"}`) {
			return
		}
		bound, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64)
		if err == nil {
			out = append(out, benchPromBucket{le: bound, count: v})
		}
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("/metrics lacks %s", benchServerAckMetric)
	}
	slices.SortFunc(out, func(a, b benchPromBucket) int { return cmp.Compare(a.le, b.le) })
	return out, nil
}

// benchServerAckBetween is what the histogram gained from before to after:
// nil when the two readings do not have the same buckets (another server).
func benchServerAckBetween(before, after []benchPromBucket) *benchServerAck {
	if len(before) != len(after) {
		return nil
	}
	diff := make([]benchPromBucket, len(after))
	for i := range after {
		if before[i].le != after[i].le || after[i].count < before[i].count {
			return nil
		}
		diff[i] = benchPromBucket{le: after[i].le, count: after[i].count - before[i].count}
	}
	ms := func(q float64) float64 { return benchRound(benchBucketQuantile(diff, q) * 1000) }
	return &benchServerAck{Count: diff[len(diff)-1].count, P50: ms(0.5), P99: ms(0.99), P999: ms(0.999)}
}

// benchBucketQuantile estimates the q-quantile of cumulative buckets as
// Prometheus' histogram_quantile does: linearly within the bucket that holds
// it, and the highest finite bound when that bucket is the last (+Inf).
func benchBucketQuantile(b []benchPromBucket, q float64) float64 {
	if len(b) == 0 || b[len(b)-1].count == 0 {
		return 0
	}
	rank := q * b[len(b)-1].count
	lower, below := 0.0, 0.0
	for _, x := range b {
		if x.count >= rank {
			if math.IsInf(x.le, 1) {
				return lower
			}
			if x.count == below {
				return x.le
			}
			return lower + (x.le-lower)*(rank-below)/(x.count-below)
		}
		lower, below = x.le, x.count
	}
	return lower
}

// writeServerAck prints the server's part under the table.
func (rep *benchReport) writeServerAck(w io.Writer) {
	s := rep.Load.ServerAck
	if s == nil {
		return
	}
	fmt.Fprintf(w, "server's part of send→ack (%s, to bucket resolution): p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms over %.0f acks\n",
		benchServerAckMetric, s.P50, s.P99, s.P999, s.Count)
}
