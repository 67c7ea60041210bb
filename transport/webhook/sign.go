package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery, named as Standard Webhooks names them. HTTP
// header names are case-insensitive; Go sends them as "Webhook-Id" and so
// on.
const (
	HeaderID        = "webhook-id"        // the message's id, the same on every attempt
	HeaderTimestamp = "webhook-timestamp" // the attempt's time, in Unix seconds
	HeaderSignature = "webhook-signature" // "v1,<base64>", space-separated if several
)

// SecretPrefix starts every secret, so that a secret can be recognised
// for what it is (in a leaked file, in a support ticket).
const SecretPrefix = "whsec_"

// Bounds of a secret's key, the bytes after SecretPrefix once
// base64-decoded, as Standard Webhooks sets them for HMAC-SHA256: at least
// 192 bits, at most 512.
const (
	MinKeyBytes = 24
	MaxKeyBytes = 64
)

// DefaultTolerance is how far from the receiver's clock a delivery's
// timestamp may be for Verify when it is given no tolerance: the five
// minutes Standard Webhooks' reference libraries use. Beyond it, a
// captured delivery can no longer be replayed.
const DefaultTolerance = 5 * time.Minute

// Errors of Sign and Verify. Verify wraps them with the details; test for
// them with errors.Is.
var (
	// ErrSecret: the secret is not "whsec_" and the standard base64 of
	// MinKeyBytes to MaxKeyBytes bytes.
	ErrSecret = errors.New("webhook: the secret is not whsec_ followed by the base64 of 24 to 64 bytes")
	// ErrID: a message id that is empty, has a full stop (which would
	// make "id.timestamp.body" ambiguous) or anything but visible ASCII.
	ErrID = errors.New("webhook: a message id must be visible ASCII without a full stop")
	// ErrHeaders: a delivery without webhook-id, webhook-timestamp or
	// webhook-signature, or with a timestamp that is not an integer.
	ErrHeaders = errors.New("webhook: missing or malformed webhook-id, webhook-timestamp or webhook-signature header")
	// ErrSignature: no v1 signature in webhook-signature matches.
	ErrSignature = errors.New("webhook: no signature matches")
	// ErrTimestamp: the signature matches, but the delivery was signed
	// further from now than the tolerance allows: a replay, or a clock
	// that is off.
	ErrTimestamp = errors.New("webhook: timestamp outside the tolerance")
)

// NewSecret returns a new endpoint secret: SecretPrefix and the standard
// base64 of MinKeyBytes random bytes, the 192 bits Standard Webhooks asks
// for at least. It fails only if the system's random source does.
func NewSecret() (string, error) {
	key := make([]byte, MinKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhook: making a secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// Sign returns the webhook-signature value of a delivery: "v1," and the
// standard base64 of HMAC-SHA256 over id, ".", ts in Unix seconds, "." and
// body, keyed with the secret's decoded bytes. The receiver must check it
// against body exactly as it arrived, byte for byte.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if !validID(id) {
		return "", ErrID
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

// Verify checks a delivery as its receiver got it: h its headers and body
// its raw bytes, read before any JSON decoding. It returns nil when one of
// the space-separated "v1," signatures in webhook-signature is the one
// secret makes (compared in constant time) and webhook-timestamp is within
// tolerance of now, before or after; a tolerance of 0 or less means
// DefaultTolerance. Otherwise it returns an error wrapping ErrSecret,
// ErrHeaders, ErrSignature or ErrTimestamp.
//
// A delivery that verifies may still be a repeat, of an attempt that
// succeeded without its answer reaching Parley: drop a webhook-id seen
// before.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := decodeSecret(secret)
	if err != nil {
		return err
	}
	id, sigs, rawTS := header(h, HeaderID), header(h, HeaderSignature), header(h, HeaderTimestamp)
	if id == "" || sigs == "" || rawTS == "" {
		return ErrHeaders
	}
	ts, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q is not Unix seconds", ErrHeaders, clip(rawTS))
	}
	want := mac(key, id, ts, body)
	matched := false
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // another scheme (v1a) or a later version: not ours to judge
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			matched = true
			break
		}
	}
	if !matched {
		return ErrSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	const maxSeconds = 1 << 40 // far beyond any clock; keeps the arithmetic below from overflowing
	if ts > maxSeconds || ts < -maxSeconds {
		return fmt.Errorf("%w: signed at %d, not a time", ErrTimestamp, ts)
	}
	if off := now.Sub(time.Unix(ts, 0)); off > tolerance || -off > tolerance {
		return fmt.Errorf("%w: signed %v from now, more than %v", ErrTimestamp, off.Round(time.Second), tolerance)
	}
	return nil
}

// header is the first value of h's field name, whatever the case of h's
// keys: net/http's server makes them canonical, but a header built from a
// serverless platform's event may keep them in lower case.
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// mac is HMAC-SHA256 of "id.ts.body" under key.
func mac(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// decodeSecret is the key of a "whsec_…" secret.
func decodeSecret(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return nil, ErrSecret
	}
	return key, nil
}

// validID reports whether id can go, as it is, into a header and into the
// signed "id.timestamp.body".
func validID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; b <= ' ' || b >= 0x7f || b == '.' {
			return false
		}
	}
	return true
}

// clip is s shortened for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
