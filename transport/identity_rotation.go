package transport

import (
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// verifyIdentity checks a shopper's identity token against the store secret
// and, during a rotation's grace window, against the previous one. After the
// window, tokens signed with the old secret are refused like forged ones.
func (s *Server) verifyIdentity(token string) (engine.Visitor, error) {
	now := s.cfg.Now()
	v, err := identity.Verify(s.cfg.IdentitySecret, token, now)
	if err == nil || len(s.cfg.PreviousIdentitySecret) == 0 || !now.Before(s.cfg.PreviousSecretUntil) {
		return v, err
	}
	if old, oldErr := identity.Verify(s.cfg.PreviousIdentitySecret, token, now); oldErr == nil {
		return old, nil
	}
	return v, err
}
