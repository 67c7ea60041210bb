// Package twilio is Parley's SMS channel through Twilio (I2): the Twilio
// adapter of the engine.SMSSender port, a client of Twilio's Programmable
// Messaging API at the settings' `sms.base_url` (https://api.twilio.com
// when empty), and the verifier of the signatures of the requests Twilio
// sends to Parley's webhooks.
//
// # Sending a text
//
// Client.Send makes one request, Create a Message, as Twilio's Message
// resource documents it:
//
//	POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json
//	Authorization: Basic base64("{AccountSid}:{AuthToken}")
//	Content-Type: application/x-www-form-urlencoded
//	Accept: application/json
//	I-Twilio-Idempotency-Token: {key}
//
//	To=%2B46701234567&From=%2B46766861004&Body=Hej+Ana%21
//	  &MediaUrl=https%3A%2F%2F…&StatusCallback=https%3A%2F%2F…
//
// and reads the new message's sid from the 201 answer, {"sid": "SM…",
// "status": "queued", …}.
//
//   - To, From: E.164 numbers. From is the text's own From if it has one,
//     else the settings' sms.from.
//   - Body: the text, sent whole. Twilio splits a text longer than one SMS
//     into segments that the phone joins again, up to 1,600 characters
//     (engine.MaxSMSRunes), and refuses a longer one with error 21617.
//     Segments counts what a text will cost.
//   - MediaUrl: once per picture (MMS), each a URL Twilio can fetch.
//   - StatusCallback: where Twilio reports what became of the message
//     (queued, sent, delivered, undelivered, failed), when set.
//
// # Retries
//
// Twilio documents no idempotency for creating a message: a request
// repeated after an answer that was lost (a timeout, a reset connection)
// sends the text a second time. The outbox's key goes in the
// I-Twilio-Idempotency-Token header all the same, on every attempt at one
// message: Twilio ignores it (it is the name Twilio gives the token on the
// webhook requests it retries), but a proxy in front of the API (set as
// sms.base_url) can drop the repeats of a key it has passed on. A 2xx
// without a sid is Permanent: the text was probably queued, and a retry
// would only send it again.
//
// # Errors
//
// Answers are sorted as transport/httpcall says, and one in Twilio's error
// format ({"code": 21211, "message": "…", "more_info": "…", "status": 400})
// becomes an *Error that quotes Twilio's code and message. A 429 (error
// 20429, too many requests at once) is marked engine.RetryAfter with the
// wait its Retry-After asks for; 408, 5xx, a timeout or a network error is
// a plain error, worth retrying; 400 (21211, an invalid To number; 21610,
// a recipient who texted STOP, see IsUnsubscribed; 21617, a text too long;
// and the rest), 401 (20003, a wrong account sid or auth token), 403, 404
// and every other 4xx or redirect are marked engine.Permanent. Every error
// starts with "twilio: "; none contains the auth token.
//
// # Webhook signatures
//
// Twilio signs every request it sends to a webhook (an incoming text, a
// status callback) with the account's auth token, in the
// X-Twilio-Signature header. Valid checks one: Signature computes
// base64(HMAC-SHA1(auth token, the full URL + each POST parameter's name
// and value, sorted by name)), and Valid compares in constant time,
// accepting the URL with or without its scheme's standard port, as
// Twilio's own libraries do. The URL must be the one Twilio was given,
// as the settings wrote it: a proxy that changes the scheme, host or port
// on the way in must not change what is checked. Only form-encoded bodies
// are covered (Twilio's messaging webhooks are all form-encoded); a JSON
// body's bodySHA256 and a webhook rule's HMAC-SHA256 are not.
//
// # References
//
//   - Message resource, Create a Message:
//     https://www.twilio.com/docs/messaging/api/message-resource
//   - Errors: https://www.twilio.com/docs/api/errors (20003, 20429, 21211,
//     21610, 21617)
//   - Message segments and encodings:
//     https://www.twilio.com/docs/glossary/what-sms-character-limit,
//     https://github.com/TwilioDevEd/message-segment-calculator
//   - Webhook security, X-Twilio-Signature:
//     https://www.twilio.com/docs/usage/webhooks/webhooks-security; the
//     port tolerance as in twilio-go's client/request_validator.go
//   - I-Twilio-Idempotency-Token on webhooks:
//     https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides
//
// # What it must never do
//
// It must never put the auth token in an error or a log, never follow a
// redirect with the credentials, never accept a webhook request whose
// signature it cannot check (an empty auth token validates nothing), and
// never compare signatures in variable time. It imports the standard
// library, engine and transport/httpcall only: it is an edge, called by
// the outbox and the webhook handler outside every actor.
package twilio
