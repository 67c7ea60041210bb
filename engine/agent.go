package engine

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a bearer token may do on the API.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin" // everything
	RoleAgent Role = "agent" // tickets, macros, profiles read
	RoleStore Role = "store" // the store's backend: profiles write
)

// Agent is a person (or the store's backend) with an API token (C8). Only a
// hash of the token is ever stored.
type Agent struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	TokenHash string    `json:"-"`
}

// Ref names the agent in events and rows.
func (a Agent) Ref() *AgentRef { return &AgentRef{ID: a.ID, Name: a.Name} }

// Validate checks a new agent, naming the field at fault.
func (a Agent) Validate() error {
	switch {
	case strings.TrimSpace(a.Name) == "":
		return Invalid("name", "is required")
	case utf8.RuneCountInString(a.Name) > MaxNameRunes:
		return Invalid("name", "is longer than %d characters", MaxNameRunes)
	case a.Email != "" && !addressRe.MatchString(a.Email):
		return Invalid("email", "is not an e-mail address")
	case a.Role != RoleAdmin && a.Role != RoleAgent && a.Role != RoleStore:
		return Invalid("role", "must be admin, agent or store")
	}
	return nil
}

// Can reports whether role r may act with the permissions of want.
func (r Role) Can(want Role) bool {
	return r == RoleAdmin || r == want
}
