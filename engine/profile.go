package engine

import (
	"strings"
	"time"
)

// Visitor is who is on the other end of a shopper socket: anonymous, or a
// profile whose identity the store's signed token proves (S2).
type Visitor struct {
	ProfileID string
	Name      string
	Email     string
}

// LoggedIn reports whether the store vouched for this visitor.
func (v Visitor) LoggedIn() bool { return v.ProfileID != "" }

// Profile is a customer as the store describes them (I1). Storage keeps it
// as JSON by these tags: rename a tag only with a new record version.
type Profile struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Email     string         `json:"email"`
	Phone     string         `json:"phone"`
	UpdatedAt time.Time      `json:"updated_at"`
	Events    []ProfileEvent `json:"events"`

	// NameFrom and EmailFrom say who set Name and Email: the store through
	// the profile API, or an identity token's claim. A claim never replaces
	// what the store set.
	NameFrom  Source `json:"name_from,omitempty"`
	EmailFrom Source `json:"email_from,omitempty"`
}

// Source is who set a profile's field.
type Source string

// Sources of a profile's fields.
const (
	FromStore Source = "store" // PUT /api/v1/profiles/{id}
	FromToken Source = "token" // a logged-in shopper's identity token, when they started a chat
)

// ProfileEvent is something the customer did in the store (I1, H4).
type ProfileEvent struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	At         time.Time      `json:"at"`
	Properties map[string]any `json:"properties"`
}

// ProfileUpdate is the store's upsert of a profile: a field that is not nil
// replaces the stored one ("" clears it); a nil field stays as it is.
type ProfileUpdate struct {
	Name, Email, Phone *string
}

// Normalize checks u and returns it in the form it is stored in: values
// trimmed, the phone number in E.164. An error names the field at fault.
func (u ProfileUpdate) Normalize() (ProfileUpdate, error) {
	if u.Name != nil {
		n := strings.TrimSpace(*u.Name)
		if err := checkLabel("name", n, false); err != nil {
			return u, err
		}
		u.Name = &n
	}
	if u.Email != nil {
		e := strings.TrimSpace(*u.Email)
		if e != "" && !ValidEmail(e) {
			return u, Invalid("email", "must be an e-mail address such as ada@example.com, or empty")
		}
		u.Email = &e
	}
	if u.Phone != nil {
		p, ok := NormalizePhone(*u.Phone)
		if !ok {
			return u, Invalid("phone", "must be an international number in E.164 form such as +46701234567 (spaces, dashes and parentheses allowed), or empty")
		}
		u.Phone = &p
	}
	return u, nil
}

// Apply returns p with u's fields in place, as the store's, and whether
// anything changed. u must be normalized.
func (p Profile) Apply(u ProfileUpdate, now time.Time) (Profile, bool) {
	next := p
	if u.Name != nil {
		next.Name, next.NameFrom = *u.Name, FromStore
	}
	if u.Email != nil {
		next.Email, next.EmailFrom = *u.Email, FromStore
	}
	if u.Phone != nil {
		next.Phone = *u.Phone
	}
	changed := next.Name != p.Name || next.Email != p.Email || next.Phone != p.Phone ||
		next.NameFrom != p.NameFrom || next.EmailFrom != p.EmailFrom
	if changed {
		next.UpdatedAt = now
	}
	return next, changed
}

// Claim returns p with what an identity token vouched for (its name and
// e-mail) in the fields the store has not given a value: those that are
// empty, or that an earlier token filled in (the store has since minted
// newer tokens). A value the store set through the profile API is never
// replaced. A claim that would not pass the API's own checks is left out.
func (p Profile) Claim(v Visitor, now time.Time) (Profile, bool) {
	next := p
	claimable := func(cur string, from Source) bool { return cur == "" || from == FromToken }
	if n := strings.TrimSpace(v.Name); n != "" && claimable(p.Name, p.NameFrom) && checkLabel("name", n, true) == nil {
		next.Name, next.NameFrom = n, FromToken
	}
	if e := strings.TrimSpace(v.Email); e != "" && claimable(p.Email, p.EmailFrom) && ValidEmail(e) {
		next.Email, next.EmailFrom = e, FromToken
	}
	changed := next.Name != p.Name || next.Email != p.Email ||
		next.NameFrom != p.NameFrom || next.EmailFrom != p.EmailFrom
	if changed {
		next.UpdatedAt = now
	}
	return next, changed
}
