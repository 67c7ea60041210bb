package transport

import (
	"net/http"
	"slices"
)

// routeMux is the server's http.ServeMux that also remembers every pattern
// registered on it, so that a test can hold the routes against the OpenAPI
// document (transport/openapi): an endpoint added without documentation
// fails there. Register routes only through its HandleFunc and Handle.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

// HandleFunc registers h for pattern, as http.ServeMux.HandleFunc does.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// Handle registers h for pattern, as http.ServeMux.Handle does.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// Patterns lists the patterns registered, in the order they were. Routes
// are registered in New only, so no lock is needed.
func (m *routeMux) Patterns() []string { return slices.Clone(m.patterns) }
