package engine_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// settingsSections are the top-level JSON names of engine.Settings: every
// field an error names starts with one of them.
var settingsSections = []string{"webchat", "links", "office_hours", "ai", "notifications", "waiting_alert_after"}

// FuzzSettingsValidate decodes arbitrary JSON over the default settings with
// encoding/json, as the API does section by section. Validate never panics;
// a refusal is an invalid-input error naming a field of a known section, the
// same field every time; accepted settings survive a JSON round trip unchanged
// and still validate, masked or not.
func FuzzSettingsValidate(f *testing.F) {
	for _, s := range []string{
		`{"webchat":{"enabled":true,"login_mode":"logged_in","welcome_message":"Hej!"}}`,
		`{"links":{"terms_url":"https://shop.example/terms","privacy_url":"http://x.example"}}`,
		`{"office_hours":{"enabled":true,"time_zone":"Europe/Stockholm","weekly":{"mon":[["09:00","17:00"]],"sat":[["10:00","24:00"]]},"away_message":"Back at 9."}}`,
		`{"ai":{"enabled":true,"handoff":"zendesk","min_confidence":0.6,"zendesk":{"base_url":"https://acme.zendesk.com","email":"a@b.co","api_token":"t"}}}`,
		`{"ai":{"handoff":"helpdesk","llm":{"base_url":"https://llm.example/v1","model":"m","api_key":"k"}}}`,
		`{"notifications":{"email":{"enabled":true,"to":["team@example.com"],"from":"parley@example.com","smtp":{"addr":"smtp.example.com:587"}}}}`,
		`{"waiting_alert_after":"90s"}`,
		`{"webchat":{"login_mode":"everyone"}}`,
		`{"office_hours":{"time_zone":"Local"}}`,
		`{"office_hours":{"weekly":{"mon":[["17:00","09:00"]],"funday":[]}}}`,
		`{"ai":{"min_confidence":1.5}}`,
		`{"ai":{"enabled":true,"handoff":"gorgias"}}`,
		`{"links":{"terms_url":"javascript:alert(1)"}}`,
		`{"notifications":{"email":{"to":["not an address"]}}}`,
		`{"waiting_alert_after":"-1s"}`,
		`{"waiting_alert_after":"-2562047h47m16.854775808s"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s := engine.DefaultSettings()
		if json.Unmarshal([]byte(raw), &s) != nil {
			return
		}
		err := s.Validate()
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.CodeInvalid || e.Field == "" || e.Message == "" {
				t.Fatalf("Validate of %q = %#v: want an invalid error naming a field", raw, err)
			}
			section, _, _ := strings.Cut(e.Field, ".")
			if !slices.Contains(settingsSections, section) {
				t.Fatalf("Validate of %q names field %q, outside every section", raw, e.Field)
			}
			// The field is stable; the message may not be (it names one of
			// several unknown days, picked in map order).
			var again *engine.Error
			if !errors.As(s.Validate(), &again) || again.Code != e.Code || again.Field != e.Field {
				t.Fatalf("Validate of %q is not deterministic: %v then %v", raw, err, again)
			}
			return
		}
		if err := s.Masked().Validate(); err != nil {
			t.Fatalf("valid settings of %q fail once masked: %v", raw, err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("valid settings of %q do not encode: %v", raw, err)
		}
		var back engine.Settings
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("valid settings of %q encode to %s, which does not decode: %v", raw, b, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip of %q\n got %+v\nwant %+v", raw, back, s)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("round trip of %q no longer validates: %v", raw, err)
		}
	})
}

// FuzzDuration feeds arbitrary bytes to Duration.UnmarshalJSON. It agrees
// with time.ParseDuration on every JSON string, leaves the value alone on
// null and on a refusal, refuses with an invalid error naming
// waiting_alert_after, and what it accepts marshals back to the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{
		`"4m"`, `"90s"`, `"0s"`, `"1h2m3.5s"`, `"-1ns"`, `"2562047h47m16.854775807s"`,
		`"-2562047h47m16.854775808s"`, `"1.5µs"`, `null`, `"soon"`, `""`, `"9223372036854775808ns"`,
		`240000000000`, `"4m`, `true`, ` "4m" `, `"\u0034m"`,
	} {
		f.Add([]byte(s))
	}
	const before = engine.Duration(7 * time.Second)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := before
		err := d.UnmarshalJSON(b)

		// What it should do: null keeps the value, a JSON string is a Go
		// duration, and anything else is refused.
		want, wantOK := before, true
		if string(b) != "null" {
			var s string
			if json.Unmarshal(b, &s) != nil {
				wantOK = false
			} else if v, perr := time.ParseDuration(s); perr != nil {
				wantOK = false
			} else {
				want = engine.Duration(v)
			}
		}
		if (err == nil) != wantOK {
			t.Fatalf("UnmarshalJSON(%q) = %v, want ok=%v", b, err, wantOK)
		}
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.CodeInvalid || e.Field != "waiting_alert_after" {
				t.Fatalf("UnmarshalJSON(%q) = %#v: want invalid waiting_alert_after", b, err)
			}
			if d != before {
				t.Fatalf("refused %q changed the value to %v", b, time.Duration(d))
			}
			return
		}
		if d != want {
			t.Fatalf("UnmarshalJSON(%q) = %v, want %v", b, time.Duration(d), time.Duration(want))
		}
		out, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%v): %v", time.Duration(d), err)
		}
		var back engine.Duration
		if err := back.UnmarshalJSON(out); err != nil || back != d {
			t.Fatalf("%q marshals to %s, which reads back as %v, %v", b, out, time.Duration(back), err)
		}
	})
}
