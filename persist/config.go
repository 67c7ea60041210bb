package persist

import (
	"fmt"

	"github.com/parley-chat/parley/engine"
)

// Settings returns the saved settings; false when they were never saved.
func (s *Store) Settings() (engine.Settings, bool, error) {
	var st engine.Settings
	found, err := s.getRecord([]byte(settingsKey), &st)
	return st, found, err
}

// PutSettings saves the settings durably.
func (s *Store) PutSettings(st engine.Settings) error {
	return s.putRecord([]byte(settingsKey), st)
}

// FAQs returns every FAQ and article, ordered by engine.SortFAQs.
func (s *Store) FAQs() ([]engine.FAQ, error) {
	var out []engine.FAQ
	err := s.scanRecords([]byte(faqPrefix), func(v []byte) error {
		var f engine.FAQ
		if err := decodeRecord(v, &f); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	engine.SortFAQs(out)
	return out, err
}

// PutFAQ creates or replaces an FAQ by id, durably.
func (s *Store) PutFAQ(f engine.FAQ) error {
	if f.ID == "" {
		return fmt.Errorf("persist: faq without id")
	}
	return s.putRecord(key(faqPrefix, f.ID), f)
}

// DeleteFAQ removes an FAQ durably; ErrNotFound if there is none.
func (s *Store) DeleteFAQ(id string) error {
	return s.deleteRecord(key(faqPrefix, id))
}

// Macros returns every macro, ordered by engine.SortMacros.
func (s *Store) Macros() ([]engine.Macro, error) {
	var out []engine.Macro
	err := s.scanRecords([]byte(macroPrefix), func(v []byte) error {
		var m engine.Macro
		if err := decodeRecord(v, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	engine.SortMacros(out)
	return out, err
}

// PutMacro creates or replaces a macro by id, durably.
func (s *Store) PutMacro(m engine.Macro) error {
	if m.ID == "" {
		return fmt.Errorf("persist: macro without id")
	}
	return s.putRecord(key(macroPrefix, m.ID), m)
}

// DeleteMacro removes a macro durably; ErrNotFound if there is none.
func (s *Store) DeleteMacro(id string) error {
	return s.deleteRecord(key(macroPrefix, id))
}

// Agents returns every agent, token hash included, ordered by id key.
func (s *Store) Agents() ([]engine.Agent, error) {
	var out []engine.Agent
	err := s.scanRecords([]byte(agentPrefix), func(v []byte) error {
		var r agentRecord
		if err := decodeRecord(v, &r); err != nil {
			return err
		}
		r.Agent.TokenHash = r.Hash
		out = append(out, r.Agent)
		return nil
	})
	return out, err
}

// PutAgent creates or replaces an agent durably, and in the same batch points
// its token hash at it (dropping the index entry of a replaced hash).
func (s *Store) PutAgent(a engine.Agent) error {
	if a.ID == "" {
		return fmt.Errorf("persist: agent without id")
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	k := key(agentPrefix, a.ID)
	var old agentRecord
	if _, err := s.getRecordLocked(k, &old); err != nil {
		return err
	}
	b := s.db.NewBatch()
	err := setRecord(b, k, agentRecord{a, a.TokenHash})
	if err == nil && old.Hash != "" && old.Hash != a.TokenHash {
		err = b.Delete(key(tokenPrefix, old.Hash), nil)
	}
	if err == nil && a.TokenHash != "" {
		err = b.Set(key(tokenPrefix, a.TokenHash), []byte(a.ID), nil)
	}
	if err != nil {
		b.Close()
		return err
	}
	return s.apply(b)
}

// AgentByTokenHash finds the agent holding a token; ErrNotFound if none.
func (s *Store) AgentByTokenHash(hash string) (engine.Agent, error) {
	if err := s.enter(); err != nil {
		return engine.Agent{}, err
	}
	defer s.leave()
	if hash == "" {
		return engine.Agent{}, ErrNotFound
	}
	id, found, err := s.get(key(tokenPrefix, hash))
	if err != nil || !found {
		if err == nil {
			err = ErrNotFound
		}
		return engine.Agent{}, err
	}
	var r agentRecord
	found, err = s.getRecordLocked(key(agentPrefix, string(id)), &r)
	if err != nil {
		return engine.Agent{}, err
	}
	if !found || r.Hash != hash { // a stale index entry never authenticates
		return engine.Agent{}, ErrNotFound
	}
	r.Agent.TokenHash = r.Hash
	return r.Agent, nil
}

// Meta returns a small named value (schema version, install id, …).
func (s *Store) Meta(k string) (string, bool, error) {
	if err := s.enter(); err != nil {
		return "", false, err
	}
	defer s.leave()
	v, found, err := s.get(key(metaPrefix, k))
	return string(v), found, err
}

// PutMeta saves a small named value durably.
func (s *Store) PutMeta(k, value string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	b := s.db.NewBatch()
	if err := b.Set(key(metaPrefix, k), []byte(value), nil); err != nil {
		b.Close()
		return err
	}
	return s.apply(b)
}

// getRecord reads one versioned JSON record; found is false when absent.
func (s *Store) getRecord(k []byte, v any) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.leave()
	return s.getRecordLocked(k, v)
}

// getRecordLocked is getRecord for a caller that has entered already.
func (s *Store) getRecordLocked(k []byte, v any) (bool, error) {
	raw, found, err := s.get(k)
	if err != nil || !found {
		return false, err
	}
	if err := decodeRecord(raw, v); err != nil {
		return false, fmt.Errorf("persist: %q: %w", k, err)
	}
	return true, nil
}

// putRecord writes one versioned JSON record durably.
func (s *Store) putRecord(k []byte, v any) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	b := s.db.NewBatch()
	if err := setRecord(b, k, v); err != nil {
		b.Close()
		return err
	}
	return s.apply(b)
}

// deleteRecord removes one record durably; ErrNotFound if there is none.
func (s *Store) deleteRecord(k []byte) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if _, found, err := s.get(k); err != nil || !found {
		if err == nil {
			err = ErrNotFound
		}
		return err
	}
	b := s.db.NewBatch()
	if err := b.Delete(k, nil); err != nil {
		b.Close()
		return err
	}
	return s.apply(b)
}

// scanRecords calls fn with the value of every key under prefix.
func (s *Store) scanRecords(prefix []byte, fn func(v []byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.scan(prefix, nil, false, func(k, v []byte) (bool, error) {
		if err := fn(v); err != nil {
			return false, fmt.Errorf("persist: %q: %w", k, err)
		}
		return true, nil
	})
}

// Webhooks returns every webhook endpoint, secrets included, by id.
func (s *Store) Webhooks() ([]engine.Webhook, error) {
	var out []engine.Webhook
	err := s.scanRecords([]byte(webhookPrefix), func(v []byte) error {
		var w engine.Webhook
		if err := decodeRecord(v, &w); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// PutWebhook creates or replaces a webhook endpoint by id, durably.
func (s *Store) PutWebhook(w engine.Webhook) error {
	if w.ID == "" {
		return fmt.Errorf("persist: webhook without id")
	}
	return s.putRecord(key(webhookPrefix, w.ID), w)
}

// DeleteWebhook removes a webhook endpoint durably; ErrNotFound if there
// is none.
func (s *Store) DeleteWebhook(id string) error {
	return s.deleteRecord(key(webhookPrefix, id))
}
