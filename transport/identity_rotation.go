package transport

import (
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// verifyIdentity checks a shopper's identity token against the store secret
// and, during a rotation's grace window, against the previous one. After the
// window, tokens signed with the old secret are refused like forged ones.
// Tokens that verified are remembered until they would stop verifying.
func (s *Server) verifyIdentity(token string) (engine.Visitor, error) {
	now := s.cfg.Now()
	if v, ok := s.tokens.get(token, now); ok {
		return v, nil
	}
	v, until, err := identity.VerifyUntil(s.cfg.IdentitySecret, token, now)
	if err == nil {
		s.tokens.put(token, v, until)
		return v, nil
	}
	if len(s.cfg.PreviousIdentitySecret) == 0 || !now.Before(s.cfg.PreviousSecretUntil) {
		return v, err
	}
	old, until, oldErr := identity.VerifyUntil(s.cfg.PreviousIdentitySecret, token, now)
	if oldErr != nil {
		return v, err
	}
	if s.cfg.PreviousSecretUntil.Before(until) {
		until = s.cfg.PreviousSecretUntil
	}
	s.tokens.put(token, old, until)
	return old, nil
}
