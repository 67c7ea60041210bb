package transport

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/parley-chat/parley/engine"
)

// This file is the one place that maps engine error codes to HTTP statuses
// and to WebSocket error frames.

// httpStatus maps an error code to its HTTP status.
func httpStatus(code engine.Code) int {
	switch code {
	case engine.CodeInvalid, engine.CodeHelloRequired:
		return http.StatusBadRequest
	case engine.CodeUnauthorized:
		return http.StatusUnauthorized
	case engine.CodeForbidden:
		return http.StatusForbidden
	case engine.CodeNotFound:
		return http.StatusNotFound
	case engine.CodeConflict, engine.CodeClosed, engine.CodeNoOpenConversation:
		return http.StatusConflict
	case engine.CodeRateLimited:
		return http.StatusTooManyRequests
	case engine.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case engine.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errTooLarge, errUnavailable and friends are the transport's own refusals.
var (
	errTooLarge     = &engine.Error{Code: engine.CodeTooLarge, Message: "request body too large"}
	errUnavailable  = &engine.Error{Code: engine.CodeUnavailable, Message: "the server is shutting down"}
	errUnauthorized = &engine.Error{Code: engine.CodeUnauthorized, Message: "a valid bearer token is required"}
	errForbidden    = &engine.Error{Code: engine.CodeForbidden, Message: "your role may not do this"}
	errInternal     = &engine.Error{Code: engine.CodeInternal, Message: "internal error"}
	errRateLimited  = &engine.Error{Code: engine.CodeRateLimited, Message: "too many frames; slow down"}
	errConnRate     = &engine.Error{Code: engine.CodeRateLimited, Message: "too many connections from this address; slow down"}
	errAPIRate      = &engine.Error{Code: engine.CodeRateLimited, Message: "too many requests with this token; slow down"}
	errOrigin       = &engine.Error{Code: engine.CodeForbidden, Message: "origin not allowed"}
	errMediaType    = &statusError{http.StatusUnsupportedMediaType, &engine.Error{Code: engine.CodeInvalid, Field: "Content-Type",
		Message: "Content-Type: the body must be JSON (application/json)"}}
)

// statusError is a refusal whose HTTP status is not the usual one of its
// code: a body that is not JSON is invalid, but its status is 415.
type statusError struct {
	status int
	err    *engine.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// public turns any error into what a client may see. Errors that are not an
// *engine.Error are internal: they are logged here and never shown.
func (s *Server) public(err error, where string) *engine.Error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errTooLarge
	}
	var e *engine.Error
	if errors.As(err, &e) {
		if e.Code == "" {
			return errInternal
		}
		if e.Code == engine.CodeInternal {
			s.log.Error("internal error", slog.String("where", where), slog.Any("err", err))
			return errInternal
		}
		return e
	}
	s.log.Error("internal error", slog.String("where", where), slog.Any("err", err))
	return errInternal
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    engine.Code `json:"code"`
	Message string      `json:"message"`
	Field   string      `json:"field,omitempty"`
}

// writeError answers an HTTP request with err as {"error":{code,message}}.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.public(err, r.Method+" "+r.URL.Path)
	if e.Code == engine.CodeRateLimited && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	status := httpStatus(e.Code)
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	writeJSON(w, status, errorBody{errorDetail{e.Code, e.Message, e.Field}})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

type errorFrame struct {
	Type     string      `json:"type"`
	Code     engine.Code `json:"code"`
	Message  string      `json:"message"`
	Field    string      `json:"field,omitempty"`
	ClientID string      `json:"client_id,omitempty"`
}

// errorFrameBytes is the WebSocket error frame for err; clientID is echoed
// when the refused frame carried one.
func (s *Server) errorFrameBytes(err error, clientID string) []byte {
	e := s.public(err, "ws")
	b, _ := json.Marshal(errorFrame{Type: "error", Code: e.Code, Message: e.Message, Field: e.Field, ClientID: clientID})
	return b
}
