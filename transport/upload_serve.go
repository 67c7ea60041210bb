package transport

import (
	"io"
	"net/http"
	"path"
	"strings"
)

// uploadsPath is where uploads are served, without a token, so that an
// <img> on any page can show them: the name is the secret.
const uploadsPath = "/uploads/"

// getUpload is GET (and HEAD) /uploads/{name}. An upload never changes, so
// it may be cached for good; it is served so that, opened as a page, it can
// run nothing: its real type, no sniffing, a sandbox without any source.
// Any name the server could not have given is 404, before storage is asked.
func (s *Server) getUpload(w http.ResponseWriter, r *http.Request) {
	u, data, err := s.files.Upload(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", u.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", `inline; filename="`+u.Name+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin") // the store's pages show it
	h.Set("ETag", `"`+u.Name+`"`)
	// ServeContent answers If-None-Match (304), HEAD and ranges; it reads
	// the bytes a chunk at a time, as the client takes them.
	http.ServeContent(w, r, "", u.At, io.NewSectionReader(data, 0, u.Size))
}

// uncleanUploadPath reports a request for a path under /uploads/ that is not
// in its clean form (dot segments, also percent-encoded; doubled or trailing
// slashes): it gets 404, where the mux would redirect to the cleaned path.
func uncleanUploadPath(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, uploadsPath) && path.Clean(p) != p
}

// uploadURL is the URL an upload is served at: on PublicURL when it is set,
// else on the scheme and Host the request came with.
func (s *Server) uploadURL(r *http.Request, name string) string {
	return s.baseURL(r) + uploadsPath + name
}

// baseURL is where people and providers reach Parley: PublicURL when it
// is set, else the scheme and host the client used (through a trusted
// proxy, those it says: an SMS provider signs the https URL it called even
// when the proxy passed it on over http).
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	who := s.proxies.client(r)
	return who.scheme + "://" + who.host
}
