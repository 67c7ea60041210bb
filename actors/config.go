package actors

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// config is the store's configuration — settings, FAQs and agents — cached in
// memory and written through to storage. Reads are cheap (every shopper
// hello reads the settings and FAQs); writes are rare and durable.
type config struct {
	mu       sync.RWMutex
	store    *persist.Store
	settings engine.Settings
	faqs     []engine.FAQ // ordered
	agents   map[string]engine.Agent
	byHash   map[string]string // token hash → agent id
}

func loadConfig(store *persist.Store) (*config, error) {
	c := &config{store: store, agents: map[string]engine.Agent{}, byHash: map[string]string{}}
	s, ok, err := store.Settings()
	if err != nil {
		return nil, err
	}
	if !ok {
		s = engine.DefaultSettings()
	}
	c.settings = s
	if c.faqs, err = store.FAQs(); err != nil {
		return nil, err
	}
	engine.SortFAQs(c.faqs)
	agents, err := store.Agents()
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		c.agents[a.ID] = a
		c.byHash[a.TokenHash] = a.ID
	}
	return c, nil
}

func (c *config) getSettings() engine.Settings {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.settings
}

func (c *config) putSettings(s engine.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.store.PutSettings(s); err != nil {
		return err
	}
	c.settings = s
	return nil
}

func (c *config) getFAQs() []engine.FAQ {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]engine.FAQ(nil), c.faqs...)
}

func (c *config) putFAQ(f engine.FAQ, now time.Time) (engine.FAQ, error) {
	if f.Kind == "" {
		f.Kind = engine.KindFAQ
	}
	if err := f.Validate(); err != nil {
		return engine.FAQ{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.faqIndex(f.ID)
	if f.ID == "" {
		f.ID = engine.NewID(now)
	} else if i < 0 {
		return engine.FAQ{}, engine.ErrNotFound
	}
	f.UpdatedAt = now.UTC()
	if err := c.store.PutFAQ(f); err != nil {
		return engine.FAQ{}, err
	}
	if i >= 0 {
		c.faqs[i] = f
	} else {
		c.faqs = append(c.faqs, f)
	}
	engine.SortFAQs(c.faqs)
	return f, nil
}

func (c *config) deleteFAQ(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.faqIndex(id)
	if i < 0 {
		return engine.ErrNotFound
	}
	if err := c.store.DeleteFAQ(id); err != nil && !errors.Is(err, persist.ErrNotFound) {
		return err
	}
	c.faqs = append(c.faqs[:i], c.faqs[i+1:]...)
	return nil
}

func (c *config) faqIndex(id string) int {
	for i, f := range c.faqs {
		if id != "" && f.ID == id {
			return i
		}
	}
	return -1
}

// HashToken is how an API token is stored: tokens are 256 random bits, so a
// plain SHA-256 is enough to make a stolen database useless for logging in.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a new random API token.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "pk_" + hex.EncodeToString(b)
}

func (c *config) createAgent(a engine.Agent, now time.Time) (engine.Agent, string, error) {
	if err := a.Validate(); err != nil {
		return engine.Agent{}, "", err
	}
	token := NewToken()
	a.ID, a.CreatedAt, a.TokenHash, a.Disabled = engine.NewID(now), now.UTC(), HashToken(token), false
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.store.PutAgent(a); err != nil {
		return engine.Agent{}, "", err
	}
	c.agents[a.ID] = a
	c.byHash[a.TokenHash] = a.ID
	return a, token, nil
}

func (c *config) disableAgent(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.agents[id]
	if !ok {
		return engine.ErrNotFound
	}
	a.Disabled = true
	if err := c.store.PutAgent(a); err != nil {
		return err
	}
	c.agents[id] = a
	return nil
}

func (c *config) listAgents() []engine.Agent {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]engine.Agent, 0, len(c.agents))
	for _, a := range c.agents {
		out = append(out, a)
	}
	return out
}

func (c *config) agent(id string) (engine.Agent, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.agents[id]
	return a, ok
}

// authenticate finds the enabled agent holding token. The lookup is by hash,
// so comparing it leaks nothing about stored tokens through timing.
func (c *config) authenticate(token string) (engine.Agent, bool) {
	if token == "" {
		return engine.Agent{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.agents[c.byHash[HashToken(token)]]
	if !ok || a.Disabled {
		return engine.Agent{}, false
	}
	return a, true
}
