package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/parley-chat/parley/transport/openapi"
)

// The OpenAPI document (transport/openapi/openapi.json) is held against
// the real server with kin-openapi, which loads OpenAPI 3.1 documents and,
// for them, validates values with a JSON Schema 2020-12 validator. A
// specChecker sends each request of a test through the document: the
// request is validated against its operation (unless the test means it to
// break the document's rules), and every answer — its status, the headers
// its response declares and its body — must be one the document gives
// that operation. An answer whose route or status the document does not
// have fails the test.

// loadSpec loads the embedded document and validates it as OpenAPI 3.1.
func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document())
	if err != nil {
		t.Fatalf("loading the OpenAPI document: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPIMajorMinor() != "3.1" {
		t.Fatalf("the document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	return doc
}

// kin-openapi reads JSON, forms and multipart bodies by itself; the SMS
// webhook's TwiML answer is text.
var registerDecoders sync.Once

// specChecker validates calls against the document and remembers which
// operations answered with which statuses.
type specChecker struct {
	t   *testing.T
	doc *openapi3.T
	ops *http.ServeMux // one pattern per documented operation

	mu   sync.Mutex
	seen map[string]map[int]bool // "POST /api/v1/faqs" → statuses answered
}

func newSpecChecker(t *testing.T) *specChecker {
	registerDecoders.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/xml", openapi3filter.PlainBodyDecoder)
	})
	c := &specChecker{t: t, doc: loadSpec(t), ops: http.NewServeMux(), seen: map[string]map[int]bool{}}
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			c.ops.Handle(method+" "+path, http.NotFoundHandler())
		}
	}
	return c
}

// route is the documented operation of req, with its path parameters.
func (c *specChecker) route(req *http.Request) (*routers.Route, map[string]string, error) {
	_, pattern := c.ops.Handler(req)
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method != req.Method {
		return nil, nil, fmt.Errorf("the document has no operation %s %s", req.Method, req.URL.Path)
	}
	item := c.doc.Paths.Value(path)
	params := map[string]string{}
	want, got := strings.Split(path, "/"), strings.Split(req.URL.EscapedPath(), "/")
	for i, seg := range want {
		if name, ok := strings.CutPrefix(seg, "{"); ok && i < len(got) {
			v, err := url.PathUnescape(got[i])
			if err != nil {
				return nil, nil, err
			}
			params[strings.TrimSuffix(name, "}")] = v
		}
	}
	return &routers.Route{Spec: c.doc, Path: path, PathItem: item, Method: method, Operation: item.GetOperation(method)}, params, nil
}

// authenticate checks that a request carries what a security scheme of
// its operation names; the server decides whether it is valid.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	s := in.SecurityScheme
	switch {
	case s.Type == "http" && s.Scheme == "bearer":
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if c, err := r.Cookie(s.Name); err == nil && c.Value != "" {
			return nil
		}
	}
	return in.NewError(nil)
}

// specCall is one request as a test makes it.
type specCall struct {
	method, path string
	bearer       string
	json         any    // sent as application/json
	body         []byte // sent as is, with contentType
	contentType  string
	header       http.Header
	cookie       *http.Cookie
	// offSpec marks a request that breaks the document's rules on purpose
	// (no token, a wrong type, a body too large): it is not validated, but
	// its answer is.
	offSpec bool
}

// specAnswer is an answer as a client sees it.
type specAnswer struct {
	status int
	hdr    http.Header
	raw    []byte
}

// obj decodes the answer's JSON object.
func (a specAnswer) obj(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(a.raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("not a JSON object: %q", a.raw)
	}
	return out
}

func (c specCall) request(ctx context.Context, base string) *http.Request {
	var body []byte
	ct := c.contentType
	if c.json != nil {
		body, _ = json.Marshal(c.json)
		if ct == "" {
			ct = "application/json"
		}
	} else {
		body = c.body
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, rd)
	if err != nil {
		panic(err)
	}
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	return req
}

// do sends call to h's server, checks it against the document, and checks
// that the answer has status want.
func (c *specChecker) do(h *harness, call specCall, want int) specAnswer {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	name := call.method + " " + call.path
	in := c.requestInput(ctx, h, call)
	resp, err := http.DefaultClient.Do(call.request(ctx, h.ts.URL))
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s: reading the answer: %v", name, err)
	}
	a := specAnswer{status: resp.StatusCode, hdr: resp.Header, raw: raw}
	c.checkAnswer(name, in, a)
	if a.status != want {
		c.t.Fatalf("%s: %d %s, want %d", name, a.status, raw, want)
	}
	return a
}

// requestInput finds call's operation and, unless call is off the
// document on purpose, validates the request against it.
func (c *specChecker) requestInput(ctx context.Context, h *harness, call specCall) *openapi3filter.RequestValidationInput {
	c.t.Helper()
	req := call.request(ctx, h.ts.URL)
	route, params, err := c.route(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", call.method, call.path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, IncludeResponseStatus: true}}
	if !call.offSpec {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			c.t.Errorf("%s %s: the document refuses the request: %v", call.method, call.path, err)
		}
	}
	return in
}

// checkAnswer validates an answer against the operation of in and records
// it.
func (c *specChecker) checkAnswer(name string, in *openapi3filter.RequestValidationInput, a specAnswer) {
	c.t.Helper()
	key := in.Route.Method + " " + in.Route.Path
	c.mu.Lock()
	if c.seen[key] == nil {
		c.seen[key] = map[int]bool{}
	}
	c.seen[key][a.status] = true
	c.mu.Unlock()
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: a.status, Header: a.hdr, Options: in.Options}
	out.SetBodyBytes(a.raw)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s: the answer %d %s is not as documented: %v", name, a.status, a.raw, err)
		return
	}
	resp := in.Route.Operation.Responses.Status(a.status)
	if resp != nil && len(resp.Value.Content) == 0 && len(a.raw) > 0 && a.status != http.StatusNotModified {
		c.t.Errorf("%s: the answer %d has a body the document does not give it: %q", name, a.status, a.raw)
	}
	if a.status >= 400 {
		checkErrorCode(c.t, name, a)
	}
}

// checkErrorCode checks that an error's code is one its status is for
// (transport/errors.go, and the document's ErrorCode).
func checkErrorCode(t *testing.T, name string, a specAnswer) {
	t.Helper()
	codes := map[int][]string{
		400: {"invalid"}, 401: {"unauthorized"}, 403: {"forbidden"}, 404: {"not_found"},
		409: {"conflict", "closed", "no_open_conversation"}, 413: {"too_large"}, 415: {"invalid"},
		429: {"rate_limited"}, 500: {"internal"}, 503: {"unavailable"},
	}[a.status]
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(a.raw, &body); err != nil || !slices.Contains(codes, body.Error.Code) {
		t.Errorf("%s: status %d with error %s, want a code of %v", name, a.status, a.raw, codes)
	}
}

// json is a call with a JSON body (or none) and a bearer token, answered
// with status want: its decoded object, or nil for an empty answer.
func (c *specChecker) json(h *harness, method, path, bearer string, body any, want int) map[string]any {
	c.t.Helper()
	a := c.do(h, specCall{method: method, path: path, bearer: bearer, json: body}, want)
	if len(a.raw) == 0 {
		return nil
	}
	return a.obj(c.t)
}

// sseEvent is one event of the inbox stream.
type sseEvent struct{ name, data string }

// stream opens the inbox stream with bearer, checks its answer against
// the document, and returns its events as they come. Each event's data is
// validated against the schema x-parley-events gives its name.
func (c *specChecker) stream(h *harness, bearer string) <-chan sseEvent {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	call := specCall{method: "GET", path: "/api/v1/inbox/stream", bearer: bearer, header: http.Header{"Accept": {"text/event-stream"}}}
	in := c.requestInput(ctx, h, call)
	resp, err := http.DefaultClient.Do(call.request(ctx, h.ts.URL))
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	in.Options = &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: true, AuthenticationFunc: authenticate}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		c.t.Errorf("the stream's Content-Type is %q", resp.Header.Get("Content-Type"))
	}
	c.checkAnswer("GET /api/v1/inbox/stream", in, specAnswer{status: resp.StatusCode, hdr: resp.Header})
	schemas := c.streamSchemas()
	events := make(chan sseEvent, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				c.checkStreamEvent(schemas, ev)
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
				ev = sseEvent{}
			}
		}
	}()
	c.t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return events
}

// streamSchemas reads x-parley-events of the stream's 200 answer.
func (c *specChecker) streamSchemas() map[string]*openapi3.Schema {
	c.t.Helper()
	resp := c.doc.Paths.Value("/api/v1/inbox/stream").Get.Responses.Status(200).Value
	names, ok := resp.Extensions["x-parley-events"].(map[string]any)
	if !ok || len(names) == 0 {
		c.t.Fatalf("the stream's answer has no x-parley-events: %v", resp.Extensions)
	}
	out := map[string]*openapi3.Schema{}
	for ev, ref := range names {
		s, _ := ref.(string)
		sr := c.doc.Components.Schemas[strings.TrimPrefix(s, "#/components/schemas/")]
		if sr == nil {
			c.t.Fatalf("x-parley-events: %s names %v, not a schema of the document", ev, ref)
		}
		out[ev] = sr.Value
	}
	return out
}

func (c *specChecker) checkStreamEvent(schemas map[string]*openapi3.Schema, ev sseEvent) {
	s, ok := schemas[ev.name]
	if !ok {
		c.t.Errorf("the stream sent the event %q, which x-parley-events does not document", ev.name)
		return
	}
	var v any
	if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
		c.t.Errorf("stream event %s: data %q is not JSON", ev.name, ev.data)
		return
	}
	if err := s.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		c.t.Errorf("stream event %s %s is not as documented: %v", ev.name, ev.data, err)
	}
	c.mu.Lock()
	c.seen["SSE "+ev.name] = map[int]bool{200: true}
	c.mu.Unlock()
}

// nextSSE waits for the stream's next event named name.
func nextSSE(t *testing.T, events <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended while waiting for %s", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event on the stream", name)
		}
	}
}

// checkDelivery validates a webhook delivery's body and headers against
// the document's webhooks.
func (c *specChecker) checkDelivery(hdr http.Header, body []byte) {
	item := c.doc.Webhooks["ticketNotice"]
	if item == nil || item.Post == nil {
		c.t.Errorf("the document has no webhooks.ticketNotice")
		return
	}
	op := item.Post
	for _, p := range op.Parameters {
		if p.Value.In == "header" && p.Value.Required && hdr.Get(p.Value.Name) == "" {
			c.t.Errorf("a delivery lacks the header %s", p.Value.Name)
		}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		c.t.Errorf("a delivery's body is not JSON: %q", body)
		return
	}
	s := op.RequestBody.Value.Content.Get("application/json").Schema.Value
	if err := s.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		c.t.Errorf("the delivery %s is not as documented: %v", body, err)
	}
}

// unexercised lists the documented operations no call reached, and the
// stream events never seen.
func (c *specChecker) unexercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			if len(c.seen[method+" "+path]) == 0 {
				out = append(out, method+" "+path)
			}
		}
	}
	for ev := range c.streamSchemasLocked() {
		if c.seen["SSE "+ev] == nil {
			out = append(out, "SSE "+ev)
		}
	}
	sort.Strings(out)
	return out
}

func (c *specChecker) streamSchemasLocked() map[string]any {
	resp := c.doc.Paths.Value("/api/v1/inbox/stream").Get.Responses.Status(200).Value
	m, _ := resp.Extensions["x-parley-events"].(map[string]any)
	return m
}

// statusesSeen is every status any call answered with.
func (c *specChecker) statusesSeen() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := map[int]bool{}
	for _, s := range c.seen {
		for code := range s {
			set[code] = true
		}
	}
	var out []int
	for code := range set {
		out = append(out, code)
	}
	sort.Ints(out)
	return out
}
