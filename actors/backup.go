package actors

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Backup writes an online, consistent checkpoint of the whole store into
// dir, on the server's own file system, while the system keeps serving (O6).
// Every message acknowledged before the call is in it: an ack is sent only
// once its event is fsync'd, and the checkpoint includes the flushed WAL. A
// server started with its data directory on dir resumes from there.
//
// dir must be an absolute path that does not exist yet; its missing parents
// are created. Files are hard-linked where the file system allows, so a
// checkpoint is cheap to take but pins disk space until it is removed: copy
// it elsewhere, then delete it.
//
// The checkpoint itself cannot be cancelled once it has begun; ctx only
// stops a call that has not started.
func (s *System) Backup(ctx context.Context, dir string) error {
	switch {
	case dir == "":
		return engine.Invalid("dir", "is required")
	case !filepath.IsAbs(dir):
		return engine.Invalid("dir", "must be an absolute path")
	}
	dir = filepath.Clean(dir)
	if s.closed.Load() {
		return errUnavailable
	}
	s.backupMu.Lock()
	defer s.backupMu.Unlock()
	if err := ctx.Err(); err != nil {
		return engine.Errorf(engine.CodeUnavailable, "request cancelled")
	}
	start := time.Now()
	err := s.store.Checkpoint(dir)
	switch {
	case err == nil:
		s.log.Info("backup written", slog.String("dir", dir), slog.Duration("took", time.Since(start)))
		return nil
	case errors.Is(err, os.ErrExist):
		return engine.Invalid("dir", "already exists; a backup needs a new directory")
	case errors.Is(err, persist.ErrClosed):
		return errUnavailable
	}
	return storageError(s.log, "backup", err)
}
