// Package actors hosts Parley's live state in protoactor-go actors: one
// conversation actor per chat (it owns the conversation log and the ticket
// that shares its id), one profile actor per customer (at most one open
// web-chat per profile, H8), and one inbox actor per node (ticket rows and the
// unread badge, H1/H2). A directory actor spawns them by id, passivates idle
// ones and reactivates them from storage.
//
// Every state change follows decide → persist (durably) → apply → publish →
// reply: nothing is acknowledged or shown to anyone before it is fsync'd.
//
// What this package must never do: block inside Receive on anything but its
// own storage (no network, no AI, no e-mail — those run outside and report back
// as messages); hand out actor PIDs to callers (everything is addressed by id
// through the directory, so an actor may stop and come back at any time); let a
// slow subscriber stall an actor (subscribers are non-blocking and dropped when
// full).
package actors
