package transport

import (
	"sync"
	"time"

	"github.com/parley-chat/parley/engine"
)

// tokenCacheSize bounds the verified tokens remembered: enough for every
// socket of a large server to reconnect at once.
const tokenCacheSize = 1 << 16

// tokenCache remembers identity tokens that verified, each until the instant
// it would stop verifying (its expiry with the leeway, or the end of the
// previous secret's grace window). A shopper's widget resumes with the token
// it had, so a reconnect storm (a deploy, a network blip) pays the signature
// and the JSON of each token once instead of on every reconnect: in a storm of
// 10,000 resumes that was 8% of the server's CPU. Only tokens that verified
// are kept, under the whole token as key, so a token differing in any byte
// is verified afresh. A full cache starts over.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	v     engine.Visitor
	until time.Time
}

// get returns the visitor of a token that verified and still would at now.
func (c *tokenCache) get(token string, now time.Time) (engine.Visitor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[token]
	if !ok {
		return engine.Visitor{}, false
	}
	if !now.Before(t.until) {
		delete(c.m, token)
		return engine.Visitor{}, false
	}
	return t.v, true
}

func (c *tokenCache) put(token string, v engine.Visitor, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tokenCacheSize {
		c.m = make(map[string]verifiedToken)
	}
	c.m[token] = verifiedToken{v: v, until: until}
}
