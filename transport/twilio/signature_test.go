package twilio_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/transport/twilio"
)

// Twilio's worked example of webhook security, with auth token 12345.
// Twilio's pages have printed it with two sets of numbers over the years,
// and each signature goes with its own: GvWf1cFY… with +14158675310, the
// current page's; 0/KCTR6D… with +12349013030, the older one's. Both were
// also computed independently (openssl dgst -sha1 -hmac 12345 over the
// concatenated string).
const (
	docToken = "12345"
	docURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
)

func docParams(caller string) url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {caller},
		"Digits":  {"1234"},
		"From":    {caller},
		"To":      {"+18005551212"},
	}
}

func TestSignatureOfTwiliosExample(t *testing.T) {
	for _, tc := range []struct{ caller, want string }{
		{"+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="},
		{"+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
	} {
		form := docParams(tc.caller)
		if got := twilio.Signature(docToken, docURL, form); got != tc.want {
			t.Errorf("Signature with %s = %s; want %s", tc.caller, got, tc.want)
		}
		if !twilio.Valid(docToken, docURL, form, tc.want) {
			t.Errorf("Valid refuses Twilio's own example with %s", tc.caller)
		}
	}
}

func TestValidRefusesAnythingElse(t *testing.T) {
	const sig = "GvWf1cFY/Q7PnoempGyD5oXAezc="
	form := docParams("+14158675310")
	tampered := docParams("+14158675310")
	tampered.Set("Digits", "9999")
	extra := docParams("+14158675310")
	extra.Set("Body", "STOP")
	missing := docParams("+14158675310")
	missing.Del("Digits")
	for _, tc := range []struct {
		name, token, url string
		form             url.Values
		sig              string
	}{
		{"another token", "54321", docURL, form, sig},
		{"no token", "", docURL, form, sig},
		{"no signature", docToken, docURL, form, ""},
		{"a signature cut short", docToken, docURL, form, strings.TrimSuffix(sig, "=")},
		{"another signature", docToken, docURL, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"a changed parameter", docToken, docURL, tampered, sig},
		{"an added parameter", docToken, docURL, extra, sig},
		{"a missing parameter", docToken, docURL, missing, sig},
		{"another query", docToken, "https://mycompany.com/myapp.php?foo=1&bar=3", form, sig},
		{"another path", docToken, "https://mycompany.com/other.php?foo=1&bar=2", form, sig},
		{"http for https", docToken, "http://mycompany.com/myapp.php?foo=1&bar=2", form, sig},
		{"another host", docToken, "https://evil.example/myapp.php?foo=1&bar=2", form, sig},
		{"the query re-encoded", docToken, "https://mycompany.com/myapp.php?bar=2&foo=1", form, sig},
		{"a non-standard port", docToken, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", form, sig},
		{"the other scheme's port", docToken, "https://mycompany.com:80/myapp.php?foo=1&bar=2", form, sig},
	} {
		if twilio.Valid(tc.token, tc.url, tc.form, tc.sig) {
			t.Errorf("%s: Valid = true", tc.name)
		}
	}
}

// Twilio signs a URL sometimes with its standard port and sometimes
// without; its own validators accept both, and so does Valid.
func TestValidToleratesTheStandardPort(t *testing.T) {
	form := url.Values{"MessageSid": {"SM1"}, "Body": {"Hej"}, "From": {"+46701234567"}}
	for _, tc := range []struct {
		signed, received string
		valid            bool
	}{
		{"https://chat.acme.example/sms/in?s=1", "https://chat.acme.example:443/sms/in?s=1", true},
		{"https://chat.acme.example:443/sms/in?s=1", "https://chat.acme.example/sms/in?s=1", true},
		{"http://chat.acme.example/sms/in", "http://chat.acme.example:80/sms/in", true},
		{"http://chat.acme.example:80/sms/in", "http://chat.acme.example/sms/in", true},
		{"https://user:pw@chat.acme.example/sms/in", "https://user:pw@chat.acme.example:443/sms/in", true},
		{"https://chat.acme.example:443", "https://chat.acme.example", true},
		{"https://[2001:db8::1]/sms/in", "https://[2001:db8::1]:443/sms/in", true},
		{"HTTPS://chat.acme.example/sms/in", "HTTPS://chat.acme.example:443/sms/in", true},
		{"https://chat.acme.example:8443/sms/in", "https://chat.acme.example/sms/in", false},
		{"https://chat.acme.example/sms/in", "https://chat.acme.example:8443/sms/in", false},
		{"https://chat.acme.example:80/sms/in", "https://chat.acme.example/sms/in", false},
		{"http://chat.acme.example:443/sms/in", "http://chat.acme.example/sms/in", false},
		{"https://chat.acme.example/sms/in", "http://chat.acme.example:443/sms/in", false},
		// the port goes on the host, never into the path or the query
		{"https://chat.acme.example/sms/in?next=https://x.example/", "https://chat.acme.example:443/sms/in?next=https://x.example/", true},
		{"https://chat.acme.example/a:443", "https://chat.acme.example/a", false},
	} {
		sig := twilio.Signature("tok", tc.signed, form)
		if got := twilio.Valid("tok", tc.received, form, sig); got != tc.valid {
			t.Errorf("signed for %s, received at %s: Valid = %v; want %v", tc.signed, tc.received, got, tc.valid)
		}
	}
}

// A name sent more than once (MediaUrl, say) counts each value, sorted,
// as Twilio's libraries do; the order of the names does not matter.
func TestSignatureOfRepeatedNames(t *testing.T) {
	const u = "https://chat.acme.example/sms/in"
	a := url.Values{"To": {"+1"}, "MediaUrl": {"https://b.example/2", "https://a.example/1"}}
	b := url.Values{"MediaUrl": {"https://a.example/1", "https://b.example/2"}, "To": {"+1"}}
	if twilio.Signature("tok", u, a) != twilio.Signature("tok", u, b) {
		t.Error("the order of a name's values changes the signature")
	}
	// What is signed is the URL, then MediaUrl with each value in order, then To.
	want := twilio.Signature("tok", u+"MediaUrlhttps://a.example/1MediaUrlhttps://b.example/2To+1", nil)
	if got := twilio.Signature("tok", u, a); got != want {
		t.Errorf("Signature = %s; want %s", got, want)
	}
	if twilio.Signature("tok", u, url.Values{"To": {"+1"}, "MediaUrl": {"https://a.example/1"}}) == want {
		t.Error("a value left out leaves the signature alone")
	}
}

// The names are sorted, not the name-and-value strings: To comes before
// ToCity whatever its value.
func TestSignatureSortsByName(t *testing.T) {
	const u = "https://chat.acme.example/whatsapp/in"
	form := url.Values{"ToCity": {"STOCKHOLM"}, "To": {"whatsapp:+46766861004"}, "Body": {"Hej"}}
	want := twilio.Signature("tok", u+"BodyHejTowhatsapp:+46766861004ToCitySTOCKHOLM", nil)
	if got := twilio.Signature("tok", u, form); got != want {
		t.Errorf("Signature = %s; want %s", got, want)
	}
}

func FuzzValid(f *testing.F) {
	f.Add("12345", docURL, "CallSid", "CA1234567890ABCDE", "GvWf1cFY/Q7PnoempGyD5oXAezc=")
	f.Add("tok", "https://[::1]:443/x", "Body", "STOP", "")
	f.Add("tok", "http://h:/x", "", "", "x")
	f.Add("tok", "https://u@h@i/x?y#z", "A", "é", "==")
	f.Add("tok", "https://%zz/", "A", "b", "c")
	f.Fuzz(func(t *testing.T, token, fullURL, name, value, sig string) {
		form := url.Values{name: {value}}
		twilio.Valid(token, fullURL, form, sig) // never panics
		if token == "" {
			return
		}
		if !twilio.Valid(token, fullURL, form, twilio.Signature(token, fullURL, form)) {
			t.Errorf("Valid refuses its own signature of %q", fullURL)
		}
	})
}
