// Package loadtest is Parley's load tool, the engine of `parley bench`: it
// opens thousands of shopper sockets and a few agents against a local
// server (one it spawns from the parley binary, or one running on loopback)
// and measures what a user would feel — connect latency, send → ack latency,
// agent reply → shopper latency, a resume storm — and what the server pays
// for it: memory per connection and CPU per 1,000 acknowledged messages,
// with the server's own account of send → ack from its /metrics, and how
// often the machine stalled both of them. Every phase is bounded in count
// and time. With Config.Kills it also SIGKILLs and restarts the server it
// spawned during the load, and then checks every acknowledged message in
// the stored logs (chaos.go). With Config.AI it turns the server's AI agent
// on, has the shoppers ask the sample FAQs' questions and times each one
// until the AI's answer arrives (ai.go).
//
// Run takes a Config and returns a Report; the command parses flags and
// PARLEY_ variables into the Config and prints the Report.
//
// The tool shares the machine with the server it measures, so its own CPU
// is kept small: each shopper socket has one reader goroutine, which decodes
// the frames that make nearly all of the traffic without reflection
// (frame.go) and, in the closed loop, sends the shopper's next message
// itself.
//
// It is a local load generator, never a tool to point at someone else's
// server: it only ever targets loopback addresses.
package loadtest
