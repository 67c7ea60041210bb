package engine

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients. The transport maps each code to an HTTP
// status and a WebSocket error frame in one place.
type Code string

// The error codes of the wire contract.
const (
	CodeInvalid            Code = "invalid"
	CodeUnauthorized       Code = "unauthorized"
	CodeForbidden          Code = "forbidden"
	CodeNotFound           Code = "not_found"
	CodeConflict           Code = "conflict"
	CodeClosed             Code = "closed"
	CodeNoOpenConversation Code = "no_open_conversation"
	CodeHelloRequired      Code = "hello_required"
	CodeRateLimited        Code = "rate_limited"
	CodeTooLarge           Code = "too_large"
	CodeUnavailable        Code = "unavailable"
	CodeInternal           Code = "internal"
)

// Error is a domain error with a code, a human message and, for invalid input,
// the offending field (dotted path, e.g. "webchat.login_mode").
type Error struct {
	Code    Code
	Message string
	Field   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid-input error naming the field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: its own for an *Error, internal otherwise.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Common errors.
var (
	ErrClosed             = &Error{Code: CodeClosed, Message: "the conversation has ended"}
	ErrNoOpenConversation = &Error{Code: CodeNoOpenConversation, Message: "no open conversation"}
	ErrNotFound           = &Error{Code: CodeNotFound, Message: "not found"}
)

// Duplicate is returned by Decide when a message's client_id was already
// stored: the command is answered with the original seq and stores nothing.
type Duplicate struct {
	ClientID string
	Seq      uint64
}

func (d *Duplicate) Error() string {
	return fmt.Sprintf("duplicate client_id %q (seq %d)", d.ClientID, d.Seq)
}
