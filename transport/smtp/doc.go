// Package smtp sends Parley's new-ticket e-mails (H9, C7): it is the e-mail
// adapter of the engine.Notifier port, a client of the SMTP server that the
// settings' `notifications.email.smtp` names.
//
// # One notice, one session
//
// Mailer.NewTicket dials the server, greets it, switches to TLS with
// STARTTLS when the server offers it (plain SMTP otherwise), authenticates
// with AUTH PLAIN when a username is set, and hands over one message for
// every recipient in one transaction. The whole send is bounded by
// Mailer.Timeout and by the caller's context.
//
// The message is plain text (UTF-8, quoted-printable): who wrote, their
// e-mail, the channel, when, the first message and a link to the ticket in
// the inbox. Its Message-ID is derived from the notice's key, so that a
// retry after a crash carries the same Message-ID and mail clients fold
// the duplicates.
//
// # Errors
//
// An error wrapped by engine.Permanent is a failure that retrying cannot
// mend: a 5xx reply, an address that is not one, a password that would go
// in the clear. Every other error (a 4xx reply, a network error, a timeout)
// is worth retrying, as the outbox that calls NewTicket does, with back-off.
// Every error starts with "smtp: " and names the step that failed.
//
// # What it must never do
//
// It must never send a password over a connection that is not encrypted,
// except to a server on the same machine (net/smtp's rule), never skip the
// verification of the server's certificate, never put the password in an
// error, and never let text from a customer (a name, a message) make a
// header of its own. It imports the standard library and engine only: it
// is an edge, called from outside every actor, and knows nothing of actors,
// persist or transport.
package smtp
