package transport

import (
	"encoding/json"
	"net/http"

	"github.com/parley-chat/parley/engine"
)

// faqBody is an FAQ as written. id and updated_at may come back as GET
// showed them (so that an FAQ can be edited and sent back whole):
// updated_at is the server's and ignored, and an id must be the URL's.
type faqBody struct {
	ID        string          `json:"id"`
	Question  string          `json:"question"`
	Answer    string          `json:"answer"`
	Published bool            `json:"published"`
	Position  int             `json:"position"`
	Kind      string          `json:"kind"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

func (b faqBody) faq(id string) (engine.FAQ, error) {
	if b.ID != "" && b.ID != id {
		return engine.FAQ{}, engine.Invalid("id", "is the URL's, or left out")
	}
	f := engine.FAQ{ID: id, Question: b.Question, Answer: b.Answer, Published: b.Published, Position: b.Position, Kind: b.Kind}
	if f.Kind == "" {
		f.Kind = engine.KindFAQ
	}
	return f, f.Validate()
}

func faqOut(f engine.FAQ) engine.FAQ {
	f.UpdatedAt = f.UpdatedAt.UTC()
	return f
}

func (s *Server) listFAQs(w http.ResponseWriter, _ *http.Request, _ engine.Agent) {
	all := s.admin.FAQs()
	out := make([]engine.FAQ, 0, len(all))
	for _, f := range all {
		out = append(out, faqOut(f))
	}
	writeJSON(w, http.StatusOK, struct {
		FAQs []engine.FAQ `json:"faqs"`
	}{out})
}

func (s *Server) getFAQ(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	f, ok := s.admin.FAQ(r.PathValue("id"))
	if !ok {
		s.writeError(w, r, engine.ErrNotFound)
		return
	}
	writeJSON(w, http.StatusOK, faqOut(f))
}

func (s *Server) createFAQ(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	s.saveFAQ(w, r, "", http.StatusCreated)
}

func (s *Server) putFAQ(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	id := r.PathValue("id")
	if _, ok := s.admin.FAQ(id); !ok {
		s.writeError(w, r, engine.ErrNotFound)
		return
	}
	s.saveFAQ(w, r, id, http.StatusOK)
}

func (s *Server) saveFAQ(w http.ResponseWriter, r *http.Request, id string, status int) {
	var body faqBody
	if err := decodeStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := body.faq(id)
	if err == nil {
		f, err = s.admin.PutFAQ(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, faqOut(f))
}

func (s *Server) deleteFAQ(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	if err := s.admin.DeleteFAQ(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type agentJSON struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Email     string      `json:"email"`
	Role      engine.Role `json:"role"`
	Disabled  bool        `json:"disabled"`
	CreatedAt *string     `json:"created_at,omitempty"`
}

func agentOut(a engine.Agent) agentJSON {
	out := agentJSON{ID: a.ID, Name: a.Name, Email: a.Email, Role: a.Role, Disabled: a.Disabled}
	if !a.CreatedAt.IsZero() {
		out.CreatedAt = wireTimePtr(&a.CreatedAt)
	}
	return out
}

func (s *Server) listAgents(w http.ResponseWriter, _ *http.Request, _ engine.Agent) {
	all := s.admin.Agents()
	out := make([]agentJSON, 0, len(all))
	for _, a := range all {
		out = append(out, agentOut(a))
	}
	writeJSON(w, http.StatusOK, struct {
		Agents []agentJSON `json:"agents"`
	}{out})
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var body struct {
		Name  string      `json:"name"`
		Email string      `json:"email"`
		Role  engine.Role `json:"role"`
	}
	if err := decode(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	a := engine.Agent{Name: body.Name, Email: body.Email, Role: body.Role}
	if a.Role == "" {
		a.Role = engine.RoleAgent
	}
	if err := a.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, token, err := s.admin.CreateAgent(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Agent agentJSON `json:"agent"`
		Token string    `json:"token"`
	}{agentOut(a), token})
}

func (s *Server) disableAgent(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	if err := s.admin.DisableAgent(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
