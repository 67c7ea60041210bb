package transport

import (
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/engine"
)

// Browser sessions (PROTOCOL §3): a page exchanges an agent's API token for
// a cookie that script cannot read (HttpOnly) and that no other site's page
// sends (SameSite=Strict); with the cookie, every request that changes
// something must also carry the header X-Parley-CSRF: 1, which a form or a
// link on another site cannot add. The SSE stream works from EventSource,
// which sends the cookie.

const (
	sessionCookie = "parley_session"
	csrfHeader    = "X-Parley-CSRF"
	// sessionAge is how long a browser keeps a session: a working week.
	sessionAge = 7 * 24 * time.Hour
)

// sessionToken is the API token of the request's session cookie.
func sessionToken(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 4096 {
		return "", false
	}
	return c.Value, true
}

var errCSRF = &engine.Error{Code: engine.CodeForbidden, Field: csrfHeader,
	Message: "a request made with the session cookie that changes something needs the header X-Parley-CSRF: 1"}

// checkCSRF refuses a request authenticated by the session cookie alone
// that may change something and lacks the CSRF header.
func (s *Server) checkCSRF(r *http.Request) error {
	if r.Header.Get("Authorization") != "" {
		return nil // a bearer token: no cookie was used
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get(csrfHeader) != "1" {
		return errCSRF
	}
	return nil
}

type sessionJSON struct {
	Agent agentJSON `json:"agent"`
}

// createSession is POST /api/v1/session {"token"}: it sets the session
// cookie of an agent's token and answers who that is.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	var body struct {
		Token string `json:"token"`
	}
	if err := decodeStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	token := strings.TrimSpace(body.Token)
	if token == "" {
		s.writeError(w, r, engine.Invalid("token", "is required"))
		return
	}
	a, ok := s.principal(token)
	if !ok || len(token) > 4096 {
		s.writeError(w, r, errUnauthorized)
		return
	}
	http.SetCookie(w, s.sessionCookie(r, token, int(sessionAge/time.Second)))
	writeJSON(w, http.StatusOK, sessionJSON{agentOut(a)})
}

// getSession is GET /api/v1/session: who the request is signed in as (by
// cookie or bearer token), or 401.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request, p engine.Agent) {
	writeJSON(w, http.StatusOK, sessionJSON{agentOut(p)})
}

// deleteSession is DELETE /api/v1/session: it signs the browser out.
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.sessionCookie(r, "", -1))
	w.WriteHeader(http.StatusNoContent)
}

// sessionCookie is the session cookie holding token, for maxAge seconds
// (negative: delete it). It is Secure when the server is reached over
// HTTPS: PublicURL says so, or the client used https, directly or through
// a trusted proxy.
func (s *Server) sessionCookie(r *http.Request, token string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.proxies.client(r).scheme == "https" || strings.HasPrefix(s.cfg.PublicURL, "https://"),
	}
}
