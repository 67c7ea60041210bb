package transport

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

// PROTOCOL §3: a page exchanges an agent's token for an HttpOnly,
// SameSite=Strict cookie; with it every change needs X-Parley-CSRF: 1, the
// inbox stream works, and DELETE signs out.
func TestSessionCookie(t *testing.T) {
	h := start(t, Config{})
	_, conv := ticketFromShopper(t, h, "p-session")
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	call := func(method, path, body string, csrf bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if csrf {
			req.Header.Set("X-Parley-CSRF", "1")
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	if r := call("POST", "/api/v1/session", `{"token":"not-a-token"}`, false); r.StatusCode != 401 {
		t.Fatalf("a bad token: %d", r.StatusCode)
	}
	if r := call("POST", "/api/v1/session", `{"token":"`+token(t, "p1", "Ada")+`"}`, false); r.StatusCode != 401 {
		t.Fatalf("a shopper's identity token: %d", r.StatusCode)
	}
	r := call("POST", "/api/v1/session", `{"token":"`+adminToken+`"}`, false)
	if r.StatusCode != 200 {
		t.Fatalf("sign in: %d", r.StatusCode)
	}
	set := r.Header.Get("Set-Cookie")
	for _, want := range []string{"parley_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Fatalf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if r := call("GET", "/api/v1/tickets", "", false); r.StatusCode != 200 {
		t.Fatalf("a read with the cookie: %d", r.StatusCode)
	}
	if r := call("GET", "/api/v1/session", "", false); r.StatusCode != 200 {
		t.Fatalf("who am I: %d", r.StatusCode)
	}
	if r := call("POST", "/api/v1/tickets/"+conv+"/close", "", false); r.StatusCode != 403 {
		t.Fatalf("a change with the cookie and no CSRF header: %d, want 403", r.StatusCode)
	}
	if r := call("GET", "/api/v1/tickets/"+conv, "", false); r.StatusCode != 200 {
		t.Fatalf("read: %d", r.StatusCode)
	}
	stream := call("GET", "/api/v1/inbox/stream", "", false)
	if stream.StatusCode != 200 {
		t.Fatalf("the stream with the cookie: %d", stream.StatusCode)
	}
	if line, _ := bufio.NewReader(stream.Body).ReadString('\n'); line != "event: badge\n" {
		t.Fatalf("stream begins %q", line)
	}
	if r := call("POST", "/api/v1/tickets/"+conv+"/close", "", true); r.StatusCode != 200 {
		t.Fatalf("a change with the cookie and the CSRF header: %d", r.StatusCode)
	}
	if r := call("DELETE", "/api/v1/session", "", false); r.StatusCode != 204 {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	if r := call("GET", "/api/v1/tickets", "", false); r.StatusCode != 401 {
		t.Fatalf("after signing out: %d, want 401", r.StatusCode)
	}
}

// The widget on a store's page (another origin) may upload a shopper's
// image: the preflight and the upload answer that origin when it is allowed,
// and nothing to any other.
func TestUploadCORS(t *testing.T) {
	h := start(t, Config{AllowedOrigins: []string{"shop.example.com"}})
	preflight := func(origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", h.ts.URL+"/api/v1/uploads", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r := preflight("https://shop.example.com")
	if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight from the store: %d %v", r.StatusCode, r.Header)
	}
	if r := preflight("https://evil.example.org"); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from elsewhere: %d %v", r.StatusCode, r.Header)
	}
}

// An upload stores something, so with the session cookie it needs the
// CSRF header too (PROTOCOL §3); with the header, or a bearer token, the
// cookie's agent uploads as usual.
func TestSessionUploadNeedsTheCSRFHeader(t *testing.T) {
	h := start(t, Config{})
	_, body, hdr := h.do("POST", "/api/v1/session", "", map[string]any{"token": adminToken})
	if body == nil || hdr.Get("Set-Cookie") == "" {
		t.Fatalf("sign in: %v %v", body, hdr)
	}
	cookie := (&http.Response{Header: hdr}).Cookies()[0]
	upload := func(csrf bool) (int, map[string]any) {
		t.Helper()
		b, ct := form(t, filePart("parcel.png", "image/png", tinyPNG(t)))
		req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/uploads", bytes.NewReader(b))
		req.Header.Set("Content-Type", ct)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		if csrf {
			req.Header.Set("X-Parley-CSRF", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, decodeJSON(t, mustRead(t, resp))
	}
	if code, body := upload(false); code != http.StatusForbidden {
		t.Fatalf("an upload with the cookie alone: %d %v, want 403", code, body)
	} else if c, field := errCode(body); c != "forbidden" || field != "X-Parley-CSRF" {
		t.Fatalf("an upload with the cookie alone: %v", body)
	}
	if code, body := upload(true); code != http.StatusCreated {
		t.Fatalf("an upload with the cookie and the header: %d %v", code, body)
	}
}

func mustRead(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
