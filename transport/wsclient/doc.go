// Package wsclient is a Go client of Parley's shopper WebSocket, `GET /ws`,
// as the wire contract defines it (docs/protocol.md §2): what a widget does,
// in Go, for tests, the load tool and anyone scripting a shopper.
//
// # A socket
//
// Dial opens a socket and starts its reader, the one goroutine that reads
// it, which lives until the socket ends and which Close waits for. Frames
// go either to a callback on that goroutine (Options.OnFrame, in order, as
// they arrive: the load tool's way, with no hand-off per frame) or to a
// bounded queue that Read and ReadMessage take from (everyone else's way).
// A read from the queue that gives up because its context ended leaves the
// socket open: unlike coder/websocket's own Read, a wait with a timeout
// costs nothing but the wait.
//
// # The conversation
//
// Hello, StartChat and SendMessage send a frame and wait for the frame that
// answers it: the welcome, the `started` event, the message's `ack`. Frames
// that arrive meanwhile (an echo, an agent's reply, a receipt) stay queued,
// in order, for the next Read. A frame that refuses what was sent comes back
// as a *ServerError with its code. MarkRead and EndChat send and wait for
// nothing: their effect is an event like any other.
//
//	c, err := wsclient.Dial(ctx, "ws://127.0.0.1:8080/ws", nil)
//	...
//	defer c.Close()
//	w, err := c.Hello(ctx, token, nil)
//	started, err := c.StartChat(ctx)
//	ack, err := c.SendMessage(ctx, wsclient.Message{ClientID: "m1", Text: "Hi"})
//	f, err := c.Read(ctx) // the echo of m1, as an event
//
// # What it must never do
//
// It speaks the public contract only: it imports the standard library and
// coder/websocket, and never transport, actors or persist, so that what it
// proves about the server, a client written from docs/protocol.md could
// prove too. It also never decides for the caller what a frame means beyond
// matching the one answer it waits for.
package wsclient
