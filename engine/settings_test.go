package engine_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

func TestDefaultSettingsAreValid(t *testing.T) {
	if err := engine.DefaultSettings().Validate(); err != nil {
		t.Fatalf("DefaultSettings().Validate() = %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *engine.Settings)
		field string // "" means valid
	}{
		{"defaults", func(s *engine.Settings) {}, ""},
		{"login mode logged_in", func(s *engine.Settings) { s.Webchat.LoginMode = engine.LoginLoggedIn }, ""},
		{"login mode unknown", func(s *engine.Settings) { s.Webchat.LoginMode = "everyone" }, "webchat.login_mode"},
		{"login mode empty", func(s *engine.Settings) { s.Webchat.LoginMode = "" }, "webchat.login_mode"},
		{"welcome at the limit in runes", func(s *engine.Settings) {
			s.Webchat.WelcomeMessage = strings.Repeat("å", engine.MaxWelcomeRunes)
		}, ""},
		{"welcome too long", func(s *engine.Settings) {
			s.Webchat.WelcomeMessage = strings.Repeat("a", engine.MaxWelcomeRunes+1)
		}, "webchat.welcome_message"},
		{"links https", func(s *engine.Settings) {
			s.Links = engine.LinkSettings{TermsURL: "https://shop.example/terms", PrivacyURL: "http://shop.example/privacy"}
		}, ""},
		{"terms not http", func(s *engine.Settings) { s.Links.TermsURL = "javascript:alert(1)" }, "links.terms_url"},
		{"terms no host", func(s *engine.Settings) { s.Links.TermsURL = "https://" }, "links.terms_url"},
		{"terms relative", func(s *engine.Settings) { s.Links.TermsURL = "/terms" }, "links.terms_url"},
		{"privacy with a space", func(s *engine.Settings) { s.Links.PrivacyURL = "https://shop.example/pri vacy" }, "links.privacy_url"},
		{"privacy ftp", func(s *engine.Settings) { s.Links.PrivacyURL = "ftp://shop.example/privacy" }, "links.privacy_url"},
		{"office hours Stockholm", func(s *engine.Settings) {
			s.OfficeHours = engine.OfficeHours{Enabled: true, TimeZone: "Europe/Stockholm",
				Weekly: map[string][][2]string{"mon": {{"09:00", "12:00"}, {"13:00", "17:00"}}, "sat": {{"10:00", "24:00"}}}}
		}, ""},
		{"time zone unknown", func(s *engine.Settings) { s.OfficeHours.TimeZone = "Mars/Olympus" }, "office_hours.time_zone"},
		{"time zone empty", func(s *engine.Settings) { s.OfficeHours.TimeZone = "" }, "office_hours.time_zone"},
		// "Local" is the server's own zone to time.LoadLocation: the store's
		// office hours would move with the machine Parley runs on.
		{"time zone Local", func(s *engine.Settings) { s.OfficeHours.TimeZone = "Local" }, "office_hours.time_zone"},
		{"unknown day", func(s *engine.Settings) {
			s.OfficeHours.Weekly = map[string][][2]string{"monday": {{"09:00", "17:00"}}}
		}, "office_hours.weekly"},
		{"malformed time", func(s *engine.Settings) {
			s.OfficeHours.Weekly = map[string][][2]string{"tue": {{"9:00", "17:00"}}}
		}, "office_hours.weekly.tue"},
		{"hour 25", func(s *engine.Settings) {
			s.OfficeHours.Weekly = map[string][][2]string{"wed": {{"09:00", "25:00"}}}
		}, "office_hours.weekly.wed"},
		{"span backwards", func(s *engine.Settings) {
			s.OfficeHours.Weekly = map[string][][2]string{"thu": {{"17:00", "09:00"}}}
		}, "office_hours.weekly.thu"},
		{"empty span", func(s *engine.Settings) {
			s.OfficeHours.Weekly = map[string][][2]string{"fri": {{"09:00", "09:00"}}}
		}, "office_hours.weekly.fri"},
		{"handoff unknown", func(s *engine.Settings) { s.AI.Handoff = "freshdesk" }, "ai.handoff"},
		{"handoff message", func(s *engine.Settings) { s.AI.Handoff = engine.HandoffMessage }, ""},
		{"confidence below 0", func(s *engine.Settings) { s.AI.MinConfidence = -0.1 }, "ai.min_confidence"},
		{"confidence above 1", func(s *engine.Settings) { s.AI.MinConfidence = 1.01 }, "ai.min_confidence"},
		{"confidence 0 and 1", func(s *engine.Settings) { s.AI.MinConfidence = 1 }, ""},
		{"llm base url", func(s *engine.Settings) { s.AI.LLM = &engine.LLMSettings{BaseURL: "localhost:11434"} }, "ai.llm.base_url"},
		{"llm ok", func(s *engine.Settings) {
			s.AI.LLM = &engine.LLMSettings{BaseURL: "http://localhost:11434/v1", Model: "m", APIKey: "k"}
		}, ""},
		{"zendesk base url", func(s *engine.Settings) { s.AI.Zendesk = &engine.ZendeskSettings{BaseURL: ""} }, "ai.zendesk.base_url"},
		{"gorgias base url", func(s *engine.Settings) { s.AI.Gorgias = &engine.GorgiasSettings{BaseURL: "acme.gorgias.com"} }, "ai.gorgias.base_url"},
		{"zendesk handoff without zendesk", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffZendesk
		}, "ai.zendesk"},
		{"gorgias handoff without gorgias", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffGorgias
		}, "ai.gorgias"},
		{"zendesk handoff without an e-mail", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffZendesk
			s.AI.Zendesk = &engine.ZendeskSettings{BaseURL: "https://acme.zendesk.com", APIToken: "t"}
		}, "ai.zendesk.email"},
		{"zendesk handoff without a token", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffZendesk
			s.AI.Zendesk = &engine.ZendeskSettings{BaseURL: "https://acme.zendesk.com", Email: "a@acme.com", APIToken: " "}
		}, "ai.zendesk.api_token"},
		{"gorgias handoff without a username", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffGorgias
			s.AI.Gorgias = &engine.GorgiasSettings{BaseURL: "https://acme.gorgias.com", APIKey: "k"}
		}, "ai.gorgias.username"},
		{"gorgias handoff without a key", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffGorgias
			s.AI.Gorgias = &engine.GorgiasSettings{BaseURL: "https://acme.gorgias.com", Username: "u"}
		}, "ai.gorgias.api_key"},
		{"zendesk credentials kept while another handoff is used", func(s *engine.Settings) {
			s.AI.Enabled = true
			s.AI.Zendesk = &engine.ZendeskSettings{BaseURL: "https://acme.zendesk.com"}
		}, ""},
		{"zendesk handoff configured", func(s *engine.Settings) {
			s.AI.Enabled, s.AI.Handoff = true, engine.HandoffZendesk
			s.AI.Zendesk = &engine.ZendeskSettings{BaseURL: "https://acme.zendesk.com", Email: "a@acme.com", APIToken: "t"}
		}, ""},
		{"email to", func(s *engine.Settings) { s.Notifications.Email.To = []string{"team@example.com", "nobody"} }, "notifications.email.to"},
		{"email from", func(s *engine.Settings) { s.Notifications.Email.From = "parley at example.com" }, "notifications.email.from"},
		{"email enabled incomplete", func(s *engine.Settings) {
			s.Notifications.Email = engine.EmailSettings{Enabled: true, To: []string{"team@example.com"}, From: "parley@example.com"}
		}, "notifications.email"},
		{"email enabled complete", func(s *engine.Settings) {
			s.Notifications.Email = engine.EmailSettings{Enabled: true, To: []string{"team@example.com"}, From: "parley@example.com",
				SMTP: engine.SMTPSettings{Addr: "smtp.example.com:587"}}
		}, ""},
		{"alerts off", func(s *engine.Settings) { s.WaitingAlertAfter = 0 }, ""},
		{"alerts negative", func(s *engine.Settings) { s.WaitingAlertAfter = engine.Duration(-time.Second) }, "waiting_alert_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := engine.DefaultSettings()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate() = %v, want an *engine.Error naming %s", err, tt.field)
			}
			if e.Code != engine.CodeInvalid || e.Field != tt.field {
				t.Fatalf("Validate() = code %q field %q, want invalid %q", e.Code, e.Field, tt.field)
			}
		})
	}
}

func TestSettingsChat(t *testing.T) {
	with := func(enabled bool, mode engine.LoginMode) engine.Settings {
		s := engine.DefaultSettings()
		s.Webchat.Enabled, s.Webchat.LoginMode = enabled, mode
		return s
	}
	tests := []struct {
		name     string
		s        engine.Settings
		loggedIn bool
		want     engine.ChatState
	}{
		{"all, anonymous: tab shown, told to log in", with(true, engine.LoginAll), false,
			engine.ChatState{Enabled: true, CanStart: false, Reason: engine.ReasonLoginRequired}},
		{"all, logged in: may chat", with(true, engine.LoginAll), true,
			engine.ChatState{Enabled: true, CanStart: true}},
		{"logged_in, anonymous: no tab", with(true, engine.LoginLoggedIn), false,
			engine.ChatState{Enabled: false, CanStart: false, Reason: engine.ReasonLoginRequired}},
		{"logged_in, logged in: may chat", with(true, engine.LoginLoggedIn), true,
			engine.ChatState{Enabled: true, CanStart: true}},
		{"disabled, anonymous", with(false, engine.LoginAll), false,
			engine.ChatState{Reason: engine.ReasonDisabled}},
		{"disabled, logged in", with(false, engine.LoginLoggedIn), true,
			engine.ChatState{Reason: engine.ReasonDisabled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Chat(tt.loggedIn); got != tt.want {
				t.Fatalf("Chat(%t) = %+v, want %+v", tt.loggedIn, got, tt.want)
			}
		})
	}
}

func TestSettingsMasked(t *testing.T) {
	secrets := []string{"sk-llm-secret", "zd-token-secret", "gorgias-key-secret", "smtp-password-secret"}
	s := engine.DefaultSettings()
	s.AI.LLM = &engine.LLMSettings{BaseURL: "https://llm.example/v1", Model: "m", APIKey: secrets[0]}
	s.AI.Zendesk = &engine.ZendeskSettings{BaseURL: "https://acme.zendesk.com", Email: "a@acme.com", APIToken: secrets[1]}
	s.AI.Gorgias = &engine.GorgiasSettings{BaseURL: "https://acme.gorgias.com", Username: "u", APIKey: secrets[2]}
	s.Notifications.Email.SMTP = engine.SMTPSettings{Addr: "smtp.example.com:587", Username: "u", Password: secrets[3]}

	m := s.Masked()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		if strings.Contains(string(b), secret) {
			t.Errorf("Masked() JSON contains secret %q: %s", secret, b)
		}
	}
	if m.AI.LLM.APIKey == "" || m.AI.Zendesk.APIToken == "" || m.AI.Gorgias.APIKey == "" || m.Notifications.Email.SMTP.Password == "" {
		t.Errorf("Masked() blanked a set secret instead of masking it: %s", b)
	}
	// What is not secret is still shown.
	if m.AI.Zendesk.Email != "a@acme.com" || m.AI.LLM.BaseURL != "https://llm.example/v1" || m.Notifications.Email.SMTP.Username != "u" {
		t.Errorf("Masked() hid a setting that is not secret: %s", b)
	}
	// The original keeps its secrets: Masked copies what it changes.
	if s.AI.LLM.APIKey != secrets[0] || s.AI.Zendesk.APIToken != secrets[1] || s.AI.Gorgias.APIKey != secrets[2] ||
		s.Notifications.Email.SMTP.Password != secrets[3] {
		t.Errorf("Masked() changed the settings it was called on: %+v", s)
	}
	// An unset secret stays unset, so a client can tell "none" from "set".
	empty := engine.DefaultSettings()
	empty.AI.LLM = &engine.LLMSettings{BaseURL: "https://llm.example/v1"}
	if got := empty.Masked(); got.AI.LLM.APIKey != "" || got.Notifications.Email.SMTP.Password != "" {
		t.Errorf("Masked() of unset secrets = %+v, want them empty", got)
	}
}

func TestDurationJSON(t *testing.T) {
	for _, d := range []time.Duration{0, 90 * time.Second, 4 * time.Minute, 90 * time.Minute, 1500 * time.Millisecond} {
		b, err := json.Marshal(engine.Duration(d))
		if err != nil {
			t.Fatalf("Marshal(%v): %v", d, err)
		}
		var back engine.Duration
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if time.Duration(back) != d {
			t.Errorf("round trip of %v through %s = %v", d, b, time.Duration(back))
		}
	}
	for in, want := range map[string]time.Duration{`"90s"`: 90 * time.Second, `"4m"`: 4 * time.Minute, `"0s"`: 0, `"1h30m"`: 90 * time.Minute} {
		var d engine.Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{`240`, `"4"`, `"four minutes"`, `""`, `true`, `{}`, `"4m "`} {
		var d engine.Duration
		err := json.Unmarshal([]byte(in), &d)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.CodeInvalid || e.Field != "waiting_alert_after" {
			t.Errorf("Unmarshal(%s) = %v, want invalid waiting_alert_after", in, err)
		}
	}
	// Inside Settings, the field reads and writes as a string.
	var s engine.Settings
	if err := json.Unmarshal([]byte(`{"waiting_alert_after":"3m"}`), &s); err != nil || time.Duration(s.WaitingAlertAfter) != 3*time.Minute {
		t.Errorf("Settings.waiting_alert_after = %v, %v", time.Duration(s.WaitingAlertAfter), err)
	}
	b, _ := json.Marshal(s)
	if !strings.Contains(string(b), `"waiting_alert_after":"3m0s"`) {
		t.Errorf("Settings JSON = %s, want waiting_alert_after \"3m0s\"", b)
	}
}
