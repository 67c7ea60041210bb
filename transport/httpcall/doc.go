// Package httpcall is what Parley's clients of other services' REST APIs
// (transport/zendesk, transport/gorgias, transport/twilio) have in common:
// one POST with HTTP basic authentication, bounded in time, whose outcome is
// sorted the way the durable outbox that calls them needs it
// (engine.Permanent, engine.RetryAfter, or a plain error that is worth
// retrying).
//
// # The body
//
// A Request's body is JSON (Request.Body, sent as application/json) or an
// HTML form (Request.Form, sent as application/x-www-form-urlencoded, as
// Twilio's REST API takes its parameters); never both. Either way the
// request asks for JSON back (Accept: application/json).
//
// # How an answer is sorted
//
//   - 2xx: success; Post returns the body.
//   - 429 Too Many Requests: engine.RetryAfter, with the wait its Retry-After
//     header asks for (delay-seconds or an HTTP date, RFC 9110 §10.2.3), or
//     DefaultRetryAfter when it has none that parses.
//   - 408 Request Timeout and every 5xx: a plain error, to be retried; a 5xx
//     that carries Retry-After (a 503 in maintenance) is marked
//     engine.RetryAfter with that wait.
//   - every other 4xx (400, 401, 403, 404, 409, 422, …): engine.Permanent,
//     since the same request will be refused again: the settings or the data
//     must change. The contract of the external handoff (PROTOCOL §3) says
//     the same.
//   - 3xx: engine.Permanent. Redirects are never followed: a POST turned
//     into a GET creates nothing, and credentials must not follow a redirect
//     to another host. A base URL that redirects (http:// to https://, an
//     old domain) is a setting to correct, and the error names the Location.
//   - no answer within the timeout, a refused connection, a reset, a broken
//     body: a plain error, to be retried.
//
// Every error starts with the service's name ("zendesk: ") and is a
// *StatusError when the other side answered; its message is the other
// side's own error body, on one line and bounded (MaxMessage), so that an
// admin reading it learns what the service said.
//
// # What it must never do
//
// It never puts a password, API token or API key into an error: the
// Authorization header is never printed, base URLs with credentials in them
// are refused, and the secret is cut out of any message that echoes it. It
// never follows a redirect, never logs, and imports the standard library and
// engine only.
package httpcall
