package transport

import (
	"encoding/json"
	"net/http"

	"github.com/parley-chat/parley/engine"
)

// macroRoutes serves macros (PROTOCOL §3, C5): agents read them to reply
// with, admins write them.
func (s *Server) macroRoutes() {
	s.api("GET /api/v1/macros", asAgent, s.listMacros)
	s.api("GET /api/v1/macros/{id}", asAgent, s.getMacro)
	s.api("POST /api/v1/macros", asAdmin, s.createMacro)
	s.api("PUT /api/v1/macros/{id}", asAdmin, s.putMacro)
	s.api("DELETE /api/v1/macros/{id}", asAdmin, s.deleteMacro)
}

// macroBody is a macro as a client writes it. A field it does not list is
// refused by name. id and updated_at are the server's: they are accepted so
// that a macro read with GET can be sent back as it is, but an id that is
// not the URL's is refused, and updated_at is set by the server.
type macroBody struct {
	Name      string          `json:"name"`
	Body      string          `json:"body"`
	ID        *string         `json:"id"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

func (b macroBody) macro(id string) (engine.Macro, error) {
	switch {
	case b.ID != nil && id == "":
		return engine.Macro{}, engine.Invalid("id", "is chosen by the server; leave it out")
	case b.ID != nil && *b.ID != id:
		return engine.Macro{}, engine.Invalid("id", "is not the id of the macro in the URL")
	}
	m := engine.Macro{ID: id, Name: b.Name, Body: b.Body}
	return m, m.Validate()
}

func macroOut(m engine.Macro) engine.Macro {
	m.UpdatedAt = m.UpdatedAt.UTC()
	return m
}

func (s *Server) listMacros(w http.ResponseWriter, _ *http.Request, _ engine.Agent) {
	all := s.desk.Macros()
	out := make([]engine.Macro, 0, len(all))
	for _, m := range all {
		out = append(out, macroOut(m))
	}
	writeJSON(w, http.StatusOK, struct {
		Macros []engine.Macro `json:"macros"`
	}{out})
}

func (s *Server) getMacro(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	m, ok := s.desk.Macro(r.PathValue("id"))
	if !ok {
		s.writeError(w, r, engine.ErrNotFound)
		return
	}
	writeJSON(w, http.StatusOK, macroOut(m))
}

func (s *Server) createMacro(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	s.saveMacro(w, r, "", http.StatusCreated)
}

func (s *Server) putMacro(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	id := r.PathValue("id")
	if _, ok := s.desk.Macro(id); !ok {
		s.writeError(w, r, engine.ErrNotFound)
		return
	}
	s.saveMacro(w, r, id, http.StatusOK)
}

func (s *Server) saveMacro(w http.ResponseWriter, r *http.Request, id string, status int) {
	var body macroBody
	if err := decodeStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := body.macro(id)
	if err == nil {
		m, err = s.admin.PutMacro(r.Context(), m)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, macroOut(m))
}

func (s *Server) deleteMacro(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	if err := s.admin.DeleteMacro(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
