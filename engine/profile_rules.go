package engine

import (
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of profiles and their events (I1). They keep one store call from
// filling a profile's page in the inbox, or storage, with a single event.
const (
	// MaxEmailBytes is the longest e-mail address (RFC 5321's path limit).
	MaxEmailBytes = 254
	// MaxPropertiesBytes bounds an event's properties, encoded as compact JSON.
	MaxPropertiesBytes = 16 << 10
	// MaxPropertyKeys bounds the keys of an event's properties object itself.
	MaxPropertyKeys = 50
	// MaxPropertyDepth bounds how deep objects and arrays nest in an event's
	// properties, the properties object itself counted: {"order":{"items":[{"sku":"A"}]}}
	// is 4 deep.
	MaxPropertyDepth = 5
	// MaxEventFuture is how far ahead of the server's clock an event's time
	// may be: clocks drift, orders are not placed tomorrow.
	MaxEventFuture = 24 * time.Hour
)

// minEventTime is the earliest time an event may have: a store's history does
// not start before the Unix epoch, and storage keys need a time that
// UnixNano can hold.
var minEventTime = time.Unix(0, 0).UTC()

// ValidEventID reports whether s can be a profile event's id. An id the store
// sends is its own, opaque to Parley, like a profile id: 1 to 128 bytes of
// text without control characters or line separators.
func ValidEventID(s string) bool { return ValidProfileID(s) }

// ValidEmail reports whether s is one bare e-mail address (ada@example.com:
// no display name, no comment, no angle brackets) of at most MaxEmailBytes
// whose domain has a dot, as a customer's address on the internet does.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailBytes {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, "[") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// NormalizePhone returns a phone number in E.164 form: spaces, dashes and
// parentheses are dropped ("+46 (0)70-123 45 67" is not E.164, but
// "+46 70-123 45 67" is), and what is left must be "+" then 7 to 15 digits,
// the first not 0. "" stays "" (no number).
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch r {
		case ' ', '-', '(', ')':
			continue
		}
		b.WriteRune(r)
	}
	p := b.String()
	if p == "" {
		return "", true
	}
	digits := p[1:]
	if p[0] != '+' || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	return p, true
}

// checkLabel checks a name shown to agents: at most MaxNameRunes characters
// without control characters or line separators; required or not.
func checkLabel(field, s string, required bool) error {
	switch {
	case required && s == "":
		return Invalid(field, "is required")
	case utf8.RuneCountInString(s) > MaxNameRunes:
		return Invalid(field, "is longer than %d characters", MaxNameRunes)
	case strings.ContainsFunc(s, isControl):
		return Invalid(field, "must not contain control characters or line breaks")
	}
	return nil
}

func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == '\u2028' || r == '\u2029'
}

// Normalize checks an event the store sends and returns it as it is stored:
// its name trimmed, its time in UTC. e.ID and e.At must be set (the caller
// makes an id and takes the time of arrival when the store gave none); now is
// the server's clock. An error names the field at fault.
func (e ProfileEvent) Normalize(now time.Time) (ProfileEvent, error) {
	e.Name = strings.TrimSpace(e.Name)
	if !ValidEventID(e.ID) {
		return e, Invalid("id", "must be 1 to %d bytes of text without control characters", MaxProfileIDBytes)
	}
	if err := checkLabel("name", e.Name, true); err != nil {
		return e, err
	}
	if e.At.Before(minEventTime) || e.At.After(now.Add(MaxEventFuture)) {
		return e, Invalid("at", "must be between 1970-01-01T00:00:00Z and a day from now")
	}
	e.At = e.At.UTC()
	return e, checkProperties(e.Properties)
}

// checkProperties bounds an event's properties: their size, their keys and
// how deep they nest.
func checkProperties(p map[string]any) error {
	if p == nil {
		return nil
	}
	if len(p) > MaxPropertyKeys {
		return Invalid("properties", "has more than %d keys", MaxPropertyKeys)
	}
	for k := range p {
		if k == "" || utf8.RuneCountInString(k) > MaxNameRunes {
			return Invalid("properties", "keys must be 1 to %d characters", MaxNameRunes)
		}
	}
	if depth(p, MaxPropertyDepth) > MaxPropertyDepth {
		return Invalid("properties", "nests objects and arrays more than %d deep", MaxPropertyDepth)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return Invalid("properties", "must be a JSON object")
	}
	if len(b) > MaxPropertiesBytes {
		return Invalid("properties", "is larger than %d bytes as JSON", MaxPropertiesBytes)
	}
	return nil
}

// depth is how deep objects and arrays nest in v (a scalar is 0), counted
// no further than limit+1: a hostile value costs no deeper recursion.
func depth(v any, limit int) int {
	deepest := 0
	deeper := func(c any) bool {
		if d := depth(c, limit-1); d > deepest {
			deepest = d
		}
		return deepest >= limit
	}
	switch x := v.(type) {
	case map[string]any:
		if limit <= 0 {
			return 1
		}
		for _, c := range x {
			if deeper(c) {
				break
			}
		}
	case []any:
		if limit <= 0 {
			return 1
		}
		for _, c := range x {
			if deeper(c) {
				break
			}
		}
	default:
		return 0
	}
	return 1 + deepest
}
