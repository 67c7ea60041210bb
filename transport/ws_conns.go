package transport

import "github.com/parley-chat/parley/engine"

var errCapacity = engine.Errorf(engine.CodeUnavailable, "too many connections; try again later")

// reserveConn takes a place for one more socket before its upgrade, so
// that a refusal is a plain HTTP answer the client can read; sockets already
// open are never touched. The check and the place are one step under the
// lock: upgrades in flight count, so concurrent ones cannot pass
// MaxConnections together. Every successful reserveConn is followed by
// addConn or releaseConn.
func (s *Server) reserveConn() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errUnavailable
	case s.cfg.MaxConnections > 0 && len(s.conns)+s.upgrading >= s.cfg.MaxConnections:
		return errCapacity
	}
	s.upgrading++
	return nil
}

// releaseConn gives back the place of an upgrade that failed.
func (s *Server) releaseConn() {
	s.mu.Lock()
	s.upgrading--
	s.mu.Unlock()
}

// addConn turns a reserved place into an open socket, unless the server
// began shutting down meanwhile.
func (s *Server) addConn(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upgrading--
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if set := s.byProfile[c.visitor.ProfileID]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(s.byProfile, c.visitor.ProfileID)
		}
	}
}

// addVisitor records a logged-in socket, so that a chat started from one tab
// reaches the visitor's other tabs too.
func (s *Server) addVisitor(c *wsConn) {
	if !c.visitor.LoggedIn() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.byProfile[c.visitor.ProfileID]
	if set == nil {
		set = map[*wsConn]struct{}{}
		s.byProfile[c.visitor.ProfileID] = set
	}
	set[c] = struct{}{}
}

func (s *Server) visitorConns(profileID string) []*wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*wsConn, 0, len(s.byProfile[profileID]))
	for c := range s.byProfile[profileID] {
		out = append(out, c)
	}
	return out
}
