package transport

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// storeToken creates the store's integration token (role store).
func storeToken(t *testing.T, h *harness) string {
	t.Helper()
	_, tok, err := h.sys.CreateAgent(context.Background(), engine.Agent{Name: "Shop backend", Role: engine.RoleStore})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func agentToken(t *testing.T, h *harness) string {
	t.Helper()
	_, tok, err := h.sys.CreateAgent(context.Background(), engine.Agent{Name: "Ana", Email: "ana@example.com", Role: engine.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func profilePath(id string) string { return "/api/v1/profiles/" + url.PathEscape(id) }

// wantProfile checks a profile answer's fields, and that "events" is a list.
func wantProfile(t *testing.T, what string, p map[string]any, id, name, email, phone string) {
	t.Helper()
	if p["id"] != id || p["name"] != name || p["email"] != email || p["phone"] != phone {
		t.Fatalf("%s: %v, want id %q name %q email %q phone %q", what, p, id, name, email, phone)
	}
	if _, ok := p["events"].([]any); !ok {
		t.Fatalf("%s: events %v is not a list", what, p["events"])
	}
	if _, ok := p["events_next_cursor"]; !ok {
		t.Fatalf("%s: no events_next_cursor in %v", what, p)
	}
}

// The store upserts a profile and agents read it back; a field left out
// stays, "" clears, the phone is stored in E.164; an opaque id with slashes
// works path-escaped; admins may write too.
func TestProfileUpsertAndReadBack(t *testing.T) {
	h := start(t, Config{})
	store, agent := storeToken(t, h), agentToken(t, h)
	id := "gid://shopify/Customer/7"
	code, p, _ := h.do("PUT", profilePath(id), store, map[string]any{"name": " Ada Lovelace ", "email": "ada@example.com", "phone": "+46 (70) 123-45-67"})
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %v", code, p)
	}
	wantProfile(t, "PUT", p, id, "Ada Lovelace", "ada@example.com", "+46701234567")
	if p["events_next_cursor"] != nil || len(p["events"].([]any)) != 0 {
		t.Fatalf("a new profile's events: %v", p)
	}
	code, got, _ := h.do("GET", profilePath(id), agent, nil)
	if code != http.StatusOK || toJSON(got) != toJSON(p) {
		t.Fatalf("GET: %d %v, want %v", code, got, p)
	}
	code, p, _ = h.do("PUT", profilePath(id), store, map[string]any{"email": "ada@lovelace.example", "phone": ""})
	if code != http.StatusOK {
		t.Fatalf("PUT email: %d %v", code, p)
	}
	wantProfile(t, "PUT email", p, id, "Ada Lovelace", "ada@lovelace.example", "")
	code, p, _ = h.do("PUT", profilePath(id), adminToken, map[string]any{"name": "Augusta Ada King", "email": nil})
	if code != http.StatusOK {
		t.Fatalf("PUT as admin: %d %v", code, p)
	}
	wantProfile(t, "PUT as admin", p, id, "Augusta Ada King", "ada@lovelace.example", "")
	if code, p, _ = h.do("PUT", profilePath("cust_new"), store, map[string]any{}); code != http.StatusOK {
		t.Fatalf("PUT {}: %d %v", code, p)
	}
	wantProfile(t, "PUT {}", p, "cust_new", "", "", "")
	if code, body, _ := h.do("GET", profilePath("nobody"), agent, nil); code != http.StatusNotFound {
		t.Fatalf("GET unknown: %d %v", code, body)
	}
}

// Each bad value is refused with 400 naming its field, and changes nothing.
func TestProfileFieldValidation(t *testing.T) {
	h := start(t, Config{})
	store := storeToken(t, h)
	path := profilePath("cust_1")
	if code, body, _ := h.do("PUT", path, store, map[string]any{"name": "Ada", "email": "ada@example.com", "phone": "+46701234567"}); code != 200 {
		t.Fatalf("PUT: %d %v", code, body)
	}
	_, before, _ := h.do("GET", path, store, nil)
	for _, tc := range []struct {
		method, path string
		body         any
		field        string
	}{
		{"PUT", path, map[string]any{"name": strings.Repeat("n", 201)}, "name"},
		{"PUT", path, map[string]any{"name": "Ada\nLovelace"}, "name"},
		{"PUT", path, map[string]any{"name": 42}, "name"},
		{"PUT", path, map[string]any{"email": "ada"}, "email"},
		{"PUT", path, map[string]any{"email": "Ada <ada@example.com>"}, "email"},
		{"PUT", path, map[string]any{"phone": "070-123 45 67"}, "phone"},
		{"PUT", path, map[string]any{"phone": "+46 70 123 45 67 ext 2"}, "phone"},
		{"PUT", path, map[string]any{"name": "Ada", "nickname": "Countess"}, "nickname"},
		{"PUT", path, map[string]any{"id": "cust_1"}, "id"},
		{"POST", path + "/events", map[string]any{}, "name"},
		{"POST", path + "/events", map[string]any{"name": strings.Repeat("n", 201)}, "name"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "at": "yesterday"}, "at"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "at": time.Now().Add(49 * time.Hour).UTC().Format(time.RFC3339)}, "at"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "at": "1969-07-20T20:17:00Z"}, "at"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "properties": []any{1}}, "properties"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "properties": map[string]any{"a": []any{[]any{[]any{[]any{[]any{1}}}}}}}, "properties"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "properties": map[string]any{"note": strings.Repeat("x", 17<<10)}}, "properties"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "properties": manyKeys(51)}, "properties"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "id": ""}, "id"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "id": "a\u0007b"}, "id"},
		{"POST", path + "/events", map[string]any{"name": "Placed Order", "time": "2026-01-01T00:00:00Z"}, "time"},
		{"GET", path + "?events_limit=0", nil, "events_limit"},
		{"GET", path + "?events_limit=101", nil, "events_limit"},
		{"GET", path + "?events_cursor=not-a-cursor", nil, "events_cursor"},
	} {
		code, body, _ := h.do(tc.method, tc.path, store, tc.body)
		if c, f := errCode(body); code != http.StatusBadRequest || c != "invalid" || f != tc.field {
			t.Errorf("%s %s %s: %d %v, want 400 invalid naming %q", tc.method, tc.path, toJSON(tc.body), code, body, tc.field)
		}
	}
	for _, raw := range []string{`[]`, `"Ada"`, `null`, `{"name":"Ada"} {}`} {
		if code, body, _ := h.do("PUT", path, store, raw); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %v, want 400", raw, code, body)
		}
	}
	if _, after, _ := h.do("GET", path, store, nil); toJSON(after) != toJSON(before) {
		t.Fatalf("refused writes changed the profile:\n%v\n%v", before, after)
	}
}

func manyKeys(n int) map[string]any {
	m := map[string]any{}
	for i := 0; i < n; i++ {
		m["k"+strings.Repeat("x", i)] = i
	}
	return m
}

// Only the store (and admins) write profiles; agents read them; a shopper's
// identity token is never accepted.
func TestProfileRoles(t *testing.T) {
	h := start(t, Config{})
	store, agent := storeToken(t, h), agentToken(t, h)
	path := profilePath("cust_roles")
	put := map[string]any{"name": "Ada"}
	event := map[string]any{"name": "Placed Order"}
	for _, tc := range []struct {
		method, path string
		body         any
	}{{"PUT", path, put}, {"POST", path + "/events", event}} {
		if code, body, _ := h.do(tc.method, tc.path, agent, tc.body); code != http.StatusForbidden {
			t.Errorf("%s as agent: %d %v, want 403", tc.method, code, body)
		}
		for who, bearer := range map[string]string{"no token": "", "a shopper": token(t, "cust_roles", "Ada")} {
			if code, body, _ := h.do(tc.method, tc.path, bearer, tc.body); code != http.StatusUnauthorized {
				t.Errorf("%s with %s: %d %v, want 401", tc.method, who, code, body)
			}
		}
	}
	if code, body, _ := h.do("GET", path, agent, nil); code != http.StatusNotFound {
		t.Fatalf("refused writes created the profile: %d %v", code, body)
	}
	if code, body, _ := h.do("PUT", path, store, put); code != http.StatusOK {
		t.Fatalf("PUT as store: %d %v", code, body)
	}
	if code, body, _ := h.do("GET", path, token(t, "cust_roles", "Ada"), nil); code != http.StatusUnauthorized {
		t.Errorf("GET with the shopper's own identity token: %d %v, want 401", code, body)
	}
	for who, bearer := range map[string]string{"agent": agent, "store": store, "admin": adminToken} {
		if code, body, _ := h.do("GET", path, bearer, nil); code != http.StatusOK {
			t.Errorf("GET as %s: %d %v", who, code, body)
		}
	}
}

// An event with the store's id is stored once: the repeat answers 200 with
// the stored event. Without an id each event gets one. An event for an
// unknown profile creates it.
func TestProfileEventsIdempotentByID(t *testing.T) {
	h := start(t, Config{})
	store, agent := storeToken(t, h), agentToken(t, h)
	path := profilePath("cust_new") + "/events"
	order := map[string]any{"id": "order-1001", "name": "Placed Order", "at": "2025-03-01T12:00:00.5+01:00",
		"properties": map[string]any{"total": 1299.50, "order_no": 12345678901234567, "items": []any{map[string]any{"sku": "A-1"}}}}
	code, first, _ := h.do("POST", path, store, order)
	if code != http.StatusCreated || first["id"] != "order-1001" || first["at"] != "2025-03-01T11:00:00.5Z" {
		t.Fatalf("first: %d %v", code, first)
	}
	if toJSON(first["properties"]) != `{"items":[{"sku":"A-1"}],"order_no":12345678901234567,"total":1299.5}` {
		t.Fatalf("properties %s", toJSON(first["properties"]))
	}
	code, again, _ := h.do("POST", path, store, map[string]any{"id": "order-1001", "name": "Changed", "at": "2026-03-02T00:00:00Z"})
	if code != http.StatusOK || toJSON(again) != toJSON(first) {
		t.Fatalf("repeat: %d %v, want 200 %v", code, again, first)
	}
	var made []string
	for i := 0; i < 2; i++ {
		code, e, _ := h.do("POST", path, store, map[string]any{"name": "Viewed Product"})
		id, _ := e["id"].(string)
		if code != http.StatusCreated || !engine.ValidID(id) || e["name"] != "Viewed Product" {
			t.Fatalf("without id: %d %v", code, e)
		}
		if at, err := time.Parse(time.RFC3339, e["at"].(string)); err != nil || time.Since(at) > time.Minute {
			t.Fatalf("at %v: the default is now", e["at"])
		}
		made = append(made, id)
	}
	if made[0] == made[1] {
		t.Fatalf("two events got the id %s", made[0])
	}
	code, p, _ := h.do("GET", profilePath("cust_new"), agent, nil)
	if code != http.StatusOK {
		t.Fatalf("the profile an event created: %d %v", code, p)
	}
	wantProfile(t, "created by an event", p, "cust_new", "", "", "")
	evs := p["events"].([]any)
	if len(evs) != 3 || evs[2].(map[string]any)["id"] != "order-1001" {
		t.Fatalf("events %v, want the two new ones then the order", evs)
	}
}
