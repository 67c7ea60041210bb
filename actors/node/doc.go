// Package node hosts actors by id on one node: a directory that spawns an
// actor for an id on demand, routes requests straight into running actors'
// mailboxes and passivates idle ones; the dispatcher every mailbox runs on;
// the idle timer that tells an actor when to passivate; and the hub that
// keeps an entity's subscribers outside its actor.
//
// It knows nothing of conversations, tickets or storage. In cluster mode
// (SPEC O7) this is the part that protoactor-go's virtual actors replace:
// callers address an actor by id through a Dir, never by a PID held across
// calls, so the placement can move without the callers changing.
//
// What it must never do: run two incarnations of one id at once, lose a
// request that raced a passivation, or block a sender on an actor's work.
package node
