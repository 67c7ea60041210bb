package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// The outbox targets of the actor system.
const targetEmail = "email"

// newTicketNotice is the outbox entry that tells the agents of a ticket that
// its first customer message has just made (H9), or nothing when e-mail
// notifications are off. It goes in the batch of that message.
func (s *System) newTicketNotice(c *engine.Conversation, first engine.Event) []persist.OutboxEntry {
	if !s.Settings().Notifications.Email.Enabled {
		return nil
	}
	payload, err := json.Marshal(engine.NewTicketNotice{
		Ticket: c.ID, Channel: c.Channel, ProfileID: c.ProfileID, Name: c.ProfileName,
		Text: first.Text, At: first.At,
	})
	if err != nil {
		s.log.Error("new-ticket notice", slog.Any("err", err))
		return nil
	}
	now := s.cfg.Now()
	return []persist.OutboxEntry{{
		Key: persist.OutboxKey(c.ID, first.Seq, targetEmail), Target: targetEmail,
		Payload: payload, Created: now, NextAt: now,
	}}
}

// deliverEmail is the outbox's e-mail target: it sends a new-ticket notice
// with the e-mail settings as they are now (so a fixed SMTP password mends
// the retries), and the customer's e-mail as their profile has it now. With
// notifications turned off since, the notice is dropped.
func (s *System) deliverEmail(ctx context.Context, key string, payload []byte) error {
	settings := s.Settings().Notifications.Email
	if !settings.Enabled {
		s.log.Info("new-ticket notice dropped: e-mail notifications are off", slog.String("key", key))
		return nil
	}
	if s.cfg.Notifier == nil {
		return engine.Permanent(errors.New("no mailer is configured"))
	}
	var n engine.NewTicketNotice
	if err := json.Unmarshal(payload, &n); err != nil {
		return engine.Permanent(fmt.Errorf("new-ticket notice: %w", err))
	}
	if p, err := s.store.Profile(n.ProfileID); err == nil {
		n.Email = p.Email
		if p.Name != "" {
			n.Name = p.Name
		}
	} else if !errors.Is(err, persist.ErrNotFound) {
		return fmt.Errorf("profile of a new-ticket notice: %w", err)
	}
	return s.cfg.Notifier.NewTicket(ctx, settings, key, n)
}
