package loadtest

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
// the server and everything around it (the tool, the kernel, the machine);
// the commit and the write-ahead log's fsync split the server's part in turn.
const (
	benchServerAckMetric = "parley_ws_ack_seconds"
	benchCommitMetric    = "parley_persist_commit_seconds"
	benchFsyncMetric     = "parley_storage_wal_fsync_seconds"
	benchSchedMetric     = "parley_go_sched_latencies_seconds"
	// With --ai: from a shopper's message stored to the AI's answer back at
	// its conversation (before the answer's own commit).
	benchAIAnswerMetric = "parley_ai_answer_seconds"
)

// benchPromBucket is one cumulative bucket of a Prometheus histogram.
type benchPromBucket struct {
	le    float64 // upper bound, seconds; +Inf for the last
	count float64 // observations ≤ le
}

// ServerHistogram is what one of the server's histograms gained over the load
// and its drain, to the resolution of its buckets.
type ServerHistogram struct {
	Count float64 `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
}

// readServerHistograms reads the buckets of the server's ack, commit, fsync,
// scheduling-latency and AI answer histograms in one scrape; the ack
// histogram must be there.
func (r *benchRun) readServerHistograms(ctx context.Context) (map[string][]benchPromBucket, error) {
	out := map[string][]benchPromBucket{}
	err := r.scanMetrics(ctx, func(series string, v float64) {
		name, le, ok := strings.Cut(series, `_bucket{le="`)
		if !ok || !strings.HasSuffix(le, `"}`) {
			return
		}
		switch name {
		case benchServerAckMetric, benchCommitMetric, benchFsyncMetric, benchSchedMetric, benchAIAnswerMetric:
		default:
			return
		}
		if bound, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64); err == nil {
			out[name] = append(out[name], benchPromBucket{le: bound, count: v})
		}
	})
	if err != nil {
		return nil, err
	}
	if len(out[benchServerAckMetric]) == 0 {
		return nil, fmt.Errorf("/metrics lacks %s", benchServerAckMetric)
	}
	for _, b := range out {
		slices.SortFunc(b, func(x, y benchPromBucket) int { return cmp.Compare(x.le, y.le) })
	}
	return out, nil
}

// benchHistogramBetween is what the histogram gained from before to after:
// nil when the two readings do not have the same buckets (another server) or
// the server has no such histogram.
func benchHistogramBetween(before, after []benchPromBucket) *ServerHistogram {
	if len(before) != len(after) || len(after) == 0 {
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
	return &ServerHistogram{Count: diff[len(diff)-1].count, P50: ms(0.5), P99: ms(0.99), P999: ms(0.999)}
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

// writeServerAck prints the server's part under the table, and its
// storage's part of that.
func (rep *Report) writeServerAck(w io.Writer) {
	s := rep.Load.ServerAck
	if s == nil {
		return
	}
	fmt.Fprintf(w, "server's part of send→ack (%s, to bucket resolution): p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms over %.0f acks\n",
		benchServerAckMetric, s.P50, s.P99, s.P999, s.Count)
	if c, f := rep.Load.ServerCommit, rep.Load.WALFsync; c != nil && f != nil {
		fmt.Fprintf(w, "  of which the durable commit (%s): p50 %.2f ms, p99 %.2f ms over %.0f commits, each waiting for any fsync under way and then its own (%s: p50 %.2f ms, p99 %.2f ms over %.0f fsyncs)\n",
			benchCommitMetric, c.P50, c.P99, c.Count, benchFsyncMetric, f.P50, f.P99, f.Count)
	}
	if g := rep.Load.ServerSched; g != nil {
		fmt.Fprintf(w, "  and every step waits for a CPU: the server's goroutines, once runnable, waited p50 %.3f ms, p99 %.2f ms, p99.9 %.2f ms (%s)\n",
			g.P50, g.P99, g.P999, benchSchedMetric)
	}
}
