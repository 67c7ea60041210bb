// Package persist is Parley's durable state on one Pebble database: the event
// logs of conversations and tickets, their snapshots, the inbox rows and
// other indexes, customer profiles, and the store's configuration (settings,
// FAQs, agents).
//
// # What it promises
//
// Append writes one Commit — every change to one conversation and its ticket
// caused by one command — in one atomic batch, and returns nil only after the
// batch is fsync'd. It checks, under the stream's lock, that the events
// continue their streams without a gap or a fork (*ConflictError) and that no
// message repeats a stored client id (*DuplicateError); a refused commit
// writes nothing. Concurrent appends share fsyncs through Pebble's commit
// pipeline (group commit), so throughput grows with the number of
// conversations writing at once rather than being bounded by one fsync per
// event.
//
// Start-up never needs to read every event ever written, nor every ticket:
// Load reads the newest snapshot and the events after it, and ActiveRows
// reads the rows of the open and snoozed tickets in one range scan. Closed
// tickets are listed a page at a time by a range scan of an index ordered by
// activity (ClosedRows), and counted by a count kept with them (rows.go). A
// data directory of an earlier layout is migrated once, at Open (migrate.go).
//
// # What it must never do
//
// It never decides anything about the domain: it stores what engine decided
// and rebuilds state with engine's Apply. It never writes a batch that spans
// two conversations, never acknowledges a write before it is durable, never
// swallows a storage error, and never exits the process (Pebble's fatal log
// panics instead). A write whose events are visible to readers before Append
// returns is possible (Pebble makes a batch visible before its fsync); callers
// follow decide → persist → apply and act only on acknowledged appends, and
// LastSeq counts only appends whose fsync has returned.
//
// # Layout
//
// Keys are described in keys.go. Stored values come in three formats, each
// in its own file with its schema: events (event_codec.go) and inbox rows
// (row_codec.go) in protobuf wire format, on the primitives of wire.go; every
// other record (snapshots, configuration, profiles) as JSON after a format
// byte (record.go).
package persist
