package engine

import "time"

// Visitor is who is on the other end of a shopper socket: anonymous, or a
// profile whose identity the store's signed token proves (S2).
type Visitor struct {
	ProfileID string
	Name      string
	Email     string
}

// LoggedIn reports whether the store vouched for this visitor.
func (v Visitor) LoggedIn() bool { return v.ProfileID != "" }

// Profile is a customer as the store describes them (I1).
type Profile struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Email     string         `json:"email"`
	Phone     string         `json:"phone"`
	UpdatedAt time.Time      `json:"updated_at"`
	Events    []ProfileEvent `json:"events"`
}

// ProfileEvent is something the customer did in the store (I1, H4).
type ProfileEvent struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	At         time.Time      `json:"at"`
	Properties map[string]any `json:"properties"`
}
