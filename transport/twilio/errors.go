package twilio

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/parley-chat/parley/transport/httpcall"
)

// Twilio's error codes that Parley tells apart. Every other code is kept
// in Error.Code as Twilio sent it; https://www.twilio.com/docs/api/errors
// lists them all.
const (
	// CodeAuthenticate (401): the account sid or the auth token is wrong.
	CodeAuthenticate = 20003
	// CodeTooManyRequests (429): the account sent too many requests at
	// once.
	CodeTooManyRequests = 20429
	// CodeInvalidTo (400): the To number is not a valid phone number.
	CodeInvalidTo = 21211
	// CodeUnsubscribed (400): the recipient texted STOP (or another
	// opt-out keyword) to this sender, and Twilio blocks every text to
	// them from it until they text START. See IsUnsubscribed.
	CodeUnsubscribed = 21610
)

// Error is an answer other than 2xx in Twilio's own error format,
//
//	{"code": 21211, "message": "The 'To' number 5551234 is not a valid phone number.",
//	 "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
//
// It wraps the *httpcall.StatusError of the same answer, marked for the
// outbox (engine.Permanent, engine.RetryAfter or neither) as
// transport/httpcall sorts it, so engine.IsPermanent and engine.RetryDelay
// see through it.
type Error struct {
	Status   int    // the HTTP status: 400
	Code     int    // Twilio's error code: 21211
	Message  string // Twilio's message, on one line
	Detail   string // Twilio's detail, if any, on one line
	MoreInfo string // the page on the code, if any
	As       string // for 401 and 403: the account sid the request used

	err error
}

// Error reads as `twilio: 400 Bad Request: Twilio error 21211: The 'To'
// number 5551234 is not a valid phone number.
// (https://www.twilio.com/docs/errors/21211)`.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "twilio: %d %s", e.Status, http.StatusText(e.Status))
	if e.As != "" {
		fmt.Fprintf(&b, " (as %s)", e.As)
	}
	fmt.Fprintf(&b, ": Twilio error %d", e.Code)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.MoreInfo != "" {
		b.WriteString(" (" + e.MoreInfo + ")")
	}
	return b.String()
}

// Unwrap is the sorted *httpcall.StatusError.
func (e *Error) Unwrap() error { return e.err }

// IsUnsubscribed reports whether err is Twilio's refusal to text a
// recipient who opted out of this sender's texts (error 21610). Such an
// error is also engine.Permanent: no retry will reach them until they text
// START.
func IsUnsubscribed(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeUnsubscribed
}

// asTwilioError is err, from httpcall, as an *Error when Twilio's answer
// is in its error format, or as it is.
func asTwilioError(err error, token string) error {
	var se *httpcall.StatusError
	if !errors.As(err, &se) {
		return err
	}
	// se.Message is the body compacted on one line; one cut at
	// httpcall.MaxMessage no longer parses, and is quoted as it is.
	var answer struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		Detail   string `json:"detail"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal([]byte(se.Message), &answer) != nil || answer.Code == 0 {
		return err
	}
	return &Error{
		Status:   se.Code,
		Code:     answer.Code,
		Message:  line(answer.Message, token),
		Detail:   line(answer.Detail, token),
		MoreInfo: line(answer.MoreInfo, token),
		As:       se.As,
		err:      err,
	}
}

// line is s, a string from Twilio's answer, as an error shows it: on one
// line, without control characters, bounded, and without the auth token
// (which the httpcall already cut out of the JSON, but which an escape in
// it could have hidden).
func line(s, token string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if token != "" {
		s = strings.ReplaceAll(s, token, "[secret]")
	}
	return httpcall.Message([]byte(s))
}
