package transport

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// demoTTL is how long a demo shopper's token lasts.
const demoTTL = time.Hour

const demoHTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Parley demo store</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Parley demo</h1>
<p>This is the Parley demo store. The chat widget will appear here.</p>
<p>A demo shopper token can be minted with <code>POST /demo/token</code>.</p>
</body>
</html>
`

func (s *Server) demoPage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(demoHTML))
}

// demoToken mints an identity token for a new demo shopper.
func (s *Server) demoToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	var body struct {
		Name string `json:"name"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	name := strings.TrimSpace(body.Name)
	if name == "" {
		name = "Demo Shopper"
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	v := engine.Visitor{ProfileID: "demo-" + hex.EncodeToString(b[:]), Name: name}
	if len([]rune(v.Name)) > engine.MaxNameRunes {
		s.writeError(w, r, engine.Invalid("name", "is longer than %d characters", engine.MaxNameRunes))
		return
	}
	tok, err := identity.Mint(s.cfg.IdentitySecret, v, demoTTL, s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Token     string `json:"token"`
		ProfileID string `json:"profile_id"`
		Name      string `json:"name"`
	}{tok, v.ProfileID, v.Name})
}
