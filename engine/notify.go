package engine

import (
	"context"
	"errors"
	"time"
)

// NewTicketNotice is a new ticket as the people who answer it first hear of
// it (H9): who wrote, on which channel, and the first message.
type NewTicketNotice struct {
	Ticket    string    `json:"ticket"`
	Channel   Channel   `json:"channel"`
	ProfileID string    `json:"profile_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
}

// Notifier tells agents of new tickets (H9, C7): by e-mail through SMTP.
// It is called from a durable outbox, outside every actor, with the e-mail
// settings current at the time of the attempt; key is the same on every
// attempt at one notice, so that a receiver can tell a retry from a new one.
// An error wrapped by Permanent is not retried.
type Notifier interface {
	NewTicket(ctx context.Context, s EmailSettings, key string, n NewTicketNotice) error
}

// Permanent marks a failure that retrying cannot mend (a recipient refused
// for good, a malformed address): the outbox gives up on it at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// RetryAfter marks a failure whose other side said when to try again (an
// HTTP 429 or 503 with Retry-After): the outbox waits at least that long.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err, d}
}

// RetryDelay is the wait a RetryAfter error asks for, and whether it asks.
func RetryDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (r *retryAfterError) Error() string { return r.err.Error() }
func (r *retryAfterError) Unwrap() error { return r.err }
