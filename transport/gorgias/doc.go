// Package gorgias hands a conversation to a store's Gorgias (S10, C6): it is
// the Gorgias adapter of the engine.HandoffTarget port, a client of the REST
// API at the settings' `ai.gorgias.base_url`.
//
// # The ticket
//
// Client.Create makes one request, POST {base_url}/api/tickets, as Gorgias'
// REST API documents it:
//
//	Authorization: Basic base64("{username}:{api_key}")
//	Content-Type: application/json
//	Accept: application/json
//
//	{"customer": {"email": "ana@example.com", "name": "Ana Svensson"},
//	 "subject": "Where is my order?",
//	 "external_id": "{conversation id}",
//	 "channel": "api", "via": "api", "from_agent": false,
//	 "messages": [{
//	   "channel": "api", "via": "api", "from_agent": false,
//	   "sender": {"email": "ana@example.com"},
//	   "subject": "Where is my order?",
//	   "body_text": "Chat handed off by Parley's AI agent.\n…",
//	   "created_datetime": "2026-05-04T09:12:03Z"
//	 }]}
//
// and reads the new ticket's id from the 201 answer, the ticket itself:
// {"id": 123, "uri": "/api/tickets/123/", …}.
//
//   - customer: the shopper, by e-mail and name; Gorgias finds or creates
//     the customer by e-mail, so that an agent's reply reaches them.
//   - subject: the handoff's subject, or "Chat with <name>" (see
//     transport/transcript).
//   - external_id: the Parley conversation, so that an agent can tell a
//     duplicate, and find the ticket from Parley's id.
//   - channel "api", via "api", from_agent false: the ticket and its
//     message come in from the customer through the API, which is the
//     combination Gorgias' guide to creating tickets through the API
//     requires for its "API" channel; Gorgias' auto-reply rules do not
//     fire on it, so the shopper gets no auto-reply on top of Parley's
//     own message. ("chat" would claim Gorgias' own chat widget, which
//     the shopper never used and through which no reply would reach them.)
//   - messages: one message holding the whole conversation in plain text
//     (transport/transcript), one line per message with its time, author
//     and part, attachments as links; its sender is the shopper and its
//     created_datetime the conversation's first message. One message, not
//     one per line: the AI's and Parley's lines would have to be messages
//     "from an agent", which need a Gorgias user as sender and which
//     Gorgias sends to the customer unless marked as sent, so that the
//     shopper would get every answer a second time; a ticket also takes at
//     most 500 messages.
//
// A shopper without an e-mail address is not handed to Gorgias: Gorgias
// identifies the customer, the sender of the ticket's first message, by a
// Gorgias id or an e-mail address, Parley knows no Gorgias id, and without
// an address no agent's reply could reach the shopper outside the chat.
// Create fails with ErrNoEmail, marked Permanent, and the outbox falls back
// to Parley's Helpdesk, whose agents answer in the chat itself.
//
// # Retries
//
// Gorgias' API takes no idempotency key, so key is not sent. A retry after
// an attempt whose answer was lost (a timeout after Gorgias created the
// ticket) makes a second ticket; both carry the conversation's external_id,
// which tells an agent they are one.
//
// # Errors
//
// Answers are sorted as transport/httpcall says: a 429 (Gorgias' leaky
// bucket, 40 requests per 20 s for an API key, with Retry-After in
// seconds) is marked engine.RetryAfter; 408, 5xx, a timeout or a network
// error is a plain error, worth retrying; 400 (a field Gorgias refuses,
// named in its answer's error), 401 (a wrong username or API key), 403 (a
// user whose role may not create tickets), 404, 409, 413 and every other
// 4xx or redirect are marked engine.Permanent, quoting Gorgias' own error
// body. A 2xx without a ticket id is Permanent too: a ticket was probably
// made, and a retry would only make another. Every error starts with
// "gorgias: "; none contains the API key.
//
// # References
//
//   - Create a ticket: https://developers.gorgias.com/reference/create-ticket
//   - Creating a ticket through the API, the API channel:
//     https://developers.gorgias.com/docs/create-a-ticket-using-api
//   - Creating messages (incoming: from_agent false, the sender a customer;
//     outgoing messages are sent unless sent_datetime is set):
//     https://developers.gorgias.com/docs/create-a-new-message-in-ticket-via-api,
//     https://developers.gorgias.com/reference/create-ticket-message
//   - The ticket object (id, uri, external_id):
//     https://developers.gorgias.com/reference/the-ticket-object
//   - API keys and HTTP basic authentication (USERNAME:API_KEY):
//     https://developers.gorgias.com/docs/access-tokens-api-keys
//   - Rate limits, 429 and Retry-after: https://developers.gorgias.com/reference/limitations
//   - Errors: https://developers.gorgias.com/reference/errors
//
// # What it must never do
//
// It must never put the API key in an error or a log, never follow a
// redirect with the credentials, and never make a message that Gorgias
// would send to the shopper. It imports the standard library, engine and
// its sibling helpers (transport/httpcall, transport/transcript) only: it
// is an edge, called by the outbox outside every actor.
package gorgias
