package transport

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/parley-chat/parley/transport/web"
)

// pageCSP is the Content-Security-Policy of every page Parley serves: script,
// style, fonts and connections from this server only, no inline script or
// style attribute, images from this server (uploads included) and data: or
// blob: URLs of the page's own making, never framed by another site.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageRoutes serves the embedded pages and their assets.
func (s *Server) pageRoutes() {
	pages := web.FS()
	s.mux.HandleFunc("GET /widget.js", s.asset(pages, "widget.js"))
	s.mux.HandleFunc("GET /widget.css", s.asset(pages, "widget.css"))
	s.mux.HandleFunc("GET /assets/{file...}", func(w http.ResponseWriter, r *http.Request) {
		s.asset(pages, "assets/"+r.PathValue("file"))(w, r)
	})
	s.mux.HandleFunc("GET /inbox", s.page(pages, "inbox.html"))
	s.mux.HandleFunc("GET /settings", s.page(pages, "settings.html"))
	s.mux.HandleFunc("GET /api/docs", s.page(pages, "apidocs.html")) // the OpenAPI document, drawn
	if s.cfg.Demo {
		s.mux.HandleFunc("GET /{$}", s.page(pages, "demo.html"))
	}
}

// page serves one HTML page under pageCSP.
func (s *Server) page(pages fs.FS, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		s.asset(pages, name)(w, r)
	}
}

// asset serves one embedded file with its type, never sniffed, revalidated
// on every use (the binary may change under the same name).
func (s *Server) asset(pages fs.FS, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(name)
		if strings.HasPrefix(name, "../") || strings.Contains(name, "/.") || strings.HasPrefix(name, ".") {
			s.notFound(w, r)
			return
		}
		b, err := fs.ReadFile(pages, name)
		if err != nil {
			s.notFound(w, r)
			return
		}
		h := w.Header()
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		// The file's hash: a page that revalidates it (each page view of a
		// store, for the widget) gets 304 unless the binary changed it.
		h.Set("ETag", `"`+assetTag(b)+`"`)
		if strings.HasPrefix(name, "widget.") || strings.HasPrefix(name, "assets/widget/") {
			// Loaded by the store's pages, from another origin: the
			// widget's modules are imported with CORS (they are public
			// code, fetched without credentials).
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
			h.Set("Access-Control-Allow-Origin", "*")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}
}

// assetTag is the entity tag of an embedded file's contents.
func assetTag(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}
