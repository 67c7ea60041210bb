package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
)

// Defaults of Client and of the settings.
const (
	// DefaultBaseURL is where Twilio's REST API answers, used when the
	// settings' base_url is empty.
	DefaultBaseURL = "https://api.twilio.com"

	// DefaultTimeout bounds one attempt: see httpcall.DefaultTimeout.
	DefaultTimeout = httpcall.DefaultTimeout

	// IdempotencyHeader carries the outbox entry's key on every attempt
	// at one message. Twilio documents no idempotency for creating a
	// message and ignores it; see the package doc.
	IdempotencyHeader = "I-Twilio-Idempotency-Token"
)

// apiVersion is the root of Twilio's REST API for messages.
const apiVersion = "/2010-04-01"

// A Client sends texts through the Twilio account that the settings name
// (see engine.SMSSettings). The zero value is usable. A Client is safe for
// concurrent use as long as its fields do not change after the first call;
// it holds no state between calls but its HTTPClient's idle connections.
type Client struct {
	// Client sends the requests: its HTTPClient, Timeout (one attempt,
	// from the dial to the end of Twilio's answer; the context given to
	// Send may end it sooner) and Now (for Retry-After dates), each
	// defaulted as httpcall.Client says. Redirects are never followed.
	httpcall.Client
}

var _ engine.SMSSender = (*Client)(nil)

// Send asks Twilio to send m from the account of s, and returns the new
// message's sid ("SM…", or "MM…" with media) (engine.SMSSender). The text
// goes whole, however long: Twilio splits it into segments (see Segments)
// up to its limit of 1,600 characters, and refuses a longer one. m.From,
// when set, is the sender; otherwise s.From is. key is the outbox entry's
// idempotency key, sent as I-Twilio-Idempotency-Token; an empty key sends
// none. Send does not look at s.Enabled: whether a text may go is the
// caller's decision.
//
// An error wrapped by engine.Permanent (missing settings, a 4xx other
// than 408 and 429, such as an invalid number or an unsubscribed
// recipient, see IsUnsubscribed) is not worth retrying; one wrapped by
// engine.RetryAfter (a 429) asks for a wait; any other (a timeout, a 5xx)
// is worth retrying, and may send the text twice (see the package doc). An
// answer in Twilio's error format is an *Error. No error contains the auth
// token.
func (c *Client) Send(ctx context.Context, s engine.SMSSettings, key string, m engine.SMS) (string, error) {
	u, form, err := newMessage(s, m)
	if err != nil {
		return "", engine.Permanent(err)
	}
	h := http.Header{}
	if key != "" {
		h.Set(IdempotencyHeader, key)
	}
	body, err := c.Client.Post(ctx, httpcall.Request{
		Service:  "twilio",
		URL:      u,
		Username: s.AccountSID,
		Password: s.AuthToken,
		Header:   h,
		Form:     form,
	})
	if err != nil {
		return "", asTwilioError(err, s.AuthToken)
	}
	return messageSID(body)
}

// newMessage is where Create Message goes for s, and its parameters for m.
func newMessage(s engine.SMSSettings, m engine.SMS) (*url.URL, url.Values, error) {
	from := m.From
	if from == "" {
		from = s.From
	}
	switch {
	case s.Provider != "" && s.Provider != engine.ProviderTwilio:
		return nil, nil, fmt.Errorf("twilio: sms.provider is %q, not %q", s.Provider, engine.ProviderTwilio)
	case s.AccountSID == "":
		return nil, nil, errors.New("twilio: sms.account_sid is empty")
	case url.PathEscape(s.AccountSID) != s.AccountSID || s.AccountSID == "." || s.AccountSID == "..":
		// It goes into the path as one segment, as it is.
		return nil, nil, fmt.Errorf("twilio: sms.account_sid %q is not an account id", s.AccountSID)
	case s.AuthToken == "":
		return nil, nil, errors.New("twilio: sms.auth_token is empty")
	case from == "":
		return nil, nil, errors.New("twilio: no number to send from: sms.from is empty")
	case m.To == "":
		return nil, nil, errors.New("twilio: the text has no recipient")
	case m.Body == "" && len(m.MediaURLs) == 0:
		return nil, nil, errors.New("twilio: the text has neither a body nor media")
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := httpcall.Endpoint(base, apiVersion, "/Accounts/"+s.AccountSID+"/Messages.json")
	if err != nil {
		return nil, nil, fmt.Errorf("twilio: sms.base_url %w", err)
	}
	form := url.Values{"To": {m.To}, "From": {from}}
	if m.Body != "" {
		form.Set("Body", m.Body)
	}
	for _, media := range m.MediaURLs {
		form.Add("MediaUrl", media)
	}
	if m.StatusCallback != "" {
		form.Set("StatusCallback", m.StatusCallback)
	}
	return u, form, nil
}

// messageSID reads the new message's sid from Create Message's answer,
// {"sid": "SM…", "status": "queued", …}.
func messageSID(body []byte) (string, error) {
	var answer struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.SID != "" &&
		!strings.ContainsFunc(answer.SID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return answer.SID, nil
	}
	// The text was probably queued: a retry would only send it again.
	msg := httpcall.Message(body)
	if msg == "" {
		msg = "(an empty body)"
	}
	return "", engine.Permanent(fmt.Errorf("twilio: the answer has no sid: %s", msg))
}
