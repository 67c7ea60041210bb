package transport

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parley-chat/parley/transport/openapi"
)

// The document is valid OpenAPI 3.1, written readably (2-space
// indentation), and every operation says what it is for.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadSpec(t)
	for i, line := range strings.Split(string(openapi.Document()), "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if strings.Contains(line, "\t") || indent%2 != 0 {
			t.Errorf("openapi.json line %d is not indented with 2 spaces: %q", i+1, line)
		}
	}
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		tags[tag.Name] = true
	}
	ids := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Summary == "" || op.OperationID == "" || len(op.Tags) != 1 || !tags[op.Tags[0]] {
				t.Errorf("%s: wants a summary, an operationId and one of the document's tags: %q %q %v", name, op.Summary, op.OperationID, op.Tags)
			}
			if ids[op.OperationID] {
				t.Errorf("%s: operationId %s is used twice", name, op.OperationID)
			}
			ids[op.OperationID] = true
		}
	}
	for _, s := range []string{"bearer", "session", "csrf", "twilioSignature"} {
		if doc.Components.SecuritySchemes[s] == nil {
			t.Errorf("no security scheme %s", s)
		}
	}
}

// Every route the server registers under /api/v1 is in the document, and
// every operation of the document is a route: an endpoint added without
// documentation, or documentation of an endpoint that is not there, fails
// here.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h := start(t, Config{Demo: true})
	doc := loadSpec(t)
	var routes []string
	for _, p := range h.srv.mux.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if ok && strings.HasPrefix(path, "/api/v1/") {
			routes = append(routes, method+" "+path)
		}
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(routes)
	sort.Strings(documented)
	if len(routes) < 40 {
		t.Fatalf("only %d routes under /api/v1/: %v", len(routes), routes)
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("the route %s is not in the OpenAPI document (transport/openapi/openapi.json)", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("the OpenAPI document has %s, which the server does not serve", d)
		}
	}
	// Routes are known only if they are registered through routeMux.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(f, "_test.go") && f != "routes.go" && bytes.Contains(b, []byte("ServeMux.Handle")) {
			t.Errorf("%s registers a route past routeMux, which keeps the list this test reads", f)
		}
	}
}

// GET /api/v1/openapi.json needs no token, is JSON with an ETag of its
// contents, and a revalidation is a 304.
func TestOpenAPIDocumentIsServed(t *testing.T) {
	h := start(t, Config{})
	spec := newSpecChecker(t)
	a := spec.do(h, specCall{method: "GET", path: "/api/v1/openapi.json"}, http.StatusOK)
	if ct := a.hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if !bytes.Equal(a.raw, openapi.Document()) {
		t.Errorf("the server answers another document than the one embedded")
	}
	etag := a.hdr.Get("ETag")
	spec.do(h, specCall{method: "GET", path: "/api/v1/openapi.json", header: http.Header{"If-None-Match": {etag}}}, http.StatusNotModified)
	// A token makes no difference, not even a wrong one.
	spec.do(h, specCall{method: "GET", path: "/api/v1/openapi.json", bearer: "not-a-token", offSpec: true}, http.StatusOK)
}
