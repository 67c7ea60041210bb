package transport

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
)

// The profile API (PROTOCOL §3, I1, H4): the store's backend upserts
// profiles and appends their events; agents read them.

// asStore may write profiles: the store's integration token, and admins.
var asStore = []engine.Role{engine.RoleStore, engine.RoleAdmin}

type profileJSON struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Email     string             `json:"email"` // "" when unknown: every listed key is always there
	Phone     string             `json:"phone"`
	UpdatedAt *string            `json:"updated_at,omitempty"`
	Events    []profileEventJSON `json:"events"`
	// EventsNextCursor is the events_cursor of the page of older events,
	// null when Events holds the oldest.
	EventsNextCursor *string `json:"events_next_cursor"`
}

type profileEventJSON struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	At         string         `json:"at"`
	Properties map[string]any `json:"properties"`
}

func profileOut(p engine.Profile, next string) profileJSON {
	out := profileJSON{ID: p.ID, Name: p.Name, Email: p.Email, Phone: p.Phone, Events: []profileEventJSON{},
		EventsNextCursor: nonEmpty(next)}
	if !p.UpdatedAt.IsZero() {
		out.UpdatedAt = wireTimePtr(&p.UpdatedAt)
	}
	for _, e := range p.Events {
		out.Events = append(out.Events, profileEventOut(e))
	}
	return out
}

func profileEventOut(e engine.ProfileEvent) profileEventJSON {
	props := e.Properties
	if props == nil {
		props = map[string]any{}
	}
	return profileEventJSON{ID: e.ID, Name: e.Name, At: wireTime(e.At), Properties: props}
}

// getProfile answers a profile with a page of its events, newest first:
// ?events_limit= (1 to 100, default 20) and ?events_cursor= (from
// events_next_cursor).
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	q := r.URL.Query()
	limit := actors.DefaultProfileEvents
	if l := q.Get("events_limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > actors.MaxProfileEvents {
			s.writeError(w, r, engine.Invalid("events_limit", "must be a number from 1 to %d", actors.MaxProfileEvents))
			return
		}
		limit = n
	}
	p, next, err := s.profiles.ProfilePage(r.Context(), r.PathValue("id"), limit, q.Get("events_cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, profileOut(p, next))
}

// putProfile upserts a profile: each field given replaces the stored one
// ("" clears it), a field left out or null stays as it is.
func (s *Server) putProfile(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var body struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
		Phone *string `json:"phone"`
	}
	if err := decodeStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := engine.ProfileUpdate{Name: body.Name, Email: body.Email, Phone: body.Phone}
	p, next, err := s.profiles.UpsertProfile(r.Context(), r.PathValue("id"), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, profileOut(p, next))
}

// postProfileEvent adds an event to a profile: 201 with the event, or 200
// with the stored one when its id is stored already.
func (s *Server) postProfileEvent(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	e, err := profileEventIn(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, added, err := s.profiles.AddProfileEvent(r.Context(), r.PathValue("id"), e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	writeJSON(w, status, profileEventOut(stored))
}

// profileEventIn reads an event's body; the backend checks its values.
func profileEventIn(r *http.Request) (engine.ProfileEvent, error) {
	var body struct {
		ID         *string        `json:"id"`
		Name       string         `json:"name"`
		At         *string        `json:"at"`
		Properties map[string]any `json:"properties"`
	}
	if err := decodeStrict(r, &body); err != nil {
		return engine.ProfileEvent{}, err
	}
	e := engine.ProfileEvent{Name: body.Name, Properties: body.Properties}
	if body.ID != nil {
		if *body.ID == "" {
			return e, engine.Invalid("id", "must not be empty; leave it out to have one made")
		}
		e.ID = *body.ID
	}
	if body.At != nil {
		at, err := time.Parse(time.RFC3339, *body.At)
		if err != nil {
			return e, engine.Invalid("at", "must be an RFC 3339 time such as 2026-03-01T12:00:00Z")
		}
		e.At = at
	}
	return e, nil
}
