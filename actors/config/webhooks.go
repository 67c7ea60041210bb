package config

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Webhooks returns the registered webhook endpoints, secrets included, by
// id. The slice is shared and never changed in place: read it only. It is
// read on every commit of a ticket, so it costs no copy.
func (c *Cache) Webhooks() []engine.Webhook {
	if p := c.webhooks.Load(); p != nil {
		return *p
	}
	return nil
}

// Webhook returns one endpoint by id, secret included.
func (c *Cache) Webhook(id string) (engine.Webhook, bool) {
	for _, w := range c.Webhooks() {
		if w.ID == id {
			return w, true
		}
	}
	return engine.Webhook{}, false
}

// CreateWebhook stores a new endpoint with its secret and returns it.
func (c *Cache) CreateWebhook(w engine.Webhook, now time.Time) (engine.Webhook, error) {
	if err := engine.ValidateWebhook(w); err != nil {
		return engine.Webhook{}, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hooks := c.Webhooks()
	if len(hooks) >= engine.MaxWebhooks {
		return engine.Webhook{}, engine.Errorf(engine.CodeConflict, "a store may have at most %d webhooks", engine.MaxWebhooks)
	}
	w.ID = "wh_" + strings.ToLower(engine.NewID(now))
	w.CreatedAt = now.UTC()
	w.Events = slices.Clone(w.Events)
	if err := c.store.PutWebhook(w); err != nil {
		return engine.Webhook{}, err
	}
	next := append(slices.Clone(hooks), w)
	slices.SortFunc(next, func(a, b engine.Webhook) int { return strings.Compare(a.ID, b.ID) })
	c.webhooks.Store(&next)
	return w, nil
}

// DeleteWebhook removes an endpoint; not_found if there is none.
func (c *Cache) DeleteWebhook(id string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hooks := c.Webhooks()
	i := slices.IndexFunc(hooks, func(w engine.Webhook) bool { return w.ID == id })
	if i < 0 {
		return engine.ErrNotFound
	}
	if err := c.store.DeleteWebhook(id); err != nil && !errors.Is(err, persist.ErrNotFound) {
		return err
	}
	next := slices.Delete(slices.Clone(hooks), i, i+1)
	c.webhooks.Store(&next)
	return nil
}
