package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// benchAgents are the agents replying through the API, and the bookkeeping
// that times each reply until the shopper's socket delivers it.
type benchAgents struct {
	r      *benchRun
	tokens []string

	mu      sync.Mutex
	tickets []*benchShopper  // shoppers whose conversation is a ticket (first message acknowledged)
	posted  map[string]int64 // client_id → time before its POST (unix ns), not yet delivered

	replies  atomic.Int64 // 201
	received atomic.Int64 // delivered to the shopper's socket
	lat      *benchHist
}

func newBenchAgents(r *benchRun) *benchAgents {
	return &benchAgents{r: r, posted: map[string]int64{}, lat: newBenchHist()}
}

// ticketed makes sh's conversation a target for replies.
func (a *benchAgents) ticketed(sh *benchShopper) {
	a.mu.Lock()
	a.tickets = append(a.tickets, sh)
	a.mu.Unlock()
}

func (a *benchAgents) pick(rng *rand.Rand) *benchShopper {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.tickets) == 0 {
		return nil
	}
	return a.tickets[rng.IntN(len(a.tickets))]
}

// delivered is called by a shopper's reader for every agent message.
func (a *benchAgents) delivered(cid string, now time.Time) {
	a.mu.Lock()
	t, ok := a.posted[cid]
	delete(a.posted, cid)
	a.mu.Unlock()
	if ok {
		a.received.Add(1)
		a.lat.record(time.Duration(now.UnixNano() - t))
	}
}

func (a *benchAgents) undelivered() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.posted)
}

// create makes the agents with the admin token.
func (a *benchAgents) create(ctx context.Context, n int) error {
	for i := range n {
		var out struct {
			Token string `json:"token"`
		}
		body := map[string]any{"name": fmt.Sprintf("Bench Agent %d", i), "email": fmt.Sprintf("bench-%s-%d@example.com", a.r.runID, i), "role": "agent"}
		status, raw, err := a.r.apiDo(ctx, "POST", "/api/v1/agents", a.r.admin, body)
		if err != nil {
			return fmt.Errorf("creating agent %d: %w", i, err)
		}
		if status != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.Token == "" {
			return fmt.Errorf("creating agent %d: %d %s", i, status, benchTrim(string(raw), 300))
		}
		a.tokens = append(a.tokens, out.Token)
	}
	return nil
}

// run replies until ctx ends: one reply in flight per agent, or at the
// total --agent-rate.
func (a *benchAgents) run(ctx context.Context, wg *sync.WaitGroup) {
	c := a.r.cfg
	for i, tok := range a.tokens {
		rng := rand.New(rand.NewPCG(c.Seed, uint64(i)+1))
		wg.Go(func() {
			var tick <-chan time.Time
			if c.AgentRate > 0 {
				interval := time.Duration(float64(len(a.tokens)) / c.AgentRate * float64(time.Second))
				select { // a random phase spreads the agents' ticks
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(rng.Int64N(int64(interval) + 1))):
				}
				t := time.NewTicker(interval) // drops ticks when a reply is slower than the interval
				defer t.Stop()
				tick = t.C
			}
			for n := 1; ctx.Err() == nil; {
				sh := a.pick(rng)
				if sh == nil {
					select {
					case <-ctx.Done():
					case <-time.After(5 * time.Millisecond):
					}
					continue
				}
				if tick != nil && n > 1 {
					select {
					case <-ctx.Done():
						return
					case <-tick:
					}
				}
				cid := fmt.Sprintf("a%d-%s-%d", i, a.r.runID, n)
				if a.r.chaos != nil {
					a.r.chaos.reply(tok, sh, cid)
				} else {
					a.reply(ctx, tok, sh, cid, true)
				}
				n++
			}
		})
	}
}

// reply posts one agent message to sh's ticket; timed tells the shopper's
// reader to time its delivery.
func (a *benchAgents) reply(ctx context.Context, tok string, sh *benchShopper, cid string, timed bool) bool {
	sh.mu.Lock()
	conv := sh.conv
	sh.mu.Unlock()
	if timed {
		a.mu.Lock()
		a.posted[cid] = time.Now().UnixNano()
		a.mu.Unlock()
	}
	status, raw, err := a.r.apiDo(ctx, "POST", "/api/v1/tickets/"+conv+"/messages", tok, map[string]any{"client_id": cid, "text": "agent reply " + cid})
	ok := err == nil && status == http.StatusCreated
	if !ok && timed {
		a.mu.Lock()
		delete(a.posted, cid)
		a.mu.Unlock()
	}
	switch {
	case ok:
		a.replies.Add(1)
	case err != nil && ctx.Err() != nil:
		// the phase ended during the POST: not the server's fault
	case err != nil:
		a.r.errs.add("agent_post_failed", fmt.Sprintf("reply %s to %s: %v", cid, conv, err))
	case status == http.StatusTooManyRequests:
		a.r.errs.add("rate_limited", "")
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	default:
		a.r.errs.add("agent_http_"+strconv.Itoa(status), fmt.Sprintf("reply %s to %s: %s", cid, conv, benchTrim(string(raw), 200)))
	}
	return ok
}

// apiDo sends one JSON request and returns the status and the body.
func (r *benchRun) apiDo(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+r.addr+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.api.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, raw, err
}
