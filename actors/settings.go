package actors

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Settings returns the current settings. Saving applies at once (C1).
func (s *System) Settings() engine.Settings { return s.conf.Settings() }

// PutSettings validates and saves settings; an invalid value changes nothing.
// A setting that turns on a feature this server does not have yet is
// refused too, naming the field: a store must never believe that a switch
// it saved is doing something.
func (s *System) PutSettings(ctx context.Context, v engine.Settings) error {
	if p, ok := engine.NormalizePhone(v.SMS.From); ok {
		v.SMS.From = p // "+46 10-123 45 67" is texted from as +46101234567
	}
	if err := s.notServedYet(v, s.conf.Settings()); err != nil {
		return err
	}
	if err := s.conf.PutSettings(v); err != nil {
		return err
	}
	if !s.closed.Load() {
		s.actors.Root.Send(s.inbox, &settingsChanged{}) // alerts follow the new settings
	}
	return nil
}

// notServedYet refuses what this server cannot act on: a handoff to a
// helpdesk it has no client for, or a model it has none for, and
// notification e-mail when it was started without a mailer. Values already
// stored (by an older version) stay as they are.
func (s *System) notServedYet(next, cur engine.Settings) error {
	switch {
	case next.AI.Enabled && (next.AI.Handoff == engine.HandoffZendesk || next.AI.Handoff == engine.HandoffGorgias) &&
		s.cfg.Handoffs[next.AI.Handoff] == nil:
		return engine.Invalid("ai.handoff", "this server has no %s client", next.AI.Handoff)
	case next.AI.Enabled && next.AI.LLM != nil && s.cfg.Model == nil:
		return engine.Invalid("ai.llm", "this server has no model client")
	case next.Notifications.Email.Enabled && !cur.Notifications.Email.Enabled && s.cfg.Notifier == nil:
		return engine.Invalid("notifications.email.enabled", "this server has no mailer; leave it false")
	case next.SMS.Enabled && s.cfg.SMS == nil:
		return engine.Invalid("sms.enabled", "this server has no SMS client; leave it false")
	}
	return nil
}

// FAQs returns every FAQ and knowledge article, in order (C4).
func (s *System) FAQs() []engine.FAQ { return s.conf.FAQs() }

// FAQ returns one FAQ or article by id.
func (s *System) FAQ(id string) (engine.FAQ, bool) { return s.conf.FAQ(id) }

// PutFAQ creates (empty ID) or replaces an FAQ and returns it as stored.
func (s *System) PutFAQ(ctx context.Context, f engine.FAQ) (engine.FAQ, error) {
	return s.conf.PutFAQ(f, s.cfg.Now())
}

// DeleteFAQ removes an FAQ; not_found if it does not exist.
func (s *System) DeleteFAQ(ctx context.Context, id string) error { return s.conf.DeleteFAQ(id) }

// Agents lists every agent, disabled ones included (C8).
func (s *System) Agents() []engine.Agent { return s.conf.Agents() }

// Agent returns one agent by id.
func (s *System) Agent(id string) (engine.Agent, bool) { return s.conf.Agent(id) }

// CreateAgent stores a new agent and returns it with its API token. Only the
// token's hash is stored: this is the one time anyone sees the token.
func (s *System) CreateAgent(ctx context.Context, a engine.Agent) (engine.Agent, string, error) {
	return s.conf.CreateAgent(a, s.cfg.Now())
}

// DisableAgent disables an agent; their token stops working at once.
func (s *System) DisableAgent(ctx context.Context, id string) error { return s.conf.DisableAgent(id) }

// Authenticate returns the enabled agent whose API token this is.
func (s *System) Authenticate(token string) (engine.Agent, bool) { return s.conf.Authenticate(token) }

// Profile returns a customer profile with its latest events (I1, H4).
func (s *System) Profile(ctx context.Context, id string) (engine.Profile, error) {
	if !engine.ValidProfileID(id) {
		return engine.Profile{}, engine.ErrNotFound
	}
	p, err := s.store.Profile(id)
	if errors.Is(err, persist.ErrNotFound) {
		return engine.Profile{}, engine.ErrNotFound
	}
	if err != nil {
		return engine.Profile{}, storageError(s.log, "profile", err)
	}
	if p.Events, err = s.store.ProfileEvents(id, DefaultProfileEvents); err != nil {
		return engine.Profile{}, storageError(s.log, "profile events", err)
	}
	return p, nil
}
