package transport

// Black-box tests of PROTOCOL.md §3 (the agent and store HTTP API) and §4
// (operations), written from the contract's wording: each drives a real
// server (Pebble on a temp dir, the actor system, real HTTP) and asserts
// what a client would notice on the wire — the exact status, the JSON field
// names in the raw body, the error codes. They cover the rules that the
// other tests of this package and cmd/parley's end-to-end story leave out.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// capiResp is an HTTP answer as a client sees it: status, headers, raw body.
type capiResp struct {
	status int
	hdr    http.Header
	raw    []byte
}

// capiDo sends one request. body is nil (no body), a string (sent as is) or
// a value sent as JSON.
func capiDo(t *testing.T, h *harness, method, path, bearer string, body any) capiResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, h.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return capiResp{status: resp.StatusCode, hdr: resp.Header, raw: raw}
}

// capiObj decodes a JSON object (numbers as json.Number).
func capiObj(t *testing.T, what string, raw []byte) map[string]any {
	t.Helper()
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || out == nil {
		t.Fatalf("%s: not a JSON object: %q (%v)", what, raw, err)
	}
	return out
}

// capiOK checks the status of a successful answer and decodes its object.
func capiOK(t *testing.T, what string, r capiResp, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	if ct := r.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want application/json", what, ct)
	}
	return capiObj(t, what, r.raw)
}

// capiErr checks an error answer: the status, a JSON body that is exactly
// {"error":{"code","message"}} (plus the documented optional "field"), and a
// code among codes. It returns the field the error names ("" for none).
func capiErr(t *testing.T, what string, r capiResp, status int, codes ...string) string {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	if ct := r.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want application/json", what, ct)
	}
	body := capiObj(t, what, r.raw)
	e, ok := body["error"].(map[string]any)
	if !ok || len(body) != 1 {
		t.Fatalf(`%s: body %s, want {"error":{"code","message"}}`, what, r.raw)
	}
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if msg == "" || !slices.Contains(codes, code) {
		t.Fatalf("%s: error %s, want code %v and a message", what, r.raw, codes)
	}
	for k := range e {
		if k != "code" && k != "message" && k != "field" {
			t.Errorf("%s: error carries an undocumented key %q: %s", what, k, r.raw)
		}
	}
	field, _ := e["field"].(string)
	return field
}

// capiInvalid checks a 400 invalid that names field.
func capiInvalid(t *testing.T, what string, r capiResp, field string) {
	t.Helper()
	if got := capiErr(t, what, r, http.StatusBadRequest, "invalid"); got != field {
		t.Errorf("%s: the error names %q, want %q: %s", what, got, field, r.raw)
	}
}

// capiKeys checks that obj carries every key, whatever its value (null too).
func capiKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: no %q in %s", what, k, toJSON(obj))
		}
	}
}

// capiMap returns obj[key] as an object, failing if it is not one.
func capiMap(t *testing.T, what string, obj map[string]any, key string) map[string]any {
	t.Helper()
	m, ok := obj[key].(map[string]any)
	if !ok {
		t.Fatalf("%s: %q is %v, want an object", what, key, obj[key])
	}
	return m
}

// capiList returns obj[key] as an array, failing if it is not one (null
// is not an array).
func capiList(t *testing.T, what string, obj map[string]any, key string) []any {
	t.Helper()
	l, ok := obj[key].([]any)
	if !ok {
		t.Fatalf("%s: %q is %v, want an array", what, key, obj[key])
	}
	return l
}

// capiUTC checks an RFC 3339 time in UTC.
func capiUTC(t *testing.T, what string, v any) {
	t.Helper()
	s, _ := v.(string)
	if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s: %v is not an RFC 3339 UTC time", what, v)
	}
}

// capiAgent creates an agent through the API and returns its id and token.
func capiAgent(t *testing.T, h *harness, name, role string) (id, tok string) {
	t.Helper()
	body := capiOK(t, "POST /api/v1/agents", capiDo(t, h, "POST", "/api/v1/agents", adminToken,
		map[string]any{"name": name, "email": strings.ToLower(name) + "@example.com", "role": role}), http.StatusCreated)
	a := capiMap(t, "POST /api/v1/agents", body, "agent")
	id, _ = a["id"].(string)
	tok, _ = body["token"].(string)
	if id == "" || tok == "" {
		t.Fatalf("created agent %v", body)
	}
	return id, tok
}

// capiView is GET /api/v1/tickets/{id}, decoded.
func capiView(t *testing.T, h *harness, id, bearer string) map[string]any {
	t.Helper()
	return capiOK(t, "GET ticket "+id, capiDo(t, h, "GET", "/api/v1/tickets/"+id, bearer, nil), http.StatusOK)
}

// capiEvents is the ticket's log as the API lists it.
func capiEvents(t *testing.T, h *harness, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range capiList(t, "ticket events", capiView(t, h, id, adminToken), "events") {
		out = append(out, e.(map[string]any))
	}
	return out
}

// capiIDs lists the ticket ids of GET /api/v1/tickets?query, in order, with
// the answer's next_cursor ("" for null).
func capiIDs(t *testing.T, h *harness, bearer, query string) ([]string, string) {
	t.Helper()
	body := capiOK(t, "GET /api/v1/tickets?"+query, capiDo(t, h, "GET", "/api/v1/tickets?"+query, bearer, nil), http.StatusOK)
	capiKeys(t, "ticket list", body, "tickets", "next_cursor")
	var ids []string
	for _, r := range capiList(t, "ticket list", body, "tickets") {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	next := ""
	switch c := body["next_cursor"].(type) {
	case nil:
	case string:
		if c == "" {
			t.Fatalf("next_cursor is an empty string, want a cursor or null")
		}
		next = c
	default:
		t.Fatalf("next_cursor %v, want a string or null", c)
	}
	return ids, next
}

func capiSame(a, b []string) bool { return slices.Equal(a, b) }

// capiAgentSet is GET /api/v1/agents as JSON, sorted by id: the contract
// gives the list no order.
func capiAgentSet(t *testing.T, h *harness) string {
	t.Helper()
	body := capiOK(t, "GET /api/v1/agents", capiDo(t, h, "GET", "/api/v1/agents", adminToken, nil), http.StatusOK)
	agents := capiList(t, "GET /api/v1/agents", body, "agents")
	sort.Slice(agents, func(i, j int) bool {
		return agents[i].(map[string]any)["id"].(string) < agents[j].(map[string]any)["id"].(string)
	})
	return toJSON(agents)
}

var capiRowKeys = []string{"id", "channel", "status", "profile", "preview", "unread", "assignee", "updated_at", "waiting_since"}

// capiCheckRow checks a ticket row's field names as PROTOCOL §3 lists them.
func capiCheckRow(t *testing.T, what string, r map[string]any) {
	t.Helper()
	capiKeys(t, what, r, capiRowKeys...)
	capiKeys(t, what+".profile", capiMap(t, what, r, "profile"), "id", "name")
	if a, ok := r["assignee"].(map[string]any); ok {
		capiKeys(t, what+".assignee", a, "id", "name")
	} else if r["assignee"] != nil {
		t.Errorf("%s: assignee %v, want {id,name} or null", what, r["assignee"])
	}
	if _, ok := r["unread"].(bool); !ok {
		t.Errorf("%s: unread %v, want a boolean", what, r["unread"])
	}
	capiUTC(t, what+".updated_at", r["updated_at"])
	if r["waiting_since"] != nil {
		capiUTC(t, what+".waiting_since", r["waiting_since"])
	}
}

// Every built endpoint refuses a request without a valid bearer token with
// 401 (a shopper's identity token is never one), a valid token of the wrong
// role with 403, and a refused request changes nothing.
func TestContractAPIRolesOnEveryEndpoint(t *testing.T) {
	h := start(t, Config{})
	_, id := ticketFromShopper(t, h, "p-roles")
	faq := h.sys.FAQs()[0].ID
	victim, _ := capiAgent(t, h, "Victim", "agent")
	_, agentTok := capiAgent(t, h, "Ana", "agent")
	_, storeTok := capiAgent(t, h, "Shop", "store")
	_, adminAgentTok := capiAgent(t, h, "Boss", "admin")
	backupDir := filepath.Join(t.TempDir(), "backup")
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	type endpoint struct {
		method, path string
		body         any
	}
	agentEndpoints := []endpoint{
		{"GET", "/api/v1/tickets", nil},
		{"GET", "/api/v1/tickets/" + id, nil},
		{"POST", "/api/v1/tickets/" + id + "/messages", map[string]any{"client_id": "roles", "text": "hi"}},
		{"POST", "/api/v1/tickets/" + id + "/read", map[string]any{"seq": 2}},
		{"POST", "/api/v1/tickets/" + id + "/assign", map[string]any{"agent": victim}},
		{"POST", "/api/v1/tickets/" + id + "/snooze", map[string]any{"until": future}},
		{"POST", "/api/v1/tickets/" + id + "/close", nil},
		{"GET", "/api/v1/inbox/badge", nil},
		{"GET", "/api/v1/inbox/stream", nil},
		{"GET", "/api/v1/settings", nil},
		{"GET", "/api/v1/faqs", nil},
		{"GET", "/api/v1/faqs/" + faq, nil},
	}
	adminEndpoints := []endpoint{
		{"PUT", "/api/v1/settings", map[string]any{"links": map[string]any{"terms_url": "https://evil.example/terms"}}},
		{"POST", "/api/v1/faqs", map[string]any{"question": "Injected?", "answer": "Yes."}},
		{"PUT", "/api/v1/faqs/" + faq, map[string]any{"question": "Changed?", "answer": "Yes."}},
		{"DELETE", "/api/v1/faqs/" + faq, nil},
		{"GET", "/api/v1/agents", nil},
		{"POST", "/api/v1/agents", map[string]any{"name": "Mallory", "role": "admin"}},
		{"DELETE", "/api/v1/agents/" + victim, nil},
		{"POST", "/api/v1/backup", map[string]any{"dir": backupDir}},
	}
	readProfile := endpoint{"GET", "/api/v1/profiles/p-roles", nil}

	settingsBefore := string(capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw)
	faqsBefore := string(capiDo(t, h, "GET", "/api/v1/faqs", adminToken, nil).raw)
	agentsBefore := capiAgentSet(t, h)
	ticketBefore := string(capiDo(t, h, "GET", "/api/v1/tickets/"+id, adminToken, nil).raw)

	all := append(append(slices.Clone(agentEndpoints), adminEndpoints...), readProfile)
	for _, e := range all {
		name := e.method + " " + e.path
		for who, bearer := range map[string]string{
			"no token": "", "an unknown token": "not-a-token",
			"a shopper's identity token": token(t, "p-roles", "Shopper"),
		} {
			r := capiDo(t, h, e.method, e.path, bearer, e.body)
			capiErr(t, name+" with "+who, r, http.StatusUnauthorized, "unauthorized")
		}
	}
	for _, e := range agentEndpoints {
		capiErr(t, e.method+" "+e.path+" as store", capiDo(t, h, e.method, e.path, storeTok, e.body), http.StatusForbidden, "forbidden")
	}
	for _, e := range adminEndpoints {
		for who, bearer := range map[string]string{"agent": agentTok, "store": storeTok} {
			capiErr(t, e.method+" "+e.path+" as "+who, capiDo(t, h, e.method, e.path, bearer, e.body), http.StatusForbidden, "forbidden")
		}
	}

	// Nothing any refused request asked for happened.
	for what, c := range map[string][2]string{
		"settings": {settingsBefore, string(capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw)},
		"faqs":     {faqsBefore, string(capiDo(t, h, "GET", "/api/v1/faqs", adminToken, nil).raw)},
		"agents":   {agentsBefore, capiAgentSet(t, h)},
		"ticket":   {ticketBefore, string(capiDo(t, h, "GET", "/api/v1/tickets/"+id, adminToken, nil).raw)},
	} {
		if c[0] != c[1] {
			t.Errorf("refused requests changed the %s:\nbefore %s\nafter  %s", what, c[0], c[1])
		}
	}
	if n, err := filepath.Glob(backupDir); err != nil || len(n) != 0 {
		t.Errorf("a refused backup wrote %v", n)
	}

	// The right roles get through: an agent reads tickets, settings and
	// FAQs; an admin created through the API may do everything.
	for _, e := range []endpoint{agentEndpoints[0], agentEndpoints[1], agentEndpoints[7], agentEndpoints[9], agentEndpoints[10], agentEndpoints[11]} {
		if r := capiDo(t, h, e.method, e.path, agentTok, nil); r.status != http.StatusOK {
			t.Errorf("%s %s as agent: %d %s", e.method, e.path, r.status, r.raw)
		}
	}
	for _, e := range []endpoint{agentEndpoints[0], {"GET", "/api/v1/agents", nil}} {
		if r := capiDo(t, h, e.method, e.path, adminAgentTok, nil); r.status != http.StatusOK {
			t.Errorf("%s %s as an admin agent: %d %s", e.method, e.path, r.status, r.raw)
		}
	}
	r := capiDo(t, h, "PUT", "/api/v1/settings", adminAgentTok, map[string]any{"links": map[string]any{"terms_url": "https://shop.example/terms"}})
	capiOK(t, "PUT /api/v1/settings as an admin agent", r, http.StatusOK)
	r = capiDo(t, h, "POST", "/api/v1/faqs", adminAgentTok, map[string]any{"question": "Gift cards?", "answer": "Yes."})
	capiOK(t, "POST /api/v1/faqs as an admin agent", r, http.StatusCreated)
}

// The ticket row, the ticket view and the SSE `ticket` event carry every
// field name PROTOCOL §3 lists, with null where it says null.
func TestContractAPITicketShapes(t *testing.T) {
	h := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream := openStream(t, h, ctx)

	shopper, id := ticketFromShopper(t, h, "p-shape")
	list := capiDo(t, h, "GET", "/api/v1/tickets", adminToken, nil)
	body := capiOK(t, "list", list, http.StatusOK)
	if !bytes.Contains(list.raw, []byte(`"next_cursor":null`)) {
		t.Errorf("a one-page list says %s, want \"next_cursor\":null", list.raw)
	}
	rows := capiList(t, "list", body, "tickets")
	if len(rows) != 1 {
		t.Fatalf("list %v", body)
	}
	row := rows[0].(map[string]any)
	capiCheckRow(t, "list row", row)
	if row["id"] != id || row["channel"] != "webchat" || row["status"] != "open" || row["assignee"] != nil ||
		row["waiting_since"] == nil || row["unread"] != true || row["preview"] != "I need help" {
		t.Errorf("new ticket row %v", row)
	}
	if p := row["profile"].(map[string]any); p["id"] != "p-shape" || p["name"] != "Shopper p-shape" {
		t.Errorf("row profile %v", p)
	}

	view := capiView(t, h, id, adminToken)
	capiKeys(t, "ticket view", view, "ticket", "events", "profile")
	vr := capiMap(t, "ticket view", view, "ticket")
	capiCheckRow(t, "view row", vr)
	if toJSON(vr) != toJSON(row) {
		t.Errorf("the view's row differs from the list's:\n%v\n%v", vr, row)
	}
	prof := capiMap(t, "ticket view", view, "profile")
	capiKeys(t, "view profile", prof, "id", "events")
	capiList(t, "view profile", prof, "events")
	if prof["id"] != "p-shape" {
		t.Errorf("view profile %v", prof)
	}
	events := capiList(t, "ticket view", view, "events")
	for i, e := range events {
		e := e.(map[string]any)
		capiKeys(t, "view event", e, "seq", "at", "event")
		if num(e["seq"]) != uint64(i+1) {
			t.Errorf("event %d has seq %v", i, e["seq"])
		}
		capiUTC(t, "event at", e["at"])
		capiKeys(t, "view event.event", capiMap(t, "view event", e, "event"), "kind")
	}

	// An agent's reply: the row now names the assignee and no one waits.
	r := capiOK(t, "reply", capiDo(t, h, "POST", "/api/v1/tickets/"+id+"/messages", adminToken,
		map[string]any{"client_id": "a1", "text": "Hello!"}), http.StatusCreated)
	if len(r) != 1 || num(r["seq"]) != 3 {
		t.Errorf(`reply answered %v, want {"seq":3}`, r)
	}
	shopper.readType("event")
	row = capiList(t, "list", capiOK(t, "list", capiDo(t, h, "GET", "/api/v1/tickets", adminToken, nil), http.StatusOK), "tickets")[0].(map[string]any)
	capiCheckRow(t, "answered row", row)
	if a, _ := row["assignee"].(map[string]any); a == nil || a["id"] != "admin" || row["waiting_since"] != nil {
		t.Errorf("answered row %v, want the replying admin as assignee and waiting_since null", row)
	}

	// The stream's `ticket` events are rows as in the list.
	sawRow := false
	for !sawRow {
		ev, data := stream.next(t)
		if ev != "ticket" {
			continue
		}
		sr := capiObj(t, "SSE ticket", []byte(data))
		capiCheckRow(t, "SSE ticket row", sr)
		sawRow = sr["id"] == id
	}
}

// The list is newest activity first; receipts do not move a ticket; limit
// and the opaque cursor page through every row once, next_cursor null at
// the end.
func TestContractAPITicketListOrderAndPaging(t *testing.T) {
	h := start(t, Config{})
	ca, a := ticketFromShopper(t, h, "p-order-a")
	_, b := ticketFromShopper(t, h, "p-order-b")
	_, c := ticketFromShopper(t, h, "p-order-c")
	if ids, next := capiIDs(t, h, adminToken, ""); !capiSame(ids, []string{c, b, a}) || next != "" {
		t.Fatalf("list %v next %q, want [c b a] and null", ids, next)
	}
	sendMessage(t, ca, "second", "Are you there?")
	want := []string{a, c, b}
	if ids, _ := capiIDs(t, h, adminToken, ""); !capiSame(ids, want) {
		t.Fatalf("after a new message on a: %v, want %v", ids, want)
	}
	// An agent's read receipt is no activity: b stays last, preview kept.
	if r := capiDo(t, h, "POST", "/api/v1/tickets/"+b+"/read", adminToken, map[string]any{"seq": 2}); r.status != http.StatusNoContent || len(r.raw) != 0 {
		t.Fatalf("read: %d %q, want 204 with no body", r.status, r.raw)
	}
	if ids, _ := capiIDs(t, h, adminToken, ""); !capiSame(ids, want) {
		t.Fatalf("after a receipt: %v, want %v", ids, want)
	}
	if row := capiMap(t, "view", capiView(t, h, b, adminToken), "ticket"); row["preview"] != "I need help" || row["unread"] != false {
		t.Errorf("after a receipt the row is %v, want the preview kept and unread false", row)
	}

	for _, limit := range []int{1, 2, 3, 4} {
		var got []string
		cursor, pages := "", 0
		for {
			q := "limit=" + strconv.Itoa(limit)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			ids, next := capiIDs(t, h, adminToken, q)
			pages++
			if len(ids) > limit || (next != "" && len(ids) != limit) {
				t.Fatalf("limit %d: page %v with next_cursor %q", limit, ids, next)
			}
			got = append(got, ids...)
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatalf("limit %d: the cursor never ends", limit)
			}
			cursor = next
		}
		if !capiSame(got, want) {
			t.Errorf("limit %d: pages gave %v, want %v", limit, got, want)
		}
		// A server may end on a full page or on one more, empty page; it
		// may not send a cursor past the end.
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages && pages != wantPages+1 {
			t.Errorf("limit %d: %d pages for %d rows", limit, pages, len(want))
		}
	}
	capiInvalid(t, "a cursor not from this server", capiDo(t, h, "GET", "/api/v1/tickets?cursor=bm90LWEtY3Vyc29y", adminToken, nil), "cursor")
}

// Without a limit a page holds 50 rows.
func TestContractAPITicketListDefaultLimit(t *testing.T) {
	h := start(t, Config{})
	for i := range 51 {
		c, _ := ticketFromShopper(t, h, "p-many-"+strconv.Itoa(i))
		_ = c.ws.CloseNow()
	}
	ids, next := capiIDs(t, h, adminToken, "")
	if len(ids) != 50 || next == "" {
		t.Fatalf("default page: %d rows, next_cursor %q; want 50 and a cursor", len(ids), next)
	}
	rest, end := capiIDs(t, h, adminToken, "cursor="+url.QueryEscape(next))
	if len(rest) != 1 || end != "" || slices.Contains(ids, rest[0]) {
		t.Fatalf("second page %v next %q, want the 51st row and null", rest, end)
	}
}

// status defaults to open; status, channel and assignee=me filter (webchat
// is the only channel the contract names); an empty result is an empty
// array.
func TestContractAPITicketListFilters(t *testing.T) {
	h := start(t, Config{})
	_, open1 := ticketFromShopper(t, h, "p-filter-1")
	_, closed := ticketFromShopper(t, h, "p-filter-2")
	_, snoozed := ticketFromShopper(t, h, "p-filter-3")
	_, open2 := ticketFromShopper(t, h, "p-filter-4")
	_, anaTok := capiAgent(t, h, "Ana", "agent")
	_, benTok := capiAgent(t, h, "Ben", "agent")

	capiOK(t, "reply", capiDo(t, h, "POST", "/api/v1/tickets/"+open1+"/messages", anaTok, map[string]any{"client_id": "x", "text": "On it"}), http.StatusCreated)
	capiOK(t, "close", capiDo(t, h, "POST", "/api/v1/tickets/"+closed+"/close", adminToken, nil), http.StatusOK)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	capiOK(t, "snooze", capiDo(t, h, "POST", "/api/v1/tickets/"+snoozed+"/snooze", adminToken, map[string]any{"until": until}), http.StatusOK)

	sorted := func(ids []string) []string { s := slices.Clone(ids); sort.Strings(s); return s }
	openIDs := sorted([]string{open1, open2})
	for _, tc := range []struct {
		bearer, query string
		want          []string
	}{
		{adminToken, "", openIDs},
		{adminToken, "status=open", openIDs},
		{adminToken, "status=closed", []string{closed}},
		{adminToken, "status=snoozed", []string{snoozed}},
		{adminToken, "channel=webchat", openIDs},
		{adminToken, "status=closed&channel=webchat", []string{closed}},
		{anaTok, "assignee=me", []string{open1}},
		{benTok, "assignee=me", nil},
		{adminToken, "assignee=me", nil},
		{anaTok, "assignee=me&status=closed", nil},
	} {
		ids, next := capiIDs(t, h, tc.bearer, tc.query)
		if !capiSame(sorted(ids), sorted(tc.want)) || next != "" {
			t.Errorf("?%s: %v next %q, want %v", tc.query, ids, next, tc.want)
		}
	}
	if r := capiDo(t, h, "GET", "/api/v1/tickets?assignee=me", benTok, nil); !bytes.Contains(r.raw, []byte(`"tickets":[]`)) {
		t.Errorf("an empty list is %s, want \"tickets\":[]", r.raw)
	}
}

// POST …/messages: 201 {"seq"} the first time, 200 with the original seq on
// a repeated client_id; it assigns an unassigned ticket to the caller only;
// an invalid body is a 400 naming the field and changes nothing; only a
// ticket (a conversation with a shopper message) can be answered.
func TestContractAPIAgentMessageRules(t *testing.T) {
	h := start(t, Config{})
	shopper, id := ticketFromShopper(t, h, "p-reply")
	anaID, anaTok := capiAgent(t, h, "Ana", "agent")
	_, benTok := capiAgent(t, h, "Ben", "agent")
	path := "/api/v1/tickets/" + id + "/messages"

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"text": "no client id"}, "client_id"},
		{map[string]any{"client_id": "c1"}, "text"},
		{map[string]any{"client_id": "c1", "text": "   "}, "text"},
		{map[string]any{"client_id": 7, "text": "hi"}, "client_id"},
		{map[string]any{"client_id": "c1", "text": "hi", "attachments": []any{map[string]any{"url": "javascript:alert(1)", "content_type": "image/png"}}}, "attachments.url"},
		{map[string]any{"client_id": "c1", "text": "hi", "macro": "m1"}, "macro"},
	} {
		capiInvalid(t, "reply "+toJSON(tc.body), capiDo(t, h, "POST", path, anaTok, tc.body), tc.field)
	}
	capiErr(t, "malformed reply", capiDo(t, h, "POST", path, anaTok, `{"client_id":`), http.StatusBadRequest, "invalid")
	if n := len(capiEvents(t, h, id)); n != 2 {
		t.Fatalf("refused replies changed the log: %d events, want 2", n)
	}

	att := []any{map[string]any{"url": "https://cdn.example.com/label.png", "content_type": "image/png"}}
	r := capiDo(t, h, "POST", path, anaTok, map[string]any{"client_id": "c1", "text": "Here is your label", "attachments": att})
	first := capiOK(t, "first reply", r, http.StatusCreated)
	if len(first) != 1 || num(first["seq"]) != 3 {
		t.Fatalf(`first reply %s, want {"seq":3}`, r.raw)
	}
	again := capiOK(t, "repeated reply", capiDo(t, h, "POST", path, anaTok, map[string]any{"client_id": "c1", "text": "Here is your label", "attachments": att}), http.StatusOK)
	if num(again["seq"]) != 3 {
		t.Fatalf("repeat %v, want the original seq 3", again)
	}
	// The shopper gets it once, with its attachment, then the assignment (H6).
	e := shopper.readType("event")
	if ev := e["event"].(frame); num(e["seq"]) != 3 || ev["from"] != "agent" || toJSON(ev["attachments"]) != toJSON(att) {
		t.Fatalf("shopper got %v", e)
	}
	if e := shopper.readType("event"); e["event"].(frame)["kind"] != "assigned" {
		t.Fatalf("shopper got %v, want the assignment", e)
	}
	shopper.quiet(100 * time.Millisecond)

	// Another agent's reply does not take the ticket over.
	capiOK(t, "Ben's reply", capiDo(t, h, "POST", path, benTok, map[string]any{"client_id": "b1", "text": "Me too"}), http.StatusCreated)
	row := capiMap(t, "view", capiView(t, h, id, adminToken), "ticket")
	if a, _ := row["assignee"].(map[string]any); a == nil || a["id"] != anaID || a["name"] != "Ana" {
		t.Errorf("assignee %v after a second agent's reply, want Ana", row["assignee"])
	}
	n := 0
	for _, e := range capiEvents(t, h, id) {
		if ev := e["event"].(map[string]any); ev["client_id"] == "c1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("client_id c1 is %d times in the log, want once", n)
	}

	// A conversation without a shopper message is no ticket yet; an unknown id is none.
	c, _ := h.hello(token(t, "p-silent", "Silent"))
	conv := startChat(t, c)
	for _, p := range []string{conv, "no-such-ticket"} {
		capiErr(t, "GET ticket "+p, capiDo(t, h, "GET", "/api/v1/tickets/"+p, adminToken, nil), http.StatusNotFound, "not_found")
		capiErr(t, "reply to "+p, capiDo(t, h, "POST", "/api/v1/tickets/"+p+"/messages", adminToken, map[string]any{"client_id": "z", "text": "hi"}), http.StatusNotFound, "not_found")
	}
	if ids, _ := capiIDs(t, h, adminToken, ""); slices.Contains(ids, conv) {
		t.Errorf("a conversation with no shopper message is listed as a ticket")
	}
}

// POST …/read answers 204 and clears the unread dot; assign and snooze
// answer 200; invalid bodies are 400s naming the field that change nothing.
func TestContractAPIReadAssignSnooze(t *testing.T) {
	h := start(t, Config{})
	_, id := ticketFromShopper(t, h, "p-ras")
	anaID, _ := capiAgent(t, h, "Ana", "agent")
	storeID, _ := capiAgent(t, h, "Shop", "store")
	base := "/api/v1/tickets/" + id

	for _, tc := range []struct {
		path  string
		body  any
		field string
	}{
		{"/read", map[string]any{}, "seq"},
		{"/read", map[string]any{"seq": "2"}, "seq"},
		{"/read", map[string]any{"seq": 99}, "seq"},
		{"/assign", map[string]any{}, "agent"},
		{"/assign", map[string]any{"agent": 5}, "agent"},
		{"/assign", map[string]any{"agent": storeID}, "agent"},
		{"/assign", map[string]any{"agent": "nobody"}, "agent"},
		{"/snooze", map[string]any{}, "until"},
		{"/snooze", map[string]any{"until": "2024-13-45T25:00:00Z"}, "until"},
		{"/snooze", map[string]any{"until": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "until"},
	} {
		capiInvalid(t, tc.path+" "+toJSON(tc.body), capiDo(t, h, "POST", base+tc.path, adminToken, tc.body), tc.field)
	}
	view := capiView(t, h, id, adminToken)
	if n := len(capiList(t, "view", view, "events")); n != 2 {
		t.Errorf("refused requests changed the log: %d events", n)
	}
	if row := capiMap(t, "view", view, "ticket"); row["status"] != "open" || row["unread"] != true || row["assignee"] != nil {
		t.Errorf("refused requests changed the row: %v", row)
	}

	if r := capiDo(t, h, "POST", base+"/read", adminToken, map[string]any{"seq": 2}); r.status != http.StatusNoContent || len(r.raw) != 0 {
		t.Fatalf("read: %d %q, want 204 and no body", r.status, r.raw)
	}
	if row := capiMap(t, "view", capiView(t, h, id, adminToken), "ticket"); row["unread"] != false {
		t.Errorf("unread %v after the agents read everything", row["unread"])
	}
	if b := capiOK(t, "badge", capiDo(t, h, "GET", "/api/v1/inbox/badge", adminToken, nil), http.StatusOK); len(b) != 1 || num(b["unread"]) != 0 {
		t.Errorf(`badge %v, want {"unread":0}`, b)
	}

	row := capiOK(t, "assign", capiDo(t, h, "POST", base+"/assign", adminToken, map[string]any{"agent": anaID}), http.StatusOK)
	if a, _ := row["assignee"].(map[string]any); a == nil || a["id"] != anaID || a["name"] != "Ana" {
		t.Errorf("assign answered %v", row)
	}
	if ids, _ := capiIDs(t, h, adminToken, "assignee="+anaID); !capiSame(ids, []string{id}) {
		t.Errorf("assignee=%s lists %v", anaID, ids)
	}
	row = capiOK(t, "unassign", capiDo(t, h, "POST", base+"/assign", adminToken, map[string]any{"agent": nil}), http.StatusOK)
	if v, ok := row["assignee"]; !ok || v != nil {
		t.Errorf("unassign answered %v, want assignee null", row)
	}
	until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	row = capiOK(t, "snooze", capiDo(t, h, "POST", base+"/snooze", adminToken, map[string]any{"until": until.Format(time.RFC3339)}), http.StatusOK)
	if row["status"] != "snoozed" {
		t.Errorf("snooze answered %v", row)
	}
	for _, p := range []string{"/read", "/assign", "/snooze", "/close"} {
		capiErr(t, "unknown ticket "+p, capiDo(t, h, "POST", "/api/v1/tickets/nope"+p, adminToken,
			map[string]any{"seq": 1, "agent": nil, "until": until.Format(time.RFC3339)}), http.StatusNotFound, "not_found")
	}
}

// After POST …/close, every change to the web-chat ticket answers 409 and
// changes nothing; the ticket can still be read.
func TestContractAPIClosedTicketRefusesEveryChange(t *testing.T) {
	h := start(t, Config{})
	_, id := ticketFromShopper(t, h, "p-closed")
	anaID, _ := capiAgent(t, h, "Ana", "agent")
	base := "/api/v1/tickets/" + id
	capiOK(t, "reply", capiDo(t, h, "POST", base+"/messages", adminToken, map[string]any{"client_id": "c1", "text": "Bye"}), http.StatusCreated)
	row := capiOK(t, "close", capiDo(t, h, "POST", base+"/close", adminToken, nil), http.StatusOK)
	if row["status"] != "closed" {
		t.Fatalf("close answered %v", row)
	}
	before := capiEvents(t, h, id)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		path string
		body any
	}{
		{"/messages", map[string]any{"client_id": "c2", "text": "One more thing"}},
		{"/read", map[string]any{"seq": 1}},
		{"/assign", map[string]any{"agent": anaID}},
		{"/assign", map[string]any{"agent": nil}},
		{"/snooze", map[string]any{"until": until}},
		{"/close", nil},
	} {
		capiErr(t, "after close "+c.path, capiDo(t, h, "POST", base+c.path, adminToken, c.body), http.StatusConflict, "closed", "conflict")
	}
	// A repeated client_id is either acknowledged with its original seq or
	// refused; it is never stored again (PROTOCOL §3 does not say which).
	r := capiDo(t, h, "POST", base+"/messages", adminToken, map[string]any{"client_id": "c1", "text": "Bye"})
	switch r.status {
	case http.StatusOK:
		if b := capiObj(t, "repeat after close", r.raw); num(b["seq"]) != 3 {
			t.Errorf("repeat after close: %s, want the original seq 3", r.raw)
		}
	case http.StatusConflict:
	default:
		t.Errorf("repeat after close: %d %s", r.status, r.raw)
	}
	view := capiView(t, h, id, adminToken)
	if row := capiMap(t, "view", view, "ticket"); row["status"] != "closed" {
		t.Errorf("closed ticket reads as %v", row)
	}
	if after := capiEvents(t, h, id); toJSON(after) != toJSON(before) {
		t.Errorf("refused changes altered the log:\n%v\n%v", before, after)
	}
	if ids, _ := capiIDs(t, h, adminToken, "status=closed"); !capiSame(ids, []string{id}) {
		t.Errorf("status=closed lists %v", ids)
	}
}

// GET /api/v1/settings uses the contract's field names and masks every
// secret; PUT replaces only the sections it gives; an invalid body is a 400
// naming the field that changes nothing.
func TestContractAPISettingsContract(t *testing.T) {
	h := start(t, Config{})
	_, agentTok := capiAgent(t, h, "Ana", "agent")
	secrets := map[string]string{
		"ai.llm.api_key": "sk-llm-secret-1", "ai.zendesk.api_token": "zd-secret-2",
		"ai.gorgias.api_key": "gg-secret-3", "notifications.email.smtp.password": "smtp-secret-4",
	}
	full := map[string]any{
		"webchat": map[string]any{"enabled": true, "login_mode": "all", "welcome_message": "Hej!"},
		"links":   map[string]any{"terms_url": "https://shop.example/terms", "privacy_url": "https://shop.example/privacy"},
		"office_hours": map[string]any{"enabled": true, "time_zone": "Europe/Stockholm",
			"weekly":       map[string]any{"mon": [][]string{{"09:00", "17:00"}}, "tue": [][]string{{"09:00", "12:00"}, {"13:00", "17:00"}}},
			"away_message": "We're away; we answer from 09:00."},
		"ai": map[string]any{"enabled": false, "handoff": "helpdesk", "min_confidence": 0.6, "handoff_message": "Passing you on",
			"llm":     map[string]any{"base_url": "https://llm.example/v1", "model": "m", "api_key": secrets["ai.llm.api_key"]},
			"zendesk": map[string]any{"base_url": "https://acme.zendesk.com", "email": "ops@example.com", "api_token": secrets["ai.zendesk.api_token"]},
			"gorgias": map[string]any{"base_url": "https://acme.gorgias.com", "username": "ops", "api_key": secrets["ai.gorgias.api_key"]}},
		"notifications": map[string]any{"email": map[string]any{"enabled": false, "to": []string{"team@example.com"}, "from": "parley@example.com",
			"smtp": map[string]any{"addr": "smtp.example.com:587", "username": "u", "password": secrets["notifications.email.smtp.password"]}}},
		"waiting_alert_after": "90s",
	}
	put := capiDo(t, h, "PUT", "/api/v1/settings", adminToken, full)
	capiOK(t, "PUT settings", put, http.StatusOK)
	get := capiDo(t, h, "GET", "/api/v1/settings", agentTok, nil)
	got := capiOK(t, "GET settings as agent", get, http.StatusOK)
	for _, r := range []capiResp{put, get} {
		for name, s := range secrets {
			if bytes.Contains(r.raw, []byte(s)) {
				t.Errorf("the settings answer shows %s: %s", name, r.raw)
			}
		}
	}

	capiKeys(t, "settings", got, "webchat", "links", "office_hours", "ai", "notifications", "waiting_alert_after")
	capiKeys(t, "webchat", capiMap(t, "settings", got, "webchat"), "enabled", "login_mode", "welcome_message")
	capiKeys(t, "links", capiMap(t, "settings", got, "links"), "terms_url", "privacy_url")
	oh := capiMap(t, "settings", got, "office_hours")
	capiKeys(t, "office_hours", oh, "enabled", "time_zone", "weekly", "away_message")
	if w := capiMap(t, "office_hours", oh, "weekly"); toJSON(w["tue"]) != `[["09:00","12:00"],["13:00","17:00"]]` {
		t.Errorf("office_hours.weekly %v", w)
	}
	ai := capiMap(t, "settings", got, "ai")
	capiKeys(t, "ai", ai, "enabled", "handoff", "min_confidence", "handoff_message", "llm", "zendesk", "gorgias")
	masked := map[string]map[string]any{
		"ai.llm.api_key":                    capiMap(t, "ai", ai, "llm"),
		"ai.zendesk.api_token":              capiMap(t, "ai", ai, "zendesk"),
		"ai.gorgias.api_key":                capiMap(t, "ai", ai, "gorgias"),
		"notifications.email.smtp.password": capiMap(t, "smtp", capiMap(t, "email", capiMap(t, "notifications", got, "notifications"), "email"), "smtp"),
	}
	capiKeys(t, "ai.llm", masked["ai.llm.api_key"], "base_url", "model", "api_key")
	capiKeys(t, "ai.zendesk", masked["ai.zendesk.api_token"], "base_url", "email", "api_token")
	capiKeys(t, "ai.gorgias", masked["ai.gorgias.api_key"], "base_url", "username", "api_key")
	capiKeys(t, "smtp", masked["notifications.email.smtp.password"], "addr", "username", "password")
	capiKeys(t, "notifications.email", capiMap(t, "notifications", capiMap(t, "settings", got, "notifications"), "email"), "enabled", "to", "from", "smtp")
	for name, obj := range masked {
		key := name[strings.LastIndex(name, ".")+1:]
		if v, _ := obj[key].(string); v == "" || v == secrets[name] {
			t.Errorf("%s reads %q, want it masked", name, v)
		}
	}
	if d, err := time.ParseDuration(got["waiting_alert_after"].(string)); err != nil || d != 90*time.Second {
		t.Errorf("waiting_alert_after %v, want a Go duration of 90s", got["waiting_alert_after"])
	}

	// A PUT of one section leaves the others as they were.
	before := capiObj(t, "before", capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw)
	capiOK(t, "PUT links", capiDo(t, h, "PUT", "/api/v1/settings", adminToken,
		map[string]any{"links": map[string]any{"terms_url": "https://shop.example/t2", "privacy_url": ""}}), http.StatusOK)
	after := capiObj(t, "after", capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw)
	for k := range before {
		if k != "links" && toJSON(before[k]) != toJSON(after[k]) {
			t.Errorf("PUT links changed %s: %v → %v", k, before[k], after[k])
		}
	}
	if l := capiMap(t, "links", after, "links"); l["terms_url"] != "https://shop.example/t2" || l["privacy_url"] != "" {
		t.Errorf("links %v", l)
	}
	// A section given is replaced whole, not merged.
	capiOK(t, "PUT webchat", capiDo(t, h, "PUT", "/api/v1/settings", adminToken,
		map[string]any{"webchat": map[string]any{"enabled": false, "login_mode": "logged_in"}}), http.StatusOK)
	if w := capiMap(t, "webchat", capiObj(t, "get", capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw), "webchat"); w["enabled"] != false || w["login_mode"] != "logged_in" || w["welcome_message"] != "" {
		t.Errorf("webchat after a PUT of the section without welcome_message: %v", w)
	}

	before = capiObj(t, "before", capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw)
	oh1 := func(tz string, mon [][]string) map[string]any {
		return map[string]any{"office_hours": map[string]any{"enabled": true, "time_zone": tz, "weekly": map[string]any{"mon": mon}, "away_message": "Away"}}
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{oh1("Europe/Stockholm", [][]string{{"9am", "17:00"}}), "office_hours.weekly.mon"},
		{oh1("Europe/Stockholm", [][]string{{"09:00", "25:00"}}), "office_hours.weekly.mon"},
		{oh1("Mars/Olympus_Mons", nil), "office_hours.time_zone"},
		{map[string]any{"ai": map[string]any{"handoff": "carrier-pigeon"}}, "ai.handoff"},
		{map[string]any{"ai": map[string]any{"handoff": "helpdesk", "llm": map[string]any{"base_url": "ftp://llm.example/v1"}}}, "ai.llm.base_url"},
		{map[string]any{"ai": map[string]any{"handoff": "zendesk", "zendesk": map[string]any{"base_url": "javascript:alert(1)"}}}, "ai.zendesk.base_url"},
		{map[string]any{"ai": map[string]any{"handoff": "gorgias", "gorgias": map[string]any{"base_url": "acme.gorgias.com"}}}, "ai.gorgias.base_url"},
		{map[string]any{"links": map[string]any{"privacy_url": "javascript:alert(1)"}}, "links.privacy_url"},
		{map[string]any{"notifications": map[string]any{"email": map[string]any{"to": []string{"not-an-address"}}}}, "notifications.email.to"},
		{map[string]any{"waiting_alert_after": "4 minutes"}, "waiting_alert_after"},
		// A valid section beside an invalid one is not applied either.
		{map[string]any{"links": map[string]any{"terms_url": "https://changed.example/"}, "webchat": map[string]any{"enabled": true, "login_mode": "everyone"}}, "webchat.login_mode"},
	} {
		capiInvalid(t, "PUT "+toJSON(tc.body), capiDo(t, h, "PUT", "/api/v1/settings", adminToken, tc.body), tc.field)
	}
	if after := capiObj(t, "after", capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil).raw); toJSON(after) != toJSON(before) {
		t.Errorf("refused PUTs changed the settings:\n%v\n%v", before, after)
	}
}

// POST /api/v1/faqs answers 201 with the object itself; GET /api/v1/faqs is
// {"faqs":[...]}; an invalid FAQ is a 400 naming the field.
func TestContractAPIFAQContract(t *testing.T) {
	h := start(t, Config{})
	in := map[string]any{"question": "Do you gift-wrap?", "answer": "Yes, for free.", "published": true, "position": 4, "kind": "article"}
	f := capiOK(t, "POST faq", capiDo(t, h, "POST", "/api/v1/faqs", adminToken, in), http.StatusCreated)
	capiKeys(t, "created faq", f, "id", "question", "answer", "published", "position", "kind")
	id, _ := f["id"].(string)
	if id == "" || f["question"] != in["question"] || f["answer"] != in["answer"] || f["published"] != true ||
		num(f["position"]) != 4 || f["kind"] != "article" {
		t.Fatalf("created %v from %v", f, in)
	}
	list := capiOK(t, "GET faqs", capiDo(t, h, "GET", "/api/v1/faqs", adminToken, nil), http.StatusOK)
	if len(list) != 1 {
		t.Errorf(`GET /api/v1/faqs has keys beyond "faqs": %v`, list)
	}
	found := false
	for _, x := range capiList(t, "faqs", list, "faqs") {
		x := x.(map[string]any)
		capiKeys(t, "listed faq", x, "id", "question", "answer", "published", "position", "kind")
		if x["id"] == id {
			found = toJSON(x) == toJSON(f)
		}
	}
	if !found {
		t.Errorf("GET /api/v1/faqs does not list the created FAQ as it was answered: %v", list)
	}
	n := len(capiList(t, "faqs", list, "faqs"))
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"question": "Q?", "answer": "A", "kind": "blog"}, "kind"},
		{map[string]any{"question": "Q?", "answer": " "}, "answer"},
		{map[string]any{"answer": "A"}, "question"},
		{map[string]any{"question": "Q?", "answer": "A", "position": -1}, "position"},
		{map[string]any{"question": "Q?", "answer": "A", "published": "yes"}, "published"},
	} {
		capiInvalid(t, "POST faq "+toJSON(tc.body), capiDo(t, h, "POST", "/api/v1/faqs", adminToken, tc.body), tc.field)
	}
	if m := len(capiList(t, "faqs", capiOK(t, "GET faqs", capiDo(t, h, "GET", "/api/v1/faqs", adminToken, nil), http.StatusOK), "faqs")); m != n {
		t.Errorf("refused FAQs changed the list: %d → %d", n, m)
	}
	capiErr(t, "GET unknown faq", capiDo(t, h, "GET", "/api/v1/faqs/nope", adminToken, nil), http.StatusNotFound, "not_found")
}

// POST /api/v1/agents answers 201 {"agent":{id,name,email,role},"token"};
// the token is shown there only and works as a bearer token at once.
func TestContractAPIAgentsContract(t *testing.T) {
	h := start(t, Config{})
	var tokens []string
	for _, role := range []string{"agent", "admin", "store"} {
		r := capiDo(t, h, "POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana " + role, "email": role + "@example.com", "role": role})
		body := capiOK(t, "POST agent "+role, r, http.StatusCreated)
		capiKeys(t, "created", body, "agent", "token")
		a := capiMap(t, "created", body, "agent")
		capiKeys(t, "created agent", a, "id", "name", "email", "role")
		tok, _ := body["token"].(string)
		if id, _ := a["id"].(string); id == "" || tok == "" || a["name"] != "Ana "+role || a["email"] != role+"@example.com" || a["role"] != role {
			t.Fatalf("created %s", r.raw)
		}
		if _, ok := a["token"]; ok {
			t.Errorf("the agent object carries its token: %s", r.raw)
		}
		tokens = append(tokens, tok)
	}
	list := capiDo(t, h, "GET", "/api/v1/agents", adminToken, nil)
	capiOK(t, "GET agents", list, http.StatusOK)
	before := capiAgentSet(t, h)
	for _, tok := range tokens {
		if bytes.Contains(list.raw, []byte(tok)) {
			t.Errorf("GET /api/v1/agents shows a token: %s", list.raw)
		}
	}
	if bytes.Contains(list.raw, []byte(`"token"`)) {
		t.Errorf("GET /api/v1/agents has a token field: %s", list.raw)
	}
	if r := capiDo(t, h, "GET", "/api/v1/tickets", tokens[0], nil); r.status != http.StatusOK {
		t.Errorf("a new agent's token: %d %s", r.status, r.raw)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "Eve", "role": "owner"}, "role"},
		{map[string]any{"name": "Eve", "email": "not-an-address", "role": "agent"}, "email"},
		{map[string]any{"name": " ", "role": "agent"}, "name"},
		{map[string]any{"name": "Eve", "role": 1}, "role"},
	} {
		capiInvalid(t, "POST agent "+toJSON(tc.body), capiDo(t, h, "POST", "/api/v1/agents", adminToken, tc.body), tc.field)
	}
	if after := capiAgentSet(t, h); after != before {
		t.Errorf("refused agents changed the list:\n%s\n%s", before, after)
	}
	capiErr(t, "DELETE unknown agent", capiDo(t, h, "DELETE", "/api/v1/agents/nope", adminToken, nil), http.StatusNotFound, "not_found")
}

// GET /api/v1/profiles/{id} is the profile {"id","name","email","phone",
// "events":[{"id","name","at","properties"}]}, readable by agents; the
// ticket view carries the same profile.
func TestContractAPIProfileRead(t *testing.T) {
	h := start(t, Config{})
	store := h.store
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := store.PutProfile(engine.Profile{ID: "cust_ada", Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+46701234567", UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.AddProfileEvent("cust_ada", engine.ProfileEvent{ID: "ev1", Name: "Placed Order", At: at, Properties: map[string]any{"total": 42.5}}, nil); err != nil {
		t.Fatal(err)
	}
	_, agentTok := capiAgent(t, h, "Ana", "agent")
	p := capiOK(t, "GET profile", capiDo(t, h, "GET", "/api/v1/profiles/cust_ada", agentTok, nil), http.StatusOK)
	capiKeys(t, "profile", p, "id", "name", "email", "phone", "events")
	if p["id"] != "cust_ada" || p["name"] != "Ada Lovelace" || p["email"] != "ada@example.com" || p["phone"] != "+46701234567" {
		t.Errorf("profile %v", p)
	}
	evs := capiList(t, "profile", p, "events")
	if len(evs) != 1 {
		t.Fatalf("profile events %v", evs)
	}
	ev := evs[0].(map[string]any)
	capiKeys(t, "profile event", ev, "id", "name", "at", "properties")
	capiUTC(t, "profile event at", ev["at"])
	if ev["name"] != "Placed Order" || toJSON(ev["properties"]) != `{"total":42.5}` {
		t.Errorf("profile event %v", ev)
	}
	capiErr(t, "GET unknown profile", capiDo(t, h, "GET", "/api/v1/profiles/nobody", agentTok, nil), http.StatusNotFound, "not_found")

	_, id := ticketFromShopper(t, h, "cust_ada")
	vp := capiMap(t, "view", capiView(t, h, id, agentTok), "profile")
	capiKeys(t, "view profile", vp, "id", "name", "email", "phone", "events")
	if vp["id"] != "cust_ada" || len(capiList(t, "view profile", vp, "events")) != 1 {
		t.Errorf("the ticket's profile %v", vp)
	}
}

// docs/protocol.md §6: the routes of features not served yet answer 404
// not_found until they are.
func TestContractAPIUnbuiltRoutesAnswerNotFound(t *testing.T) {
	h := start(t, Config{})
	for _, c := range []struct{ method, path string }{} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			capiErr(t, c.method+" "+c.path, capiDo(t, h, c.method, c.path, adminToken, map[string]any{}), http.StatusNotFound, "not_found")
		})
	}
}

// /healthz, /readyz and /metrics (every name prefixed parley_); while the
// server shuts down, /readyz and the API answer 503 unavailable and change
// nothing, and /healthz still says the process is alive.
func TestContractAPIOperations(t *testing.T) {
	h := start(t, Config{})
	ticketFromShopper(t, h, "p-ops")
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := capiDo(t, h, "GET", p, "", nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, r.status, r.raw)
		}
	}
	m := capiDo(t, h, "GET", "/metrics", "", nil)
	if m.status != http.StatusOK || !strings.HasPrefix(m.hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %v", m.status, m.hdr)
	}
	names := 0
	for _, line := range strings.Split(string(m.raw), "\n") {
		name := ""
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			name = strings.Fields(line)[2]
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		default:
			name = strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]
		}
		names++
		if !strings.HasPrefix(name, "parley_") {
			t.Errorf("metric %q does not start with parley_", name)
		}
	}
	if names == 0 {
		t.Fatalf("no metrics: %s", m.raw)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	faqs := len(h.sys.FAQs())
	capiErr(t, "POST faq while shutting down", capiDo(t, h, "POST", "/api/v1/faqs", adminToken,
		map[string]any{"question": "Late?", "answer": "Yes."}), http.StatusServiceUnavailable, "unavailable")
	if n := len(h.sys.FAQs()); n != faqs {
		t.Errorf("a request refused while shutting down created an FAQ")
	}
	capiErr(t, "readyz while shutting down", capiDo(t, h, "GET", "/readyz", "", nil), http.StatusServiceUnavailable, "unavailable")
	if r := capiDo(t, h, "GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("healthz while shutting down: %d %s", r.status, r.raw)
	}
}

// /readyz is 200 only while storage is open and conversations can be
// resumed: once the actor system is down it is 503, and so is the API.
func TestContractAPIReadyzWithoutStorage(t *testing.T) {
	h := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	capiErr(t, "readyz with the actors down", capiDo(t, h, "GET", "/readyz", "", nil), http.StatusServiceUnavailable, "unavailable")
	capiErr(t, "list with the actors down", capiDo(t, h, "GET", "/api/v1/tickets", adminToken, nil), http.StatusServiceUnavailable, "unavailable")
}

// A change refused by the rate limit is a 429 rate_limited with Retry-After
// in seconds, and is not applied.
func TestContractAPIRateLimitedChangeIsNotApplied(t *testing.T) {
	h := start(t, Config{APIRate: 0.01, APIBurst: 1})
	faqs := len(h.sys.FAQs())
	capiOK(t, "first POST", capiDo(t, h, "POST", "/api/v1/faqs", adminToken, map[string]any{"question": "One?", "answer": "Yes."}), http.StatusCreated)
	r := capiDo(t, h, "POST", "/api/v1/faqs", adminToken, map[string]any{"question": "Two?", "answer": "Yes."})
	capiErr(t, "second POST", r, http.StatusTooManyRequests, "rate_limited")
	if n, err := strconv.Atoi(r.hdr.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After %q, want whole seconds", r.hdr.Get("Retry-After"))
	}
	if n := len(h.sys.FAQs()); n != faqs+1 {
		t.Errorf("%d FAQs, want %d: the limited request was applied", n, faqs+1)
	}
}

// With metrics served on a separate listener (--metrics-addr), the main
// handler does not serve /metrics.
func TestContractAPIMetricsOnlyOnTheirOwnListener(t *testing.T) {
	h := start(t, Config{NoMetricsRoute: true})
	capiErr(t, "GET /metrics on the main listener", capiDo(t, h, "GET", "/metrics", "", nil), http.StatusNotFound, "not_found")
	if r := capiDo(t, h, "GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("healthz: %d", r.status)
	}
}

// Every key the contract lists is in the answer even when it has no value: a
// profile without e-mail or phone has them as "", and the e-mail
// notification's recipients are a list, empty rather than null.
func TestContractAPIListedKeysAreAlwaysThere(t *testing.T) {
	h := start(t, Config{})
	_, conv := ticketFromShopper(t, h, "p-bare")
	p := capiMap(t, "ticket view", capiView(t, h, conv, adminToken), "profile")
	capiKeys(t, "profile", p, "id", "name", "email", "phone", "events")
	if p["email"] != "" || p["phone"] != "" {
		t.Errorf("profile without e-mail or phone: %v, want both \"\"", p)
	}
	settings := capiOK(t, "GET settings", capiDo(t, h, "GET", "/api/v1/settings", adminToken, nil), http.StatusOK)
	email := capiMap(t, "notifications", capiMap(t, "settings", settings, "notifications"), "email")
	if to, ok := email["to"].([]any); !ok || len(to) != 0 {
		t.Errorf("notifications.email.to = %#v, want []", email["to"])
	}
}
