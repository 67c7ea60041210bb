package engine

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// LoginMode says who sees the chat tab (S1).
type LoginMode string

// Login modes.
const (
	LoginAll      LoginMode = "all"
	LoginLoggedIn LoginMode = "logged_in"
)

// Handoff targets of the AI agent (S10).
const (
	HandoffHelpdesk = "helpdesk"
	HandoffZendesk  = "zendesk"
	HandoffGorgias  = "gorgias"
	HandoffMessage  = "message"
)

// Settings is the store's configuration of Parley (C1–C7). Saving it applies at
// once to new sessions. Each section is replaced whole by an update.
type Settings struct {
	Webchat           WebchatSettings      `json:"webchat"`
	Links             LinkSettings         `json:"links"`
	OfficeHours       OfficeHours          `json:"office_hours"`
	AI                AISettings           `json:"ai"`
	Notifications     NotificationSettings `json:"notifications"`
	WaitingAlertAfter Duration             `json:"waiting_alert_after"`
	SMS               SMSSettings          `json:"sms"`
}

// WebchatSettings is C1.
type WebchatSettings struct {
	Enabled        bool      `json:"enabled"`
	LoginMode      LoginMode `json:"login_mode"`
	WelcomeMessage string    `json:"welcome_message"`
}

// LinkSettings is C2: shown before the shopper's first message (S5).
type LinkSettings struct {
	TermsURL   string `json:"terms_url"`
	PrivacyURL string `json:"privacy_url"`
}

// OfficeHours is C3. Weekly maps "mon".."sun" to [open, close] pairs "HH:MM".
type OfficeHours struct {
	Enabled     bool                   `json:"enabled"`
	TimeZone    string                 `json:"time_zone"`
	Weekly      map[string][][2]string `json:"weekly"`
	AwayMessage string                 `json:"away_message"`
}

// AISettings is C6.
type AISettings struct {
	Enabled        bool             `json:"enabled"`
	Handoff        string           `json:"handoff"`
	MinConfidence  float64          `json:"min_confidence"`
	HandoffMessage string           `json:"handoff_message"`
	LLM            *LLMSettings     `json:"llm,omitempty"`
	Zendesk        *ZendeskSettings `json:"zendesk,omitempty"`
	Gorgias        *GorgiasSettings `json:"gorgias,omitempty"`
}

// LLMSettings points the AI agent at an OpenAI-compatible API.
type LLMSettings struct {
	BaseURL string `json:"base_url"`
	Model   string `json:"model"`
	APIKey  string `json:"api_key"`
}

// ZendeskSettings are the credentials of the Zendesk handoff.
type ZendeskSettings struct {
	BaseURL  string `json:"base_url"`
	Email    string `json:"email"`
	APIToken string `json:"api_token"`
}

// GorgiasSettings are the credentials of the Gorgias handoff.
type GorgiasSettings struct {
	BaseURL  string `json:"base_url"`
	Username string `json:"username"`
	APIKey   string `json:"api_key"`
}

// NotificationSettings is C7.
type NotificationSettings struct {
	Email EmailSettings `json:"email"`
}

// EmailSettings configures new-ticket e-mails (H9).
type EmailSettings struct {
	Enabled bool         `json:"enabled"`
	To      []string     `json:"to"`
	From    string       `json:"from"`
	SMTP    SMTPSettings `json:"smtp"`
}

// SMTPSettings is where notification e-mail goes out.
type SMTPSettings struct {
	Addr     string `json:"addr"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// DefaultSettings is what a new store starts with: chat on for everyone, a
// friendly welcome, alerts after four minutes (H10's best practice is 3–5).
func DefaultSettings() Settings {
	return Settings{
		Webchat: WebchatSettings{Enabled: true, LoginMode: LoginAll, WelcomeMessage: "Hi! How can we help?"},
		OfficeHours: OfficeHours{TimeZone: "UTC", Weekly: map[string][][2]string{},
			AwayMessage: "We're away right now and will answer as soon as we're back."},
		AI:                AISettings{Handoff: HandoffHelpdesk, MinConfidence: 0.6},
		WaitingAlertAfter: Duration(4 * time.Minute),
		SMS:               SMSSettings{Provider: ProviderTwilio, BaseURL: "https://api.twilio.com"},
	}
}

// Masked is the settings as shown to clients: secrets are write-only.
func (s Settings) Masked() Settings {
	const mask = "********"
	m := func(v string) string {
		if v == "" {
			return ""
		}
		return mask
	}
	if s.AI.LLM != nil {
		c := *s.AI.LLM
		c.APIKey = m(c.APIKey)
		s.AI.LLM = &c
	}
	if s.AI.Zendesk != nil {
		c := *s.AI.Zendesk
		c.APIToken = m(c.APIToken)
		s.AI.Zendesk = &c
	}
	if s.AI.Gorgias != nil {
		c := *s.AI.Gorgias
		c.APIKey = m(c.APIKey)
		s.AI.Gorgias = &c
	}
	s.Notifications.Email.SMTP.Password = m(s.Notifications.Email.SMTP.Password)
	s.SMS.AuthToken = m(s.SMS.AuthToken)
	if s.Notifications.Email.To == nil {
		s.Notifications.Email.To = []string{} // a list, never null, for clients
	}
	if s.OfficeHours.Weekly == nil {
		s.OfficeHours.Weekly = map[string][][2]string{} // an object, never null
	}
	return s
}

var (
	weekdays  = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	clockRe   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
	addressRe = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)
)

// Validate checks every section and names the first field at fault.
func (s Settings) Validate() error {
	w := s.Webchat
	if w.LoginMode != LoginAll && w.LoginMode != LoginLoggedIn {
		return Invalid("webchat.login_mode", "must be %q or %q", LoginAll, LoginLoggedIn)
	}
	if utf8.RuneCountInString(w.WelcomeMessage) > MaxWelcomeRunes {
		return Invalid("webchat.welcome_message", "is longer than %d characters", MaxWelcomeRunes)
	}
	if err := optionalURL("links.terms_url", s.Links.TermsURL); err != nil {
		return err
	}
	if err := optionalURL("links.privacy_url", s.Links.PrivacyURL); err != nil {
		return err
	}
	if err := s.OfficeHours.validate(); err != nil {
		return err
	}
	if err := s.AI.validate(); err != nil {
		return err
	}
	if err := s.Notifications.Email.validate(); err != nil {
		return err
	}
	if s.WaitingAlertAfter < 0 || s.WaitingAlertAfter > 0 && s.WaitingAlertAfter < Duration(time.Second) {
		return Invalid("waiting_alert_after", "must be at least 1s, or 0s to turn alerts off")
	}
	return s.SMS.validate()
}

func (o OfficeHours) validate() error {
	// "Local" would follow the server's own zone, not the store's.
	if _, err := time.LoadLocation(o.TimeZone); err != nil || o.TimeZone == "" || o.TimeZone == "Local" {
		return Invalid("office_hours.time_zone", "unknown time zone %q", o.TimeZone)
	}
	for _, day := range slices.Sorted(maps.Keys(o.Weekly)) { // sorted: the same input, the same message
		if !contains(weekdays, day) {
			return Invalid("office_hours.weekly", "unknown day %q (use mon..sun)", day)
		}
	}
	for _, day := range weekdays { // in order, so the error names the first bad day
		for _, span := range o.Weekly[day] {
			if !clockRe.MatchString(span[0]) || !clockRe.MatchString(span[1]) {
				return Invalid("office_hours.weekly."+day, "times must be HH:MM")
			}
			if span[0] >= span[1] {
				return Invalid("office_hours.weekly."+day, "%s is not before %s", span[0], span[1])
			}
		}
	}
	return nil
}

func (a AISettings) validate() error {
	switch a.Handoff {
	case HandoffHelpdesk, HandoffZendesk, HandoffGorgias, HandoffMessage:
	default:
		return Invalid("ai.handoff", "must be helpdesk, zendesk, gorgias or message")
	}
	if !(a.MinConfidence >= 0 && a.MinConfidence <= 1) { // also refuses NaN
		return Invalid("ai.min_confidence", "must be between 0 and 1")
	}
	if a.LLM != nil {
		if err := requiredURL("ai.llm.base_url", a.LLM.BaseURL); err != nil {
			return err
		}
	}
	if a.Zendesk != nil {
		if err := requiredURL("ai.zendesk.base_url", a.Zendesk.BaseURL); err != nil {
			return err
		}
	}
	if a.Gorgias != nil {
		if err := requiredURL("ai.gorgias.base_url", a.Gorgias.BaseURL); err != nil {
			return err
		}
	}
	if a.Enabled && a.Handoff == HandoffZendesk {
		// Zendesk refuses a ticket without them for good: every handoff
		// would fall back to the Helpdesk.
		if a.Zendesk == nil {
			return Invalid("ai.zendesk", "is required for the zendesk handoff")
		}
		if err := required("ai.zendesk.email", a.Zendesk.Email, "Zendesk"); err != nil {
			return err
		}
		if err := required("ai.zendesk.api_token", a.Zendesk.APIToken, "Zendesk"); err != nil {
			return err
		}
	}
	if a.Enabled && a.Handoff == HandoffGorgias {
		if a.Gorgias == nil {
			return Invalid("ai.gorgias", "is required for the gorgias handoff")
		}
		if err := required("ai.gorgias.username", a.Gorgias.Username, "Gorgias"); err != nil {
			return err
		}
		if err := required("ai.gorgias.api_key", a.Gorgias.APIKey, "Gorgias"); err != nil {
			return err
		}
	}
	return nil
}

// required refuses an empty credential of the handoff to target.
func required(field, v, target string) error {
	if strings.TrimSpace(v) == "" {
		return Invalid(field, "is required for the %s handoff", target)
	}
	return nil
}

func (e EmailSettings) validate() error {
	for _, to := range e.To {
		if !addressRe.MatchString(to) {
			return Invalid("notifications.email.to", "%q is not an e-mail address", to)
		}
	}
	if e.From != "" && !addressRe.MatchString(e.From) {
		return Invalid("notifications.email.from", "is not an e-mail address")
	}
	if e.Enabled && (len(e.To) == 0 || e.From == "" || e.SMTP.Addr == "") {
		return Invalid("notifications.email", "to, from and smtp.addr are required when enabled")
	}
	return nil
}

func optionalURL(field, s string) error {
	if s == "" {
		return nil
	}
	return requiredURL(field, s)
}

func requiredURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\n") {
		return Invalid(field, "must be an http(s) URL")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ChatState is what a visitor may do with the chat (S1), as sent in `welcome`.
type ChatState struct {
	Enabled  bool   `json:"enabled"`   // the chat tab is shown
	CanStart bool   `json:"can_start"` // a live chat may be started
	Reason   string `json:"reason"`    // why not, when it may not
}

// Reasons a chat cannot be started.
const (
	ReasonDisabled      = "disabled"
	ReasonLoginRequired = "login_required"
)

// Chat decides what a visitor sees of the chat (S1): with web chat off there
// is no tab; with login_mode logged_in the tab is hidden from anonymous
// visitors; with all they see it and the FAQs but must log in to chat.
func (s Settings) Chat(loggedIn bool) ChatState {
	switch {
	case !s.Webchat.Enabled:
		return ChatState{Reason: ReasonDisabled}
	case loggedIn:
		return ChatState{Enabled: true, CanStart: true}
	case s.Webchat.LoginMode == LoginLoggedIn:
		return ChatState{Reason: ReasonLoginRequired}
	default:
		return ChatState{Enabled: true, Reason: ReasonLoginRequired}
	}
}
