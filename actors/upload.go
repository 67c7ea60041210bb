package actors

import (
	"context"
	"errors"
	"io"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// Uploads is where uploaded images are kept (S7, H5): whole, in the same
// store as the conversations, so that a backup holds them too.
type Uploads interface {
	// PutUpload stores an upload and its bytes durably;
	// persist.ErrExists if its name is taken.
	PutUpload(u engine.Upload, data []byte) error
	// OpenUpload finds an upload and a reader of its bytes;
	// persist.ErrNotFound if none.
	OpenUpload(name string) (engine.Upload, io.ReaderAt, error)
}

var _ Uploads = (*persist.Store)(nil)

// PutUpload stores an image and its bytes, durably, before it returns. An
// upload needs no actor: it belongs to no conversation until a message
// points at it, and it never changes.
func (s *System) PutUpload(ctx context.Context, u engine.Upload, data []byte) error {
	if s.closed.Load() {
		return errUnavailable
	}
	if ctx.Err() != nil {
		return engine.Errorf(engine.CodeUnavailable, "request cancelled")
	}
	switch err := s.store.PutUpload(u, data); {
	case err == nil:
		return nil
	case errors.Is(err, persist.ErrClosed):
		return errUnavailable
	case errors.Is(err, persist.ErrExists):
		return engine.Errorf(engine.CodeConflict, "an upload of that name exists")
	default:
		return storageError(s.log, "put upload", err)
	}
}

// Upload finds an upload by name and a reader of its bytes; not_found if
// there is none.
func (s *System) Upload(_ context.Context, name string) (engine.Upload, io.ReaderAt, error) {
	if !engine.ValidUploadName(name) {
		return engine.Upload{}, nil, engine.ErrNotFound
	}
	u, r, err := s.store.OpenUpload(name)
	switch {
	case err == nil:
		return u, r, nil
	case errors.Is(err, persist.ErrNotFound):
		return engine.Upload{}, nil, engine.ErrNotFound
	case errors.Is(err, persist.ErrClosed):
		return engine.Upload{}, nil, errUnavailable
	default:
		return engine.Upload{}, nil, storageError(s.log, "open upload", err)
	}
}
