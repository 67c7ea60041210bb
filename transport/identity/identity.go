// Package identity mints and verifies the store's identity tokens (PROTOCOL
// §1, S2): HS256 JSON Web Tokens whose `sub` is the shopper's profile id.
//
// The algorithm is pinned to HS256 and `exp` is required, so that a token
// signed with "none", with another algorithm, or without an expiry is never
// taken for a logged-in shopper. This package must never fall back to an
// anonymous visitor: an invalid token is an error, and the caller refuses it.
package identity

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/engine"
)

// Leeway is the clock skew allowed on `exp` and `nbf`.
const Leeway = 30 * time.Second

// ErrInvalid is wrapped by every error Verify returns.
var ErrInvalid = errors.New("identity: invalid token")

// claims are the claims Parley reads. Dates are strict NumericDates: a JSON
// number, never a string (the jwt library alone would accept "123").
type claims struct {
	Subject   string      `json:"sub"`
	Name      string      `json:"name,omitempty"`
	Email     string      `json:"email,omitempty"`
	ExpiresAt *strictDate `json:"exp,omitempty"`
	NotBefore *strictDate `json:"nbf,omitempty"`
	IssuedAt  *strictDate `json:"iat,omitempty"`
}

type strictDate struct{ jwt.NumericDate }

func (d *strictDate) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errors.New("a NumericDate must be a JSON number")
	}
	return d.NumericDate.UnmarshalJSON(b)
}

func (d *strictDate) date() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.date(), nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.date(), nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.date(), nil }
func (c *claims) GetIssuer() (string, error)                   { return "", nil }
func (c *claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// Mint returns an identity token for v that expires ttl after now. It is what
// a store's backend does; Parley uses it for `parley token` and the demo.
func Mint(secret []byte, v engine.Visitor, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("identity: empty secret")
	}
	if !engine.ValidProfileID(v.ProfileID) {
		return "", fmt.Errorf("identity: invalid profile id %q", v.ProfileID)
	}
	if ttl <= 0 {
		return "", errors.New("identity: ttl must be positive")
	}
	c := &claims{
		Subject: v.ProfileID, Name: v.Name, Email: v.Email,
		ExpiresAt: &strictDate{*jwt.NewNumericDate(now.Add(ttl))},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("identity: sign: %w", err)
	}
	return s, nil
}

// Verify checks token against secret at time now and returns the visitor it
// names. Any failure wraps ErrInvalid; the reason is for logs, not clients.
func Verify(secret []byte, token string, now time.Time) (engine.Visitor, error) {
	v, _, err := VerifyUntil(secret, token, now)
	return v, err
}

// VerifyUntil is Verify that also tells until when the token verifies: from
// that instant on (its expiry plus Leeway) it is refused.
func VerifyUntil(secret []byte, token string, now time.Time) (engine.Visitor, time.Time, error) {
	if len(secret) == 0 {
		return engine.Visitor{}, time.Time{}, fmt.Errorf("%w: no identity secret configured", ErrInvalid)
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var c claims
	_, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil })
	if err != nil {
		return engine.Visitor{}, time.Time{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !engine.ValidProfileID(c.Subject) {
		return engine.Visitor{}, time.Time{}, fmt.Errorf("%w: sub must be 1 to %d bytes of text without control characters", ErrInvalid, engine.MaxProfileIDBytes)
	}
	if !utf8.ValidString(c.Name) || !utf8.ValidString(c.Email) {
		return engine.Visitor{}, time.Time{}, fmt.Errorf("%w: name and email must be UTF-8", ErrInvalid)
	}
	v := engine.Visitor{ProfileID: c.Subject, Name: clip(c.Name), Email: clip(c.Email)}
	return v, c.ExpiresAt.Time.Add(Leeway), nil
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= engine.MaxNameRunes {
		return s
	}
	return string([]rune(s)[:engine.MaxNameRunes])
}
