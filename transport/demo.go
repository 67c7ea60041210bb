package transport

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// demoTTL is how long a demo shopper's token lasts.
const demoTTL = time.Hour

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

// demoAdminToken is GET /demo/admin-token: the admin token, for the demo
// page's "open the inbox" link, to a visitor on this very machine of a
// server that shares it (Config.ShareAdminToken); 404 to anyone else. A
// request that a proxy passed on (its headers say so, or it names a host
// that is not this machine) is not from this machine, whatever its address.
func (s *Server) demoAdminToken(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.ShareAdminToken || s.cfg.AdminToken == "" || !fromThisMachine(r) {
		s.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Token string `json:"token"`
	}{s.cfg.AdminToken})
}

// fromThisMachine reports whether r came straight from a browser on this
// machine: a loopback peer, a loopback Host, and no proxy's headers.
func fromThisMachine(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	if peer := peerAddr(r); !peer.IsLoopback() { // invalid: not loopback
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}
