package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Storage is what the cache needs of durable storage. Every Put and Delete
// returns once the change is on disk.
type Storage interface {
	Settings() (engine.Settings, bool, error)
	PutSettings(engine.Settings) error
	FAQs() ([]engine.FAQ, error)
	PutFAQ(engine.FAQ) error
	DeleteFAQ(id string) error
	Macros() ([]engine.Macro, error)
	PutMacro(engine.Macro) error
	DeleteMacro(id string) error
	Agents() ([]engine.Agent, error)
	PutAgent(engine.Agent) error
	Webhooks() ([]engine.Webhook, error)
	PutWebhook(engine.Webhook) error
	DeleteWebhook(id string) error
}

// Cache is the configuration in memory, written through to Storage. It is
// safe for concurrent use.
//
// Writers take wmu for the whole write, storage included, so that two
// writes are applied in the order they were stored; readers take only mu,
// which a writer holds just to swap the new value in after storage has it.
// A write waiting for its fsync therefore never holds up a hello or an
// authentication.
type Cache struct {
	store Storage
	wmu   sync.Mutex // one writer at a time, through its storage write

	// settings is read by every shopper message and hello: a pointer
	// swapped whole, read without a lock. Never changed in place.
	settings atomic.Pointer[engine.Settings]
	// webhooks is read by every commit of a ticket, the same way.
	webhooks atomic.Pointer[[]engine.Webhook]

	mu     sync.RWMutex   // guards the fields below
	faqs   []engine.FAQ   // ordered by engine.SortFAQs; replaced, never changed in place
	faqGen uint64         // counts the changes to faqs
	macros []engine.Macro // ordered by engine.SortMacros; replaced, never changed in place
	agents map[string]engine.Agent
	byHash map[string]string // token hash → agent id
}

// Load reads the configuration from store; settings never saved are
// engine.DefaultSettings.
func Load(store Storage) (*Cache, error) {
	c := &Cache{store: store, agents: map[string]engine.Agent{}, byHash: map[string]string{}}
	s, ok, err := store.Settings()
	if err != nil {
		return nil, err
	}
	if !ok {
		s = engine.DefaultSettings()
	}
	c.settings.Store(&s)
	if c.faqs, err = store.FAQs(); err != nil {
		return nil, err
	}
	engine.SortFAQs(c.faqs)
	if c.macros, err = store.Macros(); err != nil {
		return nil, err
	}
	engine.SortMacros(c.macros)
	agents, err := store.Agents()
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		c.agents[a.ID] = a
		c.byHash[a.TokenHash] = a.ID
	}
	hooks, err := store.Webhooks()
	if err != nil {
		return nil, err
	}
	c.webhooks.Store(&hooks)
	return c, nil
}

// Settings returns the current settings. The maps and slices in them are
// shared: read them, never change them.
func (c *Cache) Settings() engine.Settings { return *c.settings.Load() }

// PutSettings validates and saves settings; an invalid value, or one that
// storage refused, changes nothing.
func (c *Cache) PutSettings(s engine.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.store.PutSettings(s); err != nil {
		return err
	}
	c.settings.Store(&s)
	return nil
}

// FAQs returns every FAQ and article, in order. The slice is the caller's.
func (c *Cache) FAQs() []engine.FAQ {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]engine.FAQ(nil), c.faqs...)
}

// FAQsGen returns every FAQ and article, as FAQs does, with their
// generation (see FAQGen).
func (c *Cache) FAQsGen() ([]engine.FAQ, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]engine.FAQ(nil), c.faqs...), c.faqGen
}

// FAQGen is a number that changes whenever the FAQs do: what is built from
// them (the AI agent's index) is rebuilt only when it has.
func (c *Cache) FAQGen() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.faqGen
}

// FAQ returns one FAQ or article by id.
func (c *Cache) FAQ(id string) (engine.FAQ, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if i := faqIndex(c.faqs, id); i >= 0 {
		return c.faqs[i], true
	}
	return engine.FAQ{}, false
}

// PutFAQ creates (empty ID) or replaces an FAQ and returns it as stored.
func (c *Cache) PutFAQ(f engine.FAQ, now time.Time) (engine.FAQ, error) {
	if f.Kind == "" {
		f.Kind = engine.KindFAQ
	}
	if err := f.Validate(); err != nil {
		return engine.FAQ{}, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	faqs := c.FAQs() // no writer but us: this stays current
	i := faqIndex(faqs, f.ID)
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
		faqs[i] = f
	} else {
		faqs = append(faqs, f)
	}
	engine.SortFAQs(faqs)
	c.mu.Lock()
	c.faqs = faqs
	c.faqGen++
	c.mu.Unlock()
	return f, nil
}

// DeleteFAQ removes an FAQ; not_found if it does not exist.
func (c *Cache) DeleteFAQ(id string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	faqs := c.FAQs()
	i := faqIndex(faqs, id)
	if i < 0 {
		return engine.ErrNotFound
	}
	if err := c.store.DeleteFAQ(id); err != nil && !errors.Is(err, persist.ErrNotFound) {
		return err
	}
	faqs = append(faqs[:i], faqs[i+1:]...)
	c.mu.Lock()
	c.faqs = faqs
	c.faqGen++
	c.mu.Unlock()
	return nil
}

func faqIndex(faqs []engine.FAQ, id string) int {
	for i, f := range faqs {
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

// CreateAgent stores a new agent and returns it with its API token. Only the
// token's hash is stored: this is the one time anyone sees the token.
func (c *Cache) CreateAgent(a engine.Agent, now time.Time) (engine.Agent, string, error) {
	if err := a.Validate(); err != nil {
		return engine.Agent{}, "", err
	}
	token := NewToken()
	a.ID, a.CreatedAt, a.TokenHash, a.Disabled = engine.NewID(now), now.UTC(), HashToken(token), false
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.store.PutAgent(a); err != nil {
		return engine.Agent{}, "", err
	}
	c.mu.Lock()
	c.agents[a.ID] = a
	c.byHash[a.TokenHash] = a.ID
	c.mu.Unlock()
	return a, token, nil
}

// DisableAgent disables an agent; their token stops working at once.
func (c *Cache) DisableAgent(id string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	a, ok := c.Agent(id)
	if !ok {
		return engine.ErrNotFound
	}
	a.Disabled = true
	if err := c.store.PutAgent(a); err != nil {
		return err
	}
	c.mu.Lock()
	c.agents[id] = a
	c.mu.Unlock()
	return nil
}

// Agents lists every agent, disabled ones included.
func (c *Cache) Agents() []engine.Agent {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]engine.Agent, 0, len(c.agents))
	for _, a := range c.agents {
		out = append(out, a)
	}
	return out
}

// Agent returns one agent by id.
func (c *Cache) Agent(id string) (engine.Agent, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.agents[id]
	return a, ok
}

// Authenticate finds the enabled agent holding token. The lookup is by
// hash, so comparing it leaks nothing about stored tokens through timing.
func (c *Cache) Authenticate(token string) (engine.Agent, bool) {
	if token == "" {
		return engine.Agent{}, false
	}
	h := HashToken(token)
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.agents[c.byHash[h]]
	if !ok || a.Disabled {
		return engine.Agent{}, false
	}
	return a, true
}
