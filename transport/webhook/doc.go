// Package webhook delivers a store's webhooks (I3): it is the
// engine.WebhookSender that the durable outbox calls, outside every actor,
// for each event an endpoint subscribes to. Deliveries follow the Standard
// Webhooks convention, so that a receiver can check them with any of its
// libraries, or with Verify, or with a few lines of any language's
// standard library (docs/webhooks.md).
//
// # A delivery
//
// Sender.Send makes one request:
//
//	POST {the endpoint's URL}
//	Content-Type: application/json
//	User-Agent: Parley-Webhooks/1
//	webhook-id: {the message's id, the same on every attempt}
//	webhook-timestamp: {this attempt's time, in Unix seconds}
//	webhook-signature: v1,{base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body)}
//
//	{the message's body, byte for byte}
//
// where key is the endpoint's secret ("whsec_" and base64, made by
// NewSecret) with its prefix removed and base64-decoded.
//
// # How an outcome is sorted
//
// Standard Webhooks counts any answer but a 2xx as a failure to try again,
// and so does Send:
//
//   - 2xx: delivered.
//   - 429 and 503 with a Retry-After (seconds or an HTTP date):
//     engine.RetryAfter, so that the outbox waits at least that long.
//   - every other status, 3xx, 4xx and 5xx alike, and every timeout or
//     network error: a plain error, retried with the outbox's back-off.
//     410 Gone is no exception: the endpoint's owner deletes the webhook
//     when they want no more. Redirects are never followed: the error
//     names the Location, for the admin to correct the URL.
//   - an endpoint that resolves to an address that is not public, and a
//     webhook that cannot make a request (a malformed secret or id):
//     engine.Permanent.
//
// An error quotes at most a few hundred bytes of the answer's body, on one
// line: enough for the receiver's own error message, which the API shows
// with the failed delivery.
//
// # Receiving
//
// A receiver must read the raw body, before decoding any JSON, and call
// Verify with its secret, the request's headers and the time: a delivery
// whose signature does not match, or that was signed more than the
// tolerance (5 minutes) from now, is refused. Delivery is at least once: an
// attempt that timed out on Parley's side may have been processed, and is
// sent again with the same webhook-id and a new timestamp and signature.
// A receiver that must not act twice keeps the ids it has processed (for
// longer than the outbox retries: a day) and answers 2xx to one it has
// seen, without acting on it again. See the example of Verify.
//
// # Server-side request forgery
//
// A webhook's URL is chosen by whoever holds an admin token, and Parley
// posts to it from inside its own network. Unless Sender.AllowPrivate
// (--webhook-allow-private) is set, the Sender's dialer refuses, in
// net.Dialer.ControlContext, every connection to an address that is not
// public: loopback, private, link-local (the clouds' metadata service at
// 169.254.169.254), carrier-grade NAT, multicast, unspecified, reserved and
// documentation ranges, and the IPv4-mapped IPv6 forms of all these. The
// check is made on the address actually dialled, after the DNS look-up,
// for every connection, so that neither a name that answers differently on
// the second look-up (DNS rebinding) nor a redirect gets past it; proxies
// from the environment are ignored, since a proxy would make the
// connection itself. CheckURL gives the API the same answer earlier, when
// a webhook is registered.
//
// # References
//
//   - Standard Webhooks, the specification:
//     https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
//   - IANA IPv4 and IPv6 Special-Purpose Address Registries:
//     https://www.iana.org/assignments/iana-ipv4-special-registry/
//     https://www.iana.org/assignments/iana-ipv6-special-registry/
//
// # What it must never do
//
// It must never put an endpoint's secret in an error or a log, never sign
// anything but the exact bytes it sends, never follow a redirect, never
// use a proxy, and never connect to an address that is not public unless
// told to. It never logs, and it imports the standard library, engine and
// transport/httpcall only.
package webhook
