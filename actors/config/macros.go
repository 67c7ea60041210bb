package config

import (
	"errors"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Macros returns every macro, ordered by name. The slice is the caller's.
func (c *Cache) Macros() []engine.Macro {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]engine.Macro(nil), c.macros...)
}

// Macro returns one macro by id.
func (c *Cache) Macro(id string) (engine.Macro, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if i := macroIndex(c.macros, id); i >= 0 {
		return c.macros[i], true
	}
	return engine.Macro{}, false
}

// PutMacro creates (empty ID) or replaces a macro and returns it as stored;
// replacing one that does not exist is not_found. An invalid macro, or one
// that storage refused, changes nothing.
func (c *Cache) PutMacro(m engine.Macro, now time.Time) (engine.Macro, error) {
	if err := m.Validate(); err != nil {
		return engine.Macro{}, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	macros := c.Macros() // no writer but us: this stays current
	i := macroIndex(macros, m.ID)
	if m.ID == "" {
		m.ID = engine.NewID(now)
	} else if i < 0 {
		return engine.Macro{}, engine.ErrNotFound
	}
	m.UpdatedAt = now.UTC()
	if err := c.store.PutMacro(m); err != nil {
		return engine.Macro{}, err
	}
	if i >= 0 {
		macros[i] = m
	} else {
		macros = append(macros, m)
	}
	engine.SortMacros(macros)
	c.mu.Lock()
	c.macros = macros
	c.mu.Unlock()
	return m, nil
}

// DeleteMacro removes a macro; not_found if it does not exist.
func (c *Cache) DeleteMacro(id string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	macros := c.Macros()
	i := macroIndex(macros, id)
	if i < 0 {
		return engine.ErrNotFound
	}
	if err := c.store.DeleteMacro(id); err != nil && !errors.Is(err, persist.ErrNotFound) {
		return err
	}
	macros = append(macros[:i], macros[i+1:]...)
	c.mu.Lock()
	c.macros = macros
	c.mu.Unlock()
	return nil
}

func macroIndex(macros []engine.Macro, id string) int {
	for i, m := range macros {
		if id != "" && m.ID == id {
			return i
		}
	}
	return -1
}
