// Package web holds the pages Parley serves, embedded in the binary: the
// shopper's chat widget (widget.js, which a store puts on its pages with one
// script tag), the demo store, the agents' inbox and settings, and the API
// reference (apidocs.html, which draws /api/v1/openapi.json). They are
// plain HTML, CSS and JavaScript modules, with no build step.
//
// What they must never do: put user content into the page as HTML (every
// name, message and preview is set as text), load script or style from
// anywhere but this server, or use inline script, inline style attributes or
// eval (the pages are served under a Content-Security-Policy that forbids
// them).
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS is the pages and their assets: widget.js, widget.css, demo.html,
// inbox.html, settings.html, apidocs.html and assets/…
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}
