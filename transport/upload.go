package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/media"
)

// formSlack is what a multipart body may hold besides its file: the
// boundaries and the part's headers.
const formSlack = 16 << 10

// The results parley_uploads_total counts.
const (
	uploadAccepted    = "accepted"
	uploadBadForm     = "bad_form"
	uploadTooLarge    = "too_large"
	uploadUnsupported = "unsupported_type"
	uploadMalformed   = "malformed"
	uploadTooManyPx   = "too_many_pixels"
)

var uploadResults = []string{uploadAccepted, uploadBadForm, uploadTooLarge, uploadUnsupported, uploadMalformed, uploadTooManyPx}

var (
	errUploadForm = engine.Invalid("file",
		"the body must be multipart/form-data with one part, named file, holding the image")
	errUploadType = &statusError{http.StatusUnsupportedMediaType, engine.Invalid("file",
		"must be a PNG, JPEG, GIF or WebP image; its bytes are none of these (its name and declared type are not looked at)")}
)

// refusal is why an upload was refused, as its client hears it and as
// parley_uploads_total counts it.
type refusal struct {
	result string
	err    error
}

func (e *refusal) Error() string { return e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

// postUpload is POST /api/v1/uploads (S7, H5): one image in a multipart
// form, from an agent or admin with their API token, or from a shopper with
// their identity token. Its type is told from its bytes alone, its
// dimensions from its header without decoding it; it is stored under a
// name the server chooses, and answered with its URL.
func (s *Server) postUpload(w http.ResponseWriter, r *http.Request) {
	s.allowCORS(w, r)
	limit := s.cfg.MaxUploadBytes + formSlack
	if r.ContentLength > limit {
		s.refuseUpload(w, r, s.errUploadTooLarge())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	by, byID, ok := s.uploader(w, r)
	if !ok {
		return
	}
	data, err := s.readUploadForm(r)
	if err != nil {
		s.refuseUpload(w, r, err)
		return
	}
	u, err := s.keepImage(r.Context(), data, by, byID)
	var sniffed *sniffError
	switch {
	case errors.As(err, &sniffed):
		s.refuseUpload(w, r, sniffRefusal(sniffed.err))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	s.m.uploads.WithLabelValues(uploadAccepted).Inc()
	writeJSON(w, http.StatusCreated, struct {
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
	}{s.uploadURL(r, u.Name), u.ContentType})
}

// uploader authenticates an upload: an agent or an admin by their API
// token, or a shopper by their identity token, verified as the socket's
// hello verifies it — the one endpoint that takes it. A store's token may
// not upload (403). The API's limit per token applies to both; a shopper's
// is kept per profile, whichever of its tokens it uses. On refusal it has
// answered.
func (s *Server) uploader(w http.ResponseWriter, r *http.Request) (engine.Party, string, bool) {
	by, byID, key := engine.PartyAgent, "", ""
	if p, ok := s.authenticate(r); ok {
		if err := s.checkCSRF(r); err != nil { // an upload stores something: the cookie needs the header
			s.writeError(w, r, err)
			return "", "", false
		}
		if !hasRole(p.Role, asAgent) {
			s.writeError(w, r, errForbidden)
			return "", "", false
		}
		byID, key = p.ID, p.ID
	} else if token, ok := bearerToken(r); ok {
		v, err := s.verifyIdentity(token)
		if err != nil {
			s.log.Info("identity token refused for an upload", slog.Any("reason", err))
		} else {
			by, byID, key = engine.PartyShopper, v.ProfileID, "shopper\x00"+v.ProfileID
		}
	}
	if key == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
		s.writeError(w, r, errUnauthorized)
		return "", "", false
	}
	if ok, wait := s.calls.allow(key, s.cfg.Now()); !ok {
		retryAfter(w, wait)
		s.writeError(w, r, errAPIRate)
		return "", "", false
	}
	return by, byID, true
}

// readUploadForm reads the form's one part, named file, and nothing else:
// no other part may come before or after it. It reads at most
// MaxUploadBytes of the file, and never writes to disk.
func (s *Server) readUploadForm(r *http.Request) ([]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &refusal{uploadBadForm, errUploadForm}
	}
	part, err := mr.NextPart()
	if err != nil {
		return nil, s.formError(err)
	}
	defer part.Close()
	if part.FormName() != "file" {
		return nil, &refusal{uploadBadForm, errUploadForm}
	}
	limit := s.cfg.MaxUploadBytes
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 512), limit+1)))
	if n, err := buf.ReadFrom(io.LimitReader(part, limit+1)); err != nil {
		return nil, s.formError(err)
	} else if n > limit {
		return nil, s.errUploadTooLarge()
	}
	if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
		return nil, s.formError(err)
	}
	return buf.Bytes(), nil
}

// formError is a failure to read the form: a body over the limit, or a
// form that is not one part named file.
func (s *Server) formError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return s.errUploadTooLarge()
	}
	return &refusal{uploadBadForm, errUploadForm}
}

func (s *Server) errUploadTooLarge() error {
	return &refusal{uploadTooLarge, &engine.Error{Code: engine.CodeTooLarge, Field: "file",
		Message: fmt.Sprintf("file: an upload holds at most %d bytes", s.cfg.MaxUploadBytes)}}
}

// keepImage stores data as an upload if its bytes are an image (told by
// media.Sniff, never by a name or a declared type); a file that is not
// one is a *sniffError.
func (s *Server) keepImage(ctx context.Context, data []byte, by engine.Party, byID string) (engine.Upload, error) {
	img, err := media.Sniff(data)
	if err != nil {
		return engine.Upload{}, &sniffError{err}
	}
	u := engine.Upload{
		Name: engine.NewUploadName(img.Type), ContentType: img.Type, Size: int64(len(data)),
		Width: img.Width, Height: img.Height, By: by, ByID: byID, At: s.cfg.Now().UTC(),
	}
	return u, s.files.PutUpload(ctx, u, data)
}

// sniffError is a file media.Sniff refused.
type sniffError struct{ err error }

func (e *sniffError) Error() string { return e.err.Error() }
func (e *sniffError) Unwrap() error { return e.err }

// sniffRefusal is the answer to a file media.Sniff refused.
func sniffRefusal(err error) error {
	switch {
	case errors.Is(err, media.ErrUnsupported):
		return &refusal{uploadUnsupported, errUploadType}
	case errors.Is(err, media.ErrTooManyPixels):
		return &refusal{uploadTooManyPx, &engine.Error{Code: engine.CodeTooLarge, Field: "file",
			Message: "file: " + strings.TrimPrefix(err.Error(), "media: ")}}
	case errors.Is(err, media.ErrEmpty):
		return &refusal{uploadMalformed, engine.Invalid("file", "is empty")}
	}
	return &refusal{uploadMalformed, engine.Invalid("file", "%s", strings.TrimPrefix(err.Error(), "media: "))}
}

// refuseUpload answers a refused upload and counts it by reason.
func (s *Server) refuseUpload(w http.ResponseWriter, r *http.Request, err error) {
	var rf *refusal
	if errors.As(err, &rf) {
		s.m.uploads.WithLabelValues(rf.result).Inc()
	}
	s.writeError(w, r, err)
}
