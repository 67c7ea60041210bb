package transport

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// keyedLimiter keeps one token bucket per key — a client address, an API
// token — refilled at rate a second up to burst. A limiter with rate 0
// allows everything.
type keyedLimiter struct {
	rate, burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

// maxIdleBuckets is how many buckets a limiter keeps before it forgets the
// full ones (keys idle long enough to have refilled): memory stays bounded
// however many addresses come by.
const maxIdleBuckets = 10_000

func newKeyedLimiter(rate float64, burst int) *keyedLimiter {
	return &keyedLimiter{rate: rate, burst: float64(max(burst, 1)), buckets: map[string]*bucket{}}
}

// allow takes one token for key; when none is left it says how long until
// one is.
func (l *keyedLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			l.forgetFull(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if b.take(now, l.rate, l.burst) {
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *keyedLimiter) forgetFull(now time.Time) {
	for key, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, key)
		}
	}
}

// retryAfter sets Retry-After in whole seconds, at least one.
func retryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
}

// bucket is a token bucket: rate tokens a second, at most burst.
type bucket struct {
	tokens  float64
	last    time.Time
	refused int // frames refused in a row
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		b.refused = 0
		return true
	}
	b.refused++
	return false
}
