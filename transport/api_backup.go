package transport

import (
	"net/http"
	"path/filepath"
	"time"

	"github.com/parley-chat/parley/engine"
)

// backup is POST /api/v1/backup (O6): an online checkpoint of the data
// directory, written into body.dir on the server's machine. The answer comes
// once the checkpoint is complete; a missing, relative or existing dir is a
// 400 naming "dir".
func (s *Server) backup(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var body struct {
		Dir string `json:"dir"`
	}
	if err := decode(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	if err := s.admin.Backup(r.Context(), body.Dir); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Dir    string `json:"dir"`
		TookMS int64  `json:"took_ms"`
	}{filepath.Clean(body.Dir), time.Since(start).Milliseconds()})
}
