// Package openapi holds the OpenAPI 3.1 document of Parley's agent, store
// and admin HTTP API (/api/v1), as the server serves it at
// GET /api/v1/openapi.json and as the page /api/docs shows it.
//
// The document is written by hand, in openapi.json, and reviewed like code;
// nothing generates it. What keeps it true is the transport package's
// tests: every route registered under /api/v1 must be in it, and every
// answer of a realistic session with the real server (its status, the
// headers it declares and its JSON body) must match it, as validated by
// kin-openapi. A change to the API that the document does not follow fails
// those tests.
//
// What it must never do: describe what the server does not do, or import
// anything. It is bytes and nothing more.
package openapi
