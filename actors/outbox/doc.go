// Package outbox delivers the calls to other systems that Parley owes — an
// e-mail to the agents about a new ticket; later webhooks, handoffs and SMS —
// from the durable outbox that commits write (persist.OutboxEntry).
//
// An entry is stored in the same batch as the event that caused it, so the
// two never disagree; the Worker then delivers it on its own goroutines,
// each attempt with a timeout, and retries a failure with exponential
// back-off (at least as long as the other side's Retry-After) until it
// succeeds, fails for good (engine.Permanent), or is older than the
// give-up age. A restart loses nothing: whatever is not done is still
// stored, and due.
//
// What it must never do: run inside an actor's Receive, let a slow target
// hold up another target or a conversation, or drop an entry without
// storing why.
package outbox
