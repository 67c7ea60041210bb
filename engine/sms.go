package engine

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SMS providers.
const ProviderTwilio = "twilio"

// MaxSMSRunes is the longest text an SMS reply may have: the provider
// splits a longer text into segments and joins them on the phone, up to
// its own limit (Twilio: 1,600 characters).
const MaxSMSRunes = 1600

// SMSSettings is the SMS channel (I2): the provider account that receives
// the store's texts and sends the agents' answers.
type SMSSettings struct {
	Enabled    bool   `json:"enabled"`
	Provider   string `json:"provider"`
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token"`
	From       string `json:"from"`
	BaseURL    string `json:"base_url"`
}

// SMS is one text to send.
type SMS struct {
	To   string
	From string
	Body string
	// MediaURLs are pictures sent with it (MMS), reachable by the provider.
	MediaURLs []string
	// StatusCallback, when set, is where the provider reports what became
	// of the message (queued, sent, delivered, undelivered, failed).
	StatusCallback string
}

// SMSSender sends texts through a provider's API, from the outbox. key is
// the outbox entry's idempotency key; the answer is the provider's id of
// the message. Errors are sorted like every outbox target's: Permanent,
// RetryAfter, or plain (worth retrying).
type SMSSender interface {
	Send(ctx context.Context, s SMSSettings, key string, m SMS) (providerID string, err error)
}

// SMS delivery states, as the provider reports them and as a message's
// delivery event shows them.
const (
	SMSQueued      = "queued"
	SMSSent        = "sent"
	SMSDelivered   = "delivered"
	SMSUndelivered = "undelivered"
	SMSFailed      = "failed"
)

// Opt-out keywords of SMS (the carriers' and providers' standard ones): a
// text that is one of them, alone, stops or restarts the store's texts to
// that number.
var (
	smsStop  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
	smsStart = []string{"START", "UNSTOP", "YES", "OPTIN"}
)

// SMSKeyword reports whether text is an opt-out ("stop") or opt-in
// ("start") keyword, or neither ("").
func SMSKeyword(text string) string {
	w := strings.ToUpper(strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	switch {
	case contains(smsStop, w):
		return "stop"
	case contains(smsStart, w):
		return "start"
	}
	return ""
}

// validate checks the SMS section; a section turned on needs everything
// to send and to verify the provider's requests.
func (s SMSSettings) validate() error {
	if s.Provider != "" && s.Provider != ProviderTwilio {
		return Invalid("sms.provider", "must be %q", ProviderTwilio)
	}
	if err := optionalURL("sms.base_url", s.BaseURL); err != nil {
		return err
	}
	if s.From != "" {
		if p, ok := NormalizePhone(s.From); !ok || p == "" {
			return Invalid("sms.from", "must be a phone number with its country code, such as +46701234567")
		}
	}
	if utf8.RuneCountInString(s.AccountSID) > 64 || strings.ContainsAny(s.AccountSID, "/?#% \t\n") {
		return Invalid("sms.account_sid", "is not an account id")
	}
	if !s.Enabled {
		return nil
	}
	for _, f := range []struct{ field, v string }{
		{"sms.provider", s.Provider}, {"sms.account_sid", s.AccountSID},
		{"sms.auth_token", s.AuthToken}, {"sms.from", s.From},
	} {
		if strings.TrimSpace(f.v) == "" {
			return Invalid(f.field, "is required when SMS is enabled")
		}
	}
	return nil
}
