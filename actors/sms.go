package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// targetSMS is the outbox target of agents' answers on SMS tickets (I2).
const targetSMS = "sms"

// InboundSMS is a text a customer sent the store's number, as the
// provider's webhook tells it (already verified).
type InboundSMS struct {
	From        string // the customer's number, as the provider writes it
	Text        string
	ProviderID  string // the provider's id of the message (Twilio's MessageSid)
	Attachments []engine.Attachment
}

// SMS notes in the ticket when a customer opts out or back in. The
// customer gets none of them: they are for the agents.
const (
	noteSMSStop  = "The customer texted STOP: no texts go to this number until they text START."
	noteSMSStart = "The customer texted START: texts to this number are allowed again."
)

// SMSInbound files a customer's text in their open SMS ticket, or opens
// one (I2, H8): the number finds the profile that has it, or makes one. A
// provider's retry of the same message is stored once (its id is the
// message's client_id). STOP and START are honoured and noted.
func (s *System) SMSInbound(ctx context.Context, in InboundSMS) (Posted, error) {
	phone, ok := engine.NormalizePhone(in.From)
	if !ok || phone == "" {
		return Posted{}, engine.Invalid("From", "is not a phone number with its country code")
	}
	if in.ProviderID == "" {
		return Posted{}, engine.Invalid("MessageSid", "is required")
	}
	profileID, found, err := s.store.ProfileByPhone(phone)
	if err != nil {
		return Posted{}, storageError(s.log, "profile by phone", err)
	}
	if !found {
		profileID = "tel:" + phone
	}
	keyword := engine.SMSKeyword(in.Text)
	cmd := &postCmd{Owner: profileID, Cmd: engine.PostMessage{
		From: engine.PartyShopper, AuthorID: profileID, Text: in.Text, Attachments: in.Attachments,
		ClientID: "sms:" + in.ProviderID, At: s.cfg.Now().UTC(),
	}}
	switch keyword {
	case "stop":
		cmd.Note = noteSMSStop
	case "start":
		cmd.Note = noteSMSStart
	}
	// Twice at most: an agent may close the ticket between the lookup and
	// the post; the second lookup opens a new one.
	for range 2 {
		r, err := s.profile(ctx, profileID, &smsOpenCmd{Phone: phone, Keyword: keyword})
		if err != nil {
			return Posted{}, err
		}
		cmd.Cmd.Author = r.Name
		res, err := s.conversation(ctx, r.Info.ID, cmd)
		if errors.Is(err, engine.ErrClosed) {
			continue
		}
		if err != nil {
			return Posted{}, err
		}
		return res.Posted, nil
	}
	return Posted{}, engine.Errorf(engine.CodeConflict, "the SMS ticket closed twice while the text was filed; try again")
}

// smsOpen makes sure the profile exists with the number, records an opt-out
// or opt-in, and returns its open SMS conversation, starting one if none
// is open.
func (a *profileActor) smsOpen(m *smsOpenCmd) *profileInfo {
	p, found, err := a.load()
	if err != nil {
		return &profileInfo{Err: err}
	}
	now := a.sys.cfg.Now().UTC()
	if !found || p.Phone == "" {
		p.Phone, p.UpdatedAt = m.Phone, now
		if err := a.sys.store.PutProfile(p); err != nil {
			return &profileInfo{Err: storageError(a.sys.log, "put profile", err)}
		}
	}
	if m.Keyword != "" {
		if err := a.sys.store.SetSMSOptOut(m.Phone, m.Keyword == "stop"); err != nil {
			return &profileInfo{Err: storageError(a.sys.log, "sms opt-out", err)}
		}
	}
	name := p.Name
	if name == "" {
		name = m.Phone
	}
	id, err := a.sys.store.OpenConversation(a.id, engine.ChannelSMS)
	if err != nil {
		return &profileInfo{Err: storageError(a.sys.log, "open conversation lookup", err)}
	}
	if id != "" {
		return &profileInfo{Info: &ConversationInfo{ID: id, Status: "open"}, Name: name}
	}
	id = engine.NewID(now)
	events, err := engine.NewConversation(id).Decide(engine.StartConversation{
		ProfileID: a.id, ProfileName: name, Channel: engine.ChannelSMS, At: now,
	})
	if err != nil {
		return &profileInfo{Err: err}
	}
	err = a.sys.store.Append(context.Background(), persist.Commit{
		Conversation: id, Events: events,
		Open: &persist.OpenPointer{ProfileID: a.id, Channel: engine.ChannelSMS, Conversation: id},
	})
	if err != nil {
		return &profileInfo{Err: storageError(a.sys.log, "start SMS conversation", err)}
	}
	a.sys.metrics.sessions.Inc()
	return &profileInfo{Info: &ConversationInfo{ID: id, Status: "open", LastSeq: 1}, Created: true, Name: name}
}

// smsPayload is an agent's answer to send by SMS.
type smsPayload struct {
	Conversation string              `json:"conversation"`
	Seq          uint64              `json:"seq"`
	To           string              `json:"to"`
	Text         string              `json:"text"`
	Attachments  []engine.Attachment `json:"attachments,omitempty"`
}

// smsEntries are the outbox entries that text what a commit says to the
// customer of an SMS ticket: an agent's message, and the away notice
// (S9). An agent's message to a number that texted STOP, or to a customer
// without a number, is refused; an away notice to it is not sent.
func (a *conversationActor) smsEntries(events []engine.Event) ([]persist.OutboxEntry, error) {
	if a.conv.Channel != engine.ChannelSMS {
		return nil, nil
	}
	var texts []engine.Event
	agent := false
	for _, e := range events {
		switch {
		case e.Kind != engine.KindMessage:
		case e.From == engine.PartyAgent:
			texts, agent = append(texts, e), true
		case e.From == engine.PartySystem && !e.AwayUntil.IsZero():
			texts = append(texts, e)
		}
	}
	if len(texts) == 0 {
		return nil, nil
	}
	p, err := a.sys.store.Profile(a.conv.ProfileID)
	if err != nil && !errors.Is(err, persist.ErrNotFound) {
		return nil, storageError(a.sys.log, "profile of an SMS ticket", err)
	}
	out := false
	if p.Phone != "" {
		if out, err = a.sys.store.SMSOptedOut(p.Phone); err != nil {
			return nil, storageError(a.sys.log, "sms opt-out", err)
		}
	}
	switch {
	case agent && p.Phone == "":
		return nil, engine.Errorf(engine.CodeConflict, "the customer has no phone number to text")
	case agent && out:
		return nil, engine.Errorf(engine.CodeConflict, "The customer texted STOP: no texts go to %s until they text START.", p.Phone)
	case p.Phone == "" || out:
		return nil, nil
	}
	now := a.sys.cfg.Now()
	entries := make([]persist.OutboxEntry, 0, len(texts))
	for _, e := range texts {
		payload, _ := json.Marshal(smsPayload{Conversation: a.id, Seq: e.Seq, To: p.Phone, Text: e.Text, Attachments: e.Attachments})
		entries = append(entries, persist.OutboxEntry{Key: persist.OutboxKey(a.id, e.Seq, targetSMS), Target: targetSMS,
			Payload: payload, Created: now, NextAt: now})
	}
	return entries, nil
}

// deliverSMS sends an agent's answer through the provider, with the SMS
// settings as they are now, then records that the provider took it.
func (s *System) deliverSMS(ctx context.Context, key string, payload []byte) error {
	settings := s.Settings().SMS
	switch {
	case s.cfg.SMS == nil:
		return engine.Permanent(errors.New("this server has no SMS client"))
	case !settings.Enabled:
		return engine.Permanent(errors.New("SMS is turned off in the settings"))
	}
	var p smsPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return engine.Permanent(fmt.Errorf("sms entry: %w", err))
	}
	if out, err := s.store.SMSOptedOut(p.To); err != nil {
		return err
	} else if out {
		return engine.Permanent(fmt.Errorf("%s texted STOP", p.To))
	}
	m := engine.SMS{To: p.To, From: settings.From, Body: p.Text}
	for _, a := range p.Attachments {
		m.MediaURLs = append(m.MediaURLs, a.URL)
	}
	if s.cfg.SMSCallback != nil {
		m.StatusCallback = s.cfg.SMSCallback(p.Conversation, p.Seq)
	}
	if _, err := s.cfg.SMS.Send(ctx, settings, key, m); err != nil {
		return err
	}
	s.metrics.smsSent.Inc()
	// The text is out: a report that cannot be stored now is not worth
	// sending it again for (the provider's own reports follow).
	_ = s.report(ctx, p.Conversation, p.Seq, engine.SMSQueued, "")
	return nil
}

// smsFailed records on the message that it could not be sent, and why.
func (s *System) smsFailed(ctx context.Context, _ string, payload []byte, cause error) error {
	var p smsPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil
	}
	msg := "not sent"
	if cause != nil {
		msg = cause.Error()
	}
	return s.report(ctx, p.Conversation, p.Seq, engine.SMSFailed, msg)
}

// SMSStatus records a provider's delivery report of an agent's message on
// an SMS ticket (I2). Providers report a message's states one by one.
func (s *System) SMSStatus(ctx context.Context, conversation string, seq uint64, status, errText string) error {
	status = strings.ToLower(status)
	switch status {
	case "accepted", "scheduled", "queued", "sending":
		status = engine.SMSQueued
	case "sent", "delivered", "undelivered", "failed":
	default:
		return nil // read, canceled, …: nothing an agent acts on
	}
	return s.report(ctx, conversation, seq, status, errText)
}

func (s *System) report(ctx context.Context, conversation string, seq uint64, status, errText string) error {
	_, err := s.conversation(ctx, conversation, &deliveryCmd{Cmd: engine.ReportDelivery{
		Of: seq, Status: status, Error: errText, At: s.cfg.Now().UTC()}})
	if err != nil && engine.ErrorCode(err) != engine.CodeNotFound {
		s.log.Warn("SMS delivery report", slog.String("conversation", conversation), slog.Any("err", err))
	}
	return err
}

// delivery stores a delivery report of one of the conversation's messages
// in its ticket: agents alone see it.
func (a *conversationActor) delivery(ctx actor.Context, m *deliveryCmd) {
	tevents, err := a.ticket.DecideDelivery(a.conv, m.Cmd)
	if err == nil && len(tevents) > 0 {
		_, err = a.commit(ctx, nil, tevents)
	}
	a.respond(ctx, &result{Row: a.row(), Err: err})
}
