package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// SignatureHeader is the header in which Twilio sends a request's
// signature to a webhook.
const SignatureHeader = "X-Twilio-Signature"

// Signature is the signature Twilio gives a request it sends to fullURL
// with the POST parameters form, signed with the account's auth token:
// base64(HMAC-SHA1(authToken, fullURL + name₁ + value₁ + name₂ + value₂
// …)), the names in byte order and a repeated name's values in byte order,
// as Twilio documents it and as its Python library does. (Its Node library
// also drops a value repeated under one name; its Go library sorts the
// name-and-value strings instead, which differs when one name begins
// another, such as To and ToCity, and the shorter name's value sorts after
// the rest of the longer name, as "whatsapp:…" does after "City".)
// fullURL is the URL as Twilio requested it, query included, exactly as
// written in the webhook's settings; form holds the parameters of an
// application/x-www-form-urlencoded body, and nothing else (not the
// query). See Valid.
func Signature(authToken, fullURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, fullURL)
	for _, name := range slices.Sorted(maps.Keys(form)) {
		values := slices.Clone(form[name])
		slices.Sort(values)
		for _, v := range values {
			io.WriteString(mac, name)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether signature, the X-Twilio-Signature header of a
// request to fullURL with the POST parameters form, is the one Twilio
// makes with authToken (see Signature). It compares in constant time.
//
// Like Twilio's own validators, it also accepts the signature of fullURL
// with the scheme's standard port added (https://host:443/…,
// http://host:80/…) when fullURL has none, and without it when fullURL has
// it, since Twilio signs one or the other. Another port is never dropped.
//
// An empty auth token or signature is never valid: an empty key would let
// anyone sign.
func Valid(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	ok := false
	for _, u := range portForms(fullURL) {
		// Every form is tried, so that the time taken does not tell
		// which one matched.
		if hmac.Equal([]byte(Signature(authToken, u, form)), []byte(signature)) {
			ok = true
		}
	}
	return ok
}

// standardPort is the port each scheme Twilio calls uses by default.
var standardPort = map[string]string{"https": "443", "http": "80"}

// portForms is fullURL, and fullURL with its scheme's standard port
// added or taken away. The URL is edited as written, never re-encoded:
// the signature is over its exact text.
func portForms(fullURL string) []string {
	forms := []string{fullURL}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return forms
	}
	std, ok := standardPort[u.Scheme]
	prefix := len(u.Scheme) + len("://")
	if !ok || len(fullURL) < prefix || !strings.EqualFold(fullURL[:prefix], u.Scheme+"://") {
		return forms
	}
	end := len(fullURL)
	if i := strings.IndexAny(fullURL[prefix:], "/?#"); i >= 0 {
		end = prefix + i
	}
	authority := fullURL[prefix:end]
	hostStart := prefix + strings.LastIndex(authority, "@") + 1 // after the user info, if any
	hostport := fullURL[hostStart:end]
	var other string
	switch port := u.Port(); {
	case port == "" && !strings.HasSuffix(hostport, ":"):
		other = hostport + ":" + std
	case port == std:
		other = strings.TrimSuffix(hostport, ":"+std)
	default:
		return forms
	}
	return append(forms, fullURL[:hostStart]+other+fullURL[end:])
}
