package transport

import "net/http"

// The widget runs on the store's pages, another origin than Parley's, and
// uploads a shopper's images with their identity token as the bearer. The
// browser allows that only if Parley says so (CORS): it does for the
// origins allowed to open the socket (--allowed-origins), for the upload
// endpoint alone, and never with cookies — a shopper has none here.

// allowCORS lets the request's origin read the answer, when it is allowed.
func (s *Server) allowCORS(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !s.originAllowed(r, s.proxies.client(r).host) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

// preflight answers a browser asking whether a cross-origin upload may be
// sent: yes, with an Authorization header and a multipart body, from an
// allowed origin; otherwise 403.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	if !s.allowCORS(w, r) {
		s.writeError(w, r, errOrigin)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
