package transport

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// createMacro makes a macro as an admin and returns its id.
func createMacro(t *testing.T, h *harness, name, body string) string {
	t.Helper()
	code, m, _ := h.do("POST", "/api/v1/macros", adminToken, map[string]any{"name": name, "body": body})
	id, _ := m["id"].(string)
	if code != http.StatusCreated || id == "" {
		t.Fatalf("create macro %q: %d %v", name, code, m)
	}
	return id
}

// wantRefused checks an error answer: its status, code and field, and a
// message that says want.
func wantRefused(t *testing.T, what string, code int, body map[string]any, status int, field, want string) {
	t.Helper()
	c, f := errCode(body)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if code != status || f != field || !strings.Contains(msg, want) {
		t.Fatalf("%s: %d %s %q %q, want %d naming %q with %q", what, code, c, f, msg, status, field, want)
	}
}

// Macros are created, listed by name, read, replaced and deleted (C5,
// PROTOCOL §3), each answered as the object itself.
func TestMacrosCRUD(t *testing.T) {
	h := start(t, Config{})
	code, m, _ := h.do("POST", "/api/v1/macros", adminToken, map[string]any{"name": "Shipping", "body": "Hi {{ first_name }}, your order ships today."})
	if code != http.StatusCreated || m["name"] != "Shipping" || m["body"] != "Hi {{ first_name }}, your order ships today." {
		t.Fatalf("create: %d %v", code, m)
	}
	ship := m["id"].(string)
	if at, err := time.Parse(time.RFC3339Nano, m["updated_at"].(string)); err != nil || at.Location() != time.UTC || len(m) != 4 {
		t.Fatalf("created macro %v: want id, name, body and updated_at in UTC", m)
	}
	returns := createMacro(t, h, "returns", "Returns are free within 30 days.")
	apology := createMacro(t, h, "Apology", "Sorry for the wait, {{name}}.")

	names := func() string {
		t.Helper()
		code, list, _ := h.do("GET", "/api/v1/macros", adminToken, nil)
		if code != http.StatusOK {
			t.Fatalf("list: %d %v", code, list)
		}
		var out []string
		for _, x := range list["macros"].([]any) {
			out = append(out, x.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	if got := names(); got != "Apology,returns,Shipping" {
		t.Fatalf("list = %s, want by name whatever the case", got)
	}
	if code, got, _ := h.do("GET", "/api/v1/macros/"+returns, adminToken, nil); code != http.StatusOK || got["body"] != "Returns are free within 30 days." {
		t.Fatalf("get: %d %v", code, got)
	}

	// A replacement takes the whole macro; a macro read with GET may be sent
	// back as it is.
	edited := map[string]any{"id": ship, "name": "Zebra shipping", "body": "It ships, {{name}}.", "updated_at": m["updated_at"]}
	code, got, _ := h.do("PUT", "/api/v1/macros/"+ship, adminToken, edited)
	if code != http.StatusOK || got["id"] != ship || got["name"] != "Zebra shipping" || got["body"] != "It ships, {{name}}." {
		t.Fatalf("put: %d %v", code, got)
	}
	if code, again, _ := h.do("GET", "/api/v1/macros/"+ship, adminToken, nil); code != http.StatusOK || toJSON(again) != toJSON(got) {
		t.Fatalf("after put, get: %d %v, want %v", code, again, got)
	}
	if got := names(); got != "Apology,returns,Zebra shipping" {
		t.Fatalf("list after a rename = %s", got)
	}

	if code, body, _ := h.do("DELETE", "/api/v1/macros/"+apology, adminToken, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %v", code, body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/macros/" + apology}, {"DELETE", "/api/v1/macros/" + apology},
		{"PUT", "/api/v1/macros/" + apology}, {"GET", "/api/v1/macros/no-such-macro"}, {"GET", "/api/v1/macros/%2E%2E"},
	} {
		code, body, _ := h.do(c.method, c.path, adminToken, map[string]any{"name": "X", "body": "Y"})
		if ec, _ := errCode(body); code != http.StatusNotFound || ec != "not_found" {
			t.Fatalf("%s %s: %d %v, want 404", c.method, c.path, code, body)
		}
	}
	if got := names(); got != "returns,Zebra shipping" {
		t.Fatalf("list after delete = %s", got)
	}
}

// Agents read macros to reply with; only admins write them (PROTOCOL §3
// roles); a request without a valid token is 401.
func TestMacroRoles(t *testing.T) {
	h := start(t, Config{})
	id := createMacro(t, h, "Shipping", "It ships today.")
	_, ag, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "role": "agent"})
	agentTok := ag["token"].(string)
	_, st, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Shop", "role": "store"})
	storeTok := st["token"].(string)
	body := map[string]any{"name": "Mine", "body": "Changed"}
	for _, c := range []struct {
		method, path, bearer string
		status               int
	}{
		{"GET", "/api/v1/macros", agentTok, http.StatusOK},
		{"GET", "/api/v1/macros/" + id, agentTok, http.StatusOK},
		{"POST", "/api/v1/macros", agentTok, http.StatusForbidden},
		{"PUT", "/api/v1/macros/" + id, agentTok, http.StatusForbidden},
		{"DELETE", "/api/v1/macros/" + id, agentTok, http.StatusForbidden},
		{"GET", "/api/v1/macros", storeTok, http.StatusForbidden},
		{"GET", "/api/v1/macros", "", http.StatusUnauthorized},
		{"POST", "/api/v1/macros", "", http.StatusUnauthorized},
		{"DELETE", "/api/v1/macros/" + id, "wrong", http.StatusUnauthorized},
		{"GET", "/api/v1/macros", token(t, "p1", "Ada"), http.StatusUnauthorized},
	} {
		if code, got, _ := h.do(c.method, c.path, c.bearer, body); code != c.status {
			t.Fatalf("%s %s as %.8q: %d %v, want %d", c.method, c.path, c.bearer, code, got, c.status)
		}
	}
	if code, list, _ := h.do("GET", "/api/v1/macros", adminToken, nil); code != http.StatusOK || len(list["macros"].([]any)) != 1 ||
		list["macros"].([]any)[0].(map[string]any)["body"] != "It ships today." {
		t.Fatalf("refused writes changed the macros: %v", list)
	}
}

// An invalid macro is a 400 naming the field, and the message names the
// placeholder at fault (PROTOCOL §3); nothing changes.
func TestMacroBodyRefusals(t *testing.T) {
	h := start(t, Config{})
	id := createMacro(t, h, "Shipping", "Hi {{first_name}}")
	before := toJSON(h.sys.Macros())
	for _, c := range []struct {
		body         any
		field, want  string
		createStatus int
	}{
		{map[string]any{"name": "Order", "body": "Your order {{order_id}} ships."}, "body", "{{order_id}} is not a known placeholder", 400},
		{map[string]any{"name": "Order", "body": "Hi {{ Name }}"}, "body", "{{ Name }}", 400},
		{map[string]any{"name": "Typo", "body": "Hi {{first_name}, welcome"}, "body", `"{{first_name}" is not a well-formed placeholder`, 400},
		{map[string]any{"name": "Empty", "body": " "}, "body", "required", 400},
		{map[string]any{"name": "Long", "body": strings.Repeat("x", engine.MaxTextRunes+1)}, "body", "longer than 4000", 400},
		{map[string]any{"body": "No name"}, "name", "required", 400},
		{map[string]any{"name": strings.Repeat("n", 201), "body": "x"}, "name", "longer than 200", 400},
		{map[string]any{"name": 7, "body": "x"}, "name", "wrong type", 400},
		{map[string]any{"name": "X", "body": "Y", "title": "Z"}, "title", "not a known field", 400},
		{map[string]any{"name": "X", "body": "Y", "id": "mine"}, "id", "", 400},
	} {
		code, got, _ := h.do("POST", "/api/v1/macros", adminToken, c.body)
		wantRefused(t, "POST "+toJSON(c.body), code, got, c.createStatus, c.field, c.want)
		if c.field == "id" {
			continue
		}
		code, got, _ = h.do("PUT", "/api/v1/macros/"+id, adminToken, c.body)
		wantRefused(t, "PUT "+toJSON(c.body), code, got, http.StatusBadRequest, c.field, c.want)
	}
	code, got, _ := h.do("PUT", "/api/v1/macros/"+id, adminToken, map[string]any{"id": "another", "name": "X", "body": "Y"})
	wantRefused(t, "PUT with another id", code, got, http.StatusBadRequest, "id", "URL")
	code, got, _ = h.do("POST", "/api/v1/macros", adminToken, `{"name":"X","body":`)
	wantRefused(t, "malformed JSON", code, got, http.StatusBadRequest, "", "")
	if after := toJSON(h.sys.Macros()); after != before {
		t.Fatalf("refused writes changed the macros:\n%s\n%s", before, after)
	}
}
