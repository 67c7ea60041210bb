// Package zendesk hands a conversation to a store's Zendesk (S10, C6): it is
// the Zendesk adapter of the engine.HandoffTarget port, a client of the
// Ticketing API at the settings' `ai.zendesk.base_url`.
//
// # The ticket
//
// Client.Create makes one request, POST {base_url}/api/v2/tickets.json, as
// Zendesk's Tickets API documents it:
//
//	Authorization: Basic base64("{email}/token:{api_token}")
//	Content-Type: application/json
//	Accept: application/json
//	Idempotency-Key: {key}
//
//	{"ticket": {
//	  "subject": "Where is my order?",
//	  "comment": {"body": "Chat handed off by Parley's AI agent.\n…", "public": false},
//	  "requester": {"name": "Ana Svensson", "email": "ana@example.com"},
//	  "external_id": "{conversation id}",
//	  "tags": ["parley"]
//	}}
//
// and reads the new ticket's id from the 201 answer, {"ticket": {"id": 35436,
// …}}.
//
//   - subject: the handoff's subject (the shopper's first message, clipped),
//     or "Chat with <name>"; see transport/transcript.
//   - comment: the whole conversation in plain text (transport/transcript),
//     one line per message with its time, author and part, attachments as
//     links. It is private (public: false): it is the agents' context,
//     holding the AI's answers and Parley's own messages; the shopper has
//     it already in the chat; and a public first comment may be e-mailed
//     back to the requester by the account's triggers. The agent's first
//     public reply is what reaches the shopper.
//   - requester: the shopper, by name and e-mail, whom Zendesk finds or
//     creates as an end user, so that an agent's reply reaches them by
//     e-mail. Without a name the e-mail stands for it.
//   - external_id: the Parley conversation, so that an agent can tell a
//     duplicate, and find the ticket from Parley's id.
//   - tags: "parley", for views and triggers.
//
// A shopper without an e-mail address is not handed to Zendesk: the
// requester would be the API token's own user, an agent's replies would
// reach nobody, and the shopper would be left unanswered. Create fails
// with ErrNoEmail, marked Permanent, and the outbox falls back to Parley's
// Helpdesk, whose agents answer in the chat itself.
//
// # Retries
//
// key goes in the Idempotency-Key header, which the Ticketing API accepts
// on ticket creation so that a request can be retried without creating a
// duplicate: a repeated request with the same key gets the first ticket back
// (x-idempotency-lookup: hit) as long as Zendesk keeps the key. The same key
// must come with the same body, which it does: the body depends on the
// handoff alone, never on the settings of the moment.
//
// # Errors
//
// Answers are sorted as transport/httpcall says: a 429 (Zendesk's rate
// limit, with Retry-After in seconds) is marked engine.RetryAfter; 408,
// 5xx, a timeout or a network error is a plain error, worth retrying; 401
// (a wrong e-mail or token, or token access turned off), 403, 404 (no help
// desk at that address), 422 (a field Zendesk refuses, named in its
// answer) and every other 4xx or redirect are marked engine.Permanent,
// quoting Zendesk's own error body. A 2xx without a ticket id is Permanent
// too: a ticket was probably made, and a retry would only make another.
// Every error starts with "zendesk: "; none contains the API token.
//
// # References
//
//   - Tickets API, Create Ticket: https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/
//   - API token authentication, "{email_address}/token:{api_token}":
//     https://developer.zendesk.com/api-reference/introduction/security-and-auth/
//   - Idempotency-Key and x-idempotency-lookup:
//     https://developer.zendesk.com/api-reference/ticketing/introduction/#idempotency
//   - Request and response format (Content-Type and Accept, 201 Created,
//     error bodies): https://developer.zendesk.com/api-reference/introduction/requests/
//   - Rate limits, 429 and Retry-After:
//     https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/best-practices-for-avoiding-rate-limiting/
//
// # What it must never do
//
// It must never put the API token in an error or a log, never follow a
// redirect with the credentials, and never create a second ticket for a
// retry it can recognise. It imports the standard library, engine and its
// sibling helpers (transport/httpcall, transport/transcript) only: it is an
// edge, called by the outbox outside every actor.
package zendesk
