package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/transport/webhook"
)

// The test vector of Standard Webhooks' reference libraries
// (libraries/go/webhook_test.go, TestWebhookSign).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(1614265330, 0)

func TestSignMatchesTheReferenceVector(t *testing.T) {
	got, err := webhook.Sign(vectorSecret, vectorID, vectorTime, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Errorf("Sign = %s; want %s", got, vectorSignature)
	}
	// Only the whole seconds are signed, as the header carries them.
	if got, _ := webhook.Sign(vectorSecret, vectorID, vectorTime.Add(999*time.Millisecond), []byte(vectorBody)); got != vectorSignature {
		t.Errorf("Sign a fraction of a second later = %s; want %s", got, vectorSignature)
	}
}

// vectorHeader is the delivery of the reference vector.
func vectorHeader() http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.FormatInt(vectorTime.Unix(), 10))
	h.Set("webhook-signature", vectorSignature)
	return h
}

func TestVerify(t *testing.T) {
	otherSecret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		secret    string
		change    func(h http.Header)
		body      string
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "the reference delivery"},
		{name: "received within the tolerance", now: vectorTime.Add(5 * time.Minute)},
		{name: "received a little early (clocks differ)", now: vectorTime.Add(-5 * time.Minute)},
		{name: "several signatures, one valid (a secret being rotated)", change: func(h http.Header) {
			h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,AAAA v2,"+
				strings.TrimPrefix(vectorSignature, "v1,")+"  "+vectorSignature+" v1,not-base64")
		}},
		{name: "header names in any case", change: func(h http.Header) {
			for k, v := range h {
				delete(h, k)
				h[strings.ToLower(k)] = v // as a serverless platform's event has them
			}
		}},

		{name: "wrong secret", secret: otherSecret, want: webhook.ErrSignature},
		{name: "tampered body", body: `{"test": 2432232315}`, want: webhook.ErrSignature},
		{name: "body re-encoded", body: `{"test":2432232314}`, want: webhook.ErrSignature},
		{name: "another id", change: func(h http.Header) { h.Set("webhook-id", "msg_other") }, want: webhook.ErrSignature},
		{name: "timestamp changed to look fresh", now: vectorTime.Add(time.Hour), change: func(h http.Header) {
			h.Set("webhook-timestamp", strconv.FormatInt(vectorTime.Add(time.Hour).Unix(), 10))
		}, want: webhook.ErrSignature},
		{name: "only a signature of another scheme", change: func(h http.Header) {
			h.Set("webhook-signature", "v2,"+strings.TrimPrefix(vectorSignature, "v1,"))
		}, want: webhook.ErrSignature},
		{name: "signature without its version", change: func(h http.Header) {
			h.Set("webhook-signature", strings.TrimPrefix(vectorSignature, "v1,"))
		}, want: webhook.ErrSignature},

		{name: "old timestamp (a replay)", now: vectorTime.Add(5*time.Minute + time.Second), want: webhook.ErrTimestamp},
		{name: "timestamp from the future", now: vectorTime.Add(-5*time.Minute - time.Second), want: webhook.ErrTimestamp},
		{name: "a tolerance of its own", now: vectorTime.Add(2 * time.Minute), tolerance: time.Minute, want: webhook.ErrTimestamp},

		{name: "missing webhook-id", change: func(h http.Header) { h.Del("webhook-id") }, want: webhook.ErrHeaders},
		{name: "missing webhook-timestamp", change: func(h http.Header) { h.Del("webhook-timestamp") }, want: webhook.ErrHeaders},
		{name: "missing webhook-signature", change: func(h http.Header) { h.Del("webhook-signature") }, want: webhook.ErrHeaders},
		{name: "timestamp in milliseconds' clothing", change: func(h http.Header) { h.Set("webhook-timestamp", "1614265330.5") }, want: webhook.ErrHeaders},
		{name: "timestamp as a date", change: func(h http.Header) { h.Set("webhook-timestamp", "Thu, 25 Feb 2021 15:02:10 GMT") }, want: webhook.ErrHeaders},

		{name: "secret without its prefix", secret: strings.TrimPrefix(vectorSecret, "whsec_"), want: webhook.ErrSecret},
		{name: "secret that is not base64", secret: "whsec_not base64!", want: webhook.ErrSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret, body, now := vectorSecret, vectorBody, vectorTime
			if tc.secret != "" {
				secret = tc.secret
			}
			if tc.body != "" {
				body = tc.body
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			h := vectorHeader()
			if tc.change != nil {
				tc.change(h)
			}
			err := webhook.Verify(secret, h, []byte(body), now, tc.tolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v; want %v", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") || strings.Contains(err.Error(), secret)) {
				t.Errorf("the error quotes the secret: %v", err)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webhook.NewSecret()
	if a == b {
		t.Fatalf("two secrets are the same: %s", a)
	}
	enc, ok := strings.CutPrefix(a, "whsec_")
	if !ok {
		t.Fatalf("secret %q does not start with whsec_", a)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) != 24 {
		t.Fatalf("secret %q: %d bytes, %v; want 24 bytes of standard base64", a, len(key), err)
	}
	sig, err := webhook.Sign(a, "msg_1", vectorTime, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(vectorTime.Unix(), 10))
	h.Set("webhook-signature", sig)
	if err := webhook.Verify(a, h, []byte(`{}`), vectorTime, 0); err != nil {
		t.Errorf("a new secret's own signature does not verify: %v", err)
	}
}

func TestSignRefuses(t *testing.T) {
	key := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tc := range []struct {
		secret, id string
		want       error
	}{
		{key(24), "msg_1", nil},
		{key(64), "msg_1", nil},
		{key(23), "msg_1", webhook.ErrSecret}, // under the 192 bits Standard Webhooks asks for
		{key(65), "msg_1", webhook.ErrSecret},
		{"", "msg_1", webhook.ErrSecret},
		{"whsec_" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)) + "!", "msg_1", webhook.ErrSecret},
		{key(24), "", webhook.ErrID},
		{key(24), "msg.1", webhook.ErrID}, // "msg.1.1614265330.body" could be "msg" at "1.1614265330"
		{key(24), "msg 1", webhook.ErrID},
		{key(24), "msg_1\r\nX-Injected: 1", webhook.ErrID},
		{key(24), "msg_é", webhook.ErrID},
		{key(24), strings.Repeat("m", 257), webhook.ErrID},
	} {
		_, err := webhook.Sign(tc.secret, tc.id, vectorTime, []byte(`{}`))
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Sign(%.20q, %.20q) = %v; want %v", tc.secret, tc.id, err, tc.want)
		}
	}
}

// FuzzVerify feeds Verify the headers and body a stranger can send: it
// must never panic, never accept a body other than the one signed, and
// always accept the one signed.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, strconv.FormatInt(vectorTime.Unix(), 10), vectorSignature, vectorBody)
	f.Add("", "", "", "")
	f.Add("x", "-9223372036854775808", "v1,", "{}")
	f.Add("x", "9223372036854775807", "v1,,v1 v1a,=", "{}")
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		err := webhook.Verify(vectorSecret, h, []byte(body), vectorTime, 0)
		if err == nil && body != vectorBody && id == vectorID && ts == strconv.FormatInt(vectorTime.Unix(), 10) {
			t.Fatalf("Verify accepted a body that was not signed: %q", body)
		}
		if err == nil {
			return
		}
		if good, err := webhook.Sign(vectorSecret, id, time.Unix(1614265330, 0), []byte(body)); err == nil {
			h.Set("webhook-timestamp", "1614265330")
			h.Set("webhook-signature", sig+" "+good)
			if err := webhook.Verify(vectorSecret, h, []byte(body), vectorTime, 0); err != nil {
				t.Fatalf("Verify refused its own signature among others: %v", err)
			}
		}
	})
}
