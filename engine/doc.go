// Package engine is Parley's domain: the commands, events and state of
// conversations and tickets, settings, FAQs and agents, and the rules that turn
// a command into events (decide) and events into state (apply). It also holds
// the AI agent's ports and its built-in answerer, a search of the store's FAQs
// and articles (Knowledge, Retrieval).
//
// Everything here is plain data and pure functions. The package must never
// import an adapter — no storage, no actor system, no network, no metrics — and
// must never read the clock: callers pass the time in, so the rules replay the
// same way from a log as they ran the first time.
//
// The shape every state change follows is
//
//	events, err := state.Decide(command) // pure: may refuse, never mutates
//	... persist the events durably ...
//	state.Apply(event)                   // for each event, in seq order
//
// Events carry everything needed to rebuild state; applying the same log always
// yields the same state.
package engine
