// Package config is the store's configuration as Parley serves it: settings,
// FAQs and knowledge articles, macros, and agents with their hashed API
// tokens, cached in memory and written through to storage.
//
// Reads are cheap and never wait for storage: every shopper hello reads the
// settings and FAQs, and every API request authenticates a token. Writes are
// rare and durable: a write returns once storage has it on disk, and readers
// see the new value only then.
//
// What it must never do: keep or compare a token in the clear (only its
// SHA-256 is stored and looked up), hold the lock that readers take while
// it waits for storage, or show a change storage refused.
package config
