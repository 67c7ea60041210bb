package transport

import "github.com/parley-chat/parley/engine"

var errCapacity = engine.Errorf(engine.CodeUnavailable, "too many connections; try again later")

// atCapacity reports whether another socket would pass MaxConnections. The
// check is before the upgrade, so a refusal is a plain 503 the client can
// read; sockets already open are never touched.
func (s *Server) atCapacity() bool {
	if s.cfg.MaxConnections <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) >= s.cfg.MaxConnections
}

func (s *Server) addConn(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
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
