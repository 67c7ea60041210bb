package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

var (
	secret = []byte("store-secret")
	now    = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

func b64(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign builds a token by hand, so that tests can forge what a library refuses to mint.
func sign(header, claims map[string]any, key []byte, h func() hash.Hash) string {
	in := b64(header) + "." + b64(claims)
	if h == nil {
		return in + "."
	}
	m := hmac.New(h, key)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func hs256(claims map[string]any) string {
	return sign(map[string]any{"alg": "HS256", "typ": "JWT"}, claims, secret, sha256.New)
}

func TestMintVerifyRoundTrip(t *testing.T) {
	v := engine.Visitor{ProfileID: "cust_42", Name: "Ada Lovelace", Email: "ada@example.com"}
	tok, err := Mint(secret, v, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(secret, tok, now.Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != v {
		t.Fatalf("got %+v, want %+v", got, v)
	}
	if _, err := Mint(nil, v, time.Hour, now); err == nil {
		t.Fatal("Mint with an empty secret succeeded")
	}
	if _, err := Mint(secret, engine.Visitor{ProfileID: "a\nb"}, time.Hour, now); err == nil {
		t.Fatal("Mint with a bad profile id succeeded")
	}
}

func TestVerify(t *testing.T) {
	exp := now.Add(time.Hour).Unix()
	valid := map[string]any{"sub": "p1", "name": "Ada", "email": "ada@example.com", "exp": exp}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range valid {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	good := hs256(valid)
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", good, true},
		{"within leeway", hs256(with("exp", now.Add(-20*time.Second).Unix())), true},
		{"forged signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("not the signature at all....")), false},
		{"other secret", sign(map[string]any{"alg": "HS256"}, valid, []byte("other"), sha256.New), false},
		{"tampered claims", parts[0] + "." + b64(with("sub", "p2")) + "." + parts[2], false},
		{"expired past leeway", hs256(with("exp", now.Add(-31*time.Second).Unix())), false},
		{"expired long ago", hs256(with("exp", now.Add(-time.Hour).Unix())), false},
		{"no exp", hs256(with("exp", nil)), false},
		{"exp as string", hs256(with("exp", "9999999999")), false},
		{"alg none", sign(map[string]any{"alg": "none", "typ": "JWT"}, valid, nil, nil), false},
		{"alg none with signature", sign(map[string]any{"alg": "none"}, valid, secret, sha256.New), false},
		{"HS512", sign(map[string]any{"alg": "HS512", "typ": "JWT"}, valid, secret, sha512.New), false},
		{"RS256 header", sign(map[string]any{"alg": "RS256", "typ": "JWT"}, valid, secret, sha256.New), false},
		{"malformed", "not.a.jwt", false},
		{"empty", "", false},
		{"two parts", parts[0] + "." + parts[1], false},
		{"missing sub", hs256(with("sub", nil)), false},
		{"empty sub", hs256(with("sub", "")), false},
		{"sub with a control character", hs256(with("sub", "p1\x00")), false},
		{"sub with a line break", hs256(with("sub", "p1\nadmin")), false},
		{"sub too long", hs256(with("sub", strings.Repeat("a", 129))), false},
		{"sub a number", hs256(with("sub", 42)), false},
		{"nbf in future", hs256(with("nbf", now.Add(time.Hour).Unix())), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Verify(secret, tt.token, now)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if v.ProfileID != "p1" || v.Name != "Ada" || v.Email != "ada@example.com" {
					t.Fatalf("visitor %+v", v)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted %q as %+v", tt.token, v)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if v != (engine.Visitor{}) {
				t.Fatalf("a refused token still named a visitor: %+v", v)
			}
		})
	}
}

// A store's own customer ids are opaque: e-mail addresses, URIs and any
// text without control characters are profile ids.
func TestVerifyOpaqueSubjects(t *testing.T) {
	for _, sub := range []string{"ada@example.com", "gid://shopify/Customer/7", "Åsa Öberg", "42", strings.Repeat("x", 128)} {
		v, err := Verify(secret, hs256(map[string]any{"sub": sub, "exp": now.Add(time.Hour).Unix()}), now)
		if err != nil || v.ProfileID != sub {
			t.Errorf("sub %q: %+v %v", sub, v, err)
		}
		tok, err := Mint(secret, engine.Visitor{ProfileID: sub}, time.Hour, now)
		if err != nil {
			t.Errorf("Mint with sub %q: %v", sub, err)
		} else if v, err := Verify(secret, tok, now); err != nil || v.ProfileID != sub {
			t.Errorf("minted sub %q: %+v %v", sub, v, err)
		}
	}
}

func TestVerifyNoSecret(t *testing.T) {
	if _, err := Verify(nil, hs256(map[string]any{"sub": "p1", "exp": now.Add(time.Hour).Unix()}), now); err == nil {
		t.Fatal("Verify without a secret accepted a token")
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(hs256(map[string]any{"sub": "p1", "exp": now.Add(time.Hour).Unix()}))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		v, err := Verify(secret, tok, now)
		if err == nil && !engine.ValidProfileID(v.ProfileID) {
			t.Fatalf("accepted invalid sub %q", v.ProfileID)
		}
	})
}
