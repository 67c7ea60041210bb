package transport

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/openapi"
)

// admin is the principal of the bootstrap admin token.
var admin = engine.Agent{ID: "admin", Name: "Admin", Role: engine.RoleAdmin}

// apiHandler is an API endpoint called with its authenticated principal.
type apiHandler func(w http.ResponseWriter, r *http.Request, p engine.Agent)

// roles a principal may hold to call an endpoint.
var (
	asAgent = []engine.Role{engine.RoleAgent, engine.RoleAdmin}
	asAdmin = []engine.Role{engine.RoleAdmin}
	asStaff = []engine.Role{engine.RoleAgent, engine.RoleAdmin, engine.RoleStore}
)

func (s *Server) apiRoutes() {
	s.api("GET /api/v1/tickets", asAgent, s.listTickets)
	s.api("GET /api/v1/tickets/{id}", asAgent, s.getTicket)
	s.api("POST /api/v1/tickets/{id}/messages", asAgent, s.postMessage)
	s.api("POST /api/v1/tickets/{id}/read", asAgent, s.readTicket)
	s.api("POST /api/v1/tickets/{id}/assign", asAgent, s.assignTicket)
	s.api("POST /api/v1/tickets/{id}/snooze", asAgent, s.snoozeTicket)
	s.api("POST /api/v1/tickets/{id}/close", asAgent, s.closeTicket)
	s.api("POST /api/v1/tickets/{id}/typing", asAgent, s.agentTyping)
	s.api("GET /api/v1/inbox/badge", asAgent, s.badge)
	s.api("GET /api/v1/inbox/stream", asAgent, s.inboxStream)
	s.api("GET /api/v1/settings", asAgent, s.getSettings)
	s.api("PUT /api/v1/settings", asAdmin, s.putSettings)
	s.api("GET /api/v1/faqs", asAgent, s.listFAQs)
	s.api("GET /api/v1/faqs/{id}", asAgent, s.getFAQ)
	s.api("POST /api/v1/faqs", asAdmin, s.createFAQ)
	s.api("PUT /api/v1/faqs/{id}", asAdmin, s.putFAQ)
	s.api("DELETE /api/v1/faqs/{id}", asAdmin, s.deleteFAQ)
	s.macroRoutes()
	s.webhookRoutes()
	s.smsRoutes()
	s.api("GET /api/v1/agents", asAdmin, s.listAgents)
	s.api("POST /api/v1/agents", asAdmin, s.createAgent)
	s.api("DELETE /api/v1/agents/{id}", asAdmin, s.disableAgent)
	s.api("GET /api/v1/profiles/{id}", asStaff, s.getProfile)
	s.api("PUT /api/v1/profiles/{id}", asStore, s.putProfile)
	s.api("POST /api/v1/profiles/{id}/events", asStore, s.postProfileEvent)
	s.api("POST /api/v1/backup", asAdmin, s.backup)
	s.mux.HandleFunc("GET /api/v1/openapi.json", s.asset(openapi.FS(), openapi.Name))
	s.mux.HandleFunc("POST /api/v1/session", s.createSession) // the token is in the body
	s.mux.HandleFunc("DELETE /api/v1/session", s.deleteSession)
	s.api("GET /api/v1/session", asStaff, s.getSession)
	s.mux.HandleFunc("POST /api/v1/uploads", s.postUpload) // agents and shoppers alike: its own authentication
	s.mux.HandleFunc("OPTIONS /api/v1/uploads", s.preflight)
}

// api registers an endpoint that needs a bearer token of one of roles.
func (s *Server) api(pattern string, roles []engine.Role, h apiHandler) {
	validID := engine.ValidID // Parley's own ids: tickets, FAQs, agents
	if strings.Contains(pattern, "/profiles/{id}") {
		validID = engine.ValidProfileID // the store's
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.writeError(w, r, errTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		p, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
			s.writeError(w, r, errUnauthorized)
			return
		}
		if err := s.checkCSRF(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if !hasRole(p.Role, roles) {
			s.writeError(w, r, errForbidden)
			return
		}
		if ok, wait := s.calls.allow(p.ID, s.cfg.Now()); !ok {
			retryAfter(w, wait)
			s.writeError(w, r, errAPIRate)
			return
		}
		if id := r.PathValue("id"); id != "" && !validID(id) {
			s.writeError(w, r, engine.ErrNotFound)
			return
		}
		h(w, r, p)
	})
}

func hasRole(r engine.Role, roles []engine.Role) bool {
	for _, want := range roles {
		if r == want {
			return true
		}
	}
	return false
}

// authenticate finds the principal of the request's bearer token, or of its
// session cookie when it has no Authorization header: the bootstrap admin,
// or an enabled agent. Shopper identity tokens are not agents' tokens, so
// they never pass here.
func (s *Server) authenticate(r *http.Request) (engine.Agent, bool) {
	token, ok := bearerToken(r)
	if !ok && r.Header.Get("Authorization") == "" {
		token, ok = sessionToken(r)
	}
	if !ok {
		return engine.Agent{}, false
	}
	return s.principal(token)
}

// principal is the agent an API token names.
func (s *Server) principal(token string) (engine.Agent, bool) {
	if s.cfg.AdminToken != "" {
		a, b := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.cfg.AdminToken))
		if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
			return admin, true
		}
	}
	a, ok := s.auth.Authenticate(token)
	if !ok || a.Disabled {
		return engine.Agent{}, false
	}
	return a, true
}

// bearerToken is the request's bearer token, if it has one of a sane size.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != "" && len(token) <= 4096
}

// decode reads a JSON body into v. Errors name the field where they can. A
// body declared as anything but JSON is refused with 415; a body without a
// Content-Type is read as JSON.
func decode(r *http.Request, v any) error { return decodeBody(r, v, false) }

// decodeStrict is decode for a body that must be a JSON object, and that
// refuses, naming it, a field v has no place for: a misspelt field is an
// error, not a value silently dropped. Numbers in values of type any are
// kept as sent (json.Number), digit for digit.
func decodeStrict(r *http.Request, v any) error { return decodeBody(r, v, true) }

func decodeBody(r *http.Request, v any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return errMediaType
	}
	br := bufio.NewReader(r.Body)
	dec := json.NewDecoder(br)
	if strict {
		if first, err := peekNonSpace(br); err == nil && first != '{' {
			return engine.Errorf(engine.CodeInvalid, "the body must be a JSON object")
		}
		dec.DisallowUnknownFields()
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err, "")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return errTooLarge
		}
		return engine.Errorf(engine.CodeInvalid, "the body must hold one JSON value")
	}
	return nil
}

// peekNonSpace is the first byte of r after JSON white space, unread.
func peekNonSpace(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = r.ReadByte()
		default:
			return b[0], nil
		}
	}
}

// isJSON reports whether a Content-Type names JSON: application/json, or a
// JSON-based type such as application/merge-patch+json.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// jsonError turns a decoding error into a client error; prefix is the dotted
// path of the value being decoded.
func jsonError(err error, prefix string) error {
	join := func(f string) string {
		switch {
		case prefix == "":
			return f
		case f == "":
			return prefix
		}
		return prefix + "." + f
	}
	var (
		mb *http.MaxBytesError
		te *json.UnmarshalTypeError
		ee *engine.Error
	)
	switch {
	case errors.As(err, &mb):
		return errTooLarge
	case errors.As(err, &ee):
		if ee.Field != "" && prefix != "" && !strings.HasPrefix(ee.Field, prefix) {
			return engine.Invalid(join(ee.Field), "%s", ee.Message)
		}
		return ee
	case errors.As(err, &te):
		return engine.Invalid(join(te.Field), "has the wrong type (got a JSON %s)", te.Value)
	case errors.Is(err, io.EOF):
		return engine.Errorf(engine.CodeInvalid, "a JSON body is required")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return engine.Invalid(join(strings.Trim(f, `"`)), "is not a known field")
	}
	return engine.Errorf(engine.CodeInvalid, "malformed JSON body")
}
