// Package transport is Parley's edge: the shopper WebSocket (PROTOCOL §2), the
// agent and store HTTP API with its live inbox stream (§3), health, readiness
// and metrics (§4), uploaded images and where they are served, and the demo
// page.
//
// It turns frames and requests into calls on the Chat, Helpdesk, Admin, Auth
// and Uploads services (services.go; *actors.System provides them) and answers with
// the wire shapes of PROTOCOL.md, which is a public contract: field names,
// status codes, close codes and error codes here must match it to the letter.
// Engine error codes are mapped to HTTP statuses and error frames in one place
// (errors.go), and events are put on the wire by one function (wire.go).
//
// Transport must never block an actor: a connection's Deliver only queues, and
// a client too slow to drain its bounded queue is disconnected. It must never
// log a token, never put user input into a log message (only into attributes),
// never let an internal error's details reach a client, never trust an
// upload's name or declared type (media tells its type from its bytes), and
// never believe a forwarding header (X-Forwarded-For, Forwarded) from a peer
// it was not told to trust, nor anything a client wrote to the left of its
// own hop (clientaddr.go).
package transport
