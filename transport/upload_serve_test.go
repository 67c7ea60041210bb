package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// get requests url with headers and returns the answer and its body.
func get(t testing.TB, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// An upload is served without a token, with headers that let an <img>
// anywhere show it and cache it for good, and that let it run nothing when
// opened as a page.
func TestUploadServedHeaders(t *testing.T) {
	h := start(t, Config{})
	data := tinyGIF(t)
	url, _ := h.upload(token(t, "cust_img", "Ada"), filePart("x.gif", "", data))
	name := url[strings.LastIndex(url, "/")+1:]
	want := map[string]string{
		"Content-Type":                 "image/gif",
		"X-Content-Type-Options":       "nosniff",
		"Content-Disposition":          `inline; filename="` + name + `"`,
		"Cache-Control":                "public, max-age=31536000, immutable",
		"Content-Security-Policy":      "default-src 'none'; sandbox",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"ETag":                         `"` + name + `"`,
	}
	check := func(what string, resp *http.Response, skip ...string) {
		t.Helper()
		for k, v := range want {
			if got := resp.Header.Get(k); got != v && !contains(skip, k) {
				t.Errorf("%s: %s = %q; want %q", what, k, got, v)
			}
		}
	}
	resp, body := get(t, "GET", url, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("GET: %d, %d bytes, Content-Length %s", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	check("GET", resp)
	resp, body = get(t, "HEAD", url, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %s", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	check("HEAD", resp)
	for _, inm := range []string{`"` + name + `"`, `W/"` + name + `"`, `"other", "` + name + `"`, "*"} {
		resp, body = get(t, "GET", url, map[string]string{"If-None-Match": inm})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("If-None-Match %s: %d, %d bytes; want 304", inm, resp.StatusCode, len(body))
		}
		check("304", resp, "Content-Type")
	}
	if resp, _ = get(t, "GET", url, map[string]string{"If-None-Match": `"other"`}); resp.StatusCode != 200 || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("another ETag: %d, Last-Modified %q", resp.StatusCode, resp.Header.Get("Last-Modified"))
	}
	resp, body = get(t, "GET", url, map[string]string{"Range": "bytes=2-5"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[2:6]) {
		t.Fatalf("a range: %d %q", resp.StatusCode, body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A path that is not exactly /uploads/ and a name the server gave is 404:
// never a redirect, never a file outside, never another route.
func TestUploadPathTricks(t *testing.T) {
	h := start(t, Config{})
	url, _ := h.upload(adminToken, filePart("a.png", "image/png", tinyPNG(t)))
	name := url[strings.LastIndex(url, "/")+1:]
	stem := strings.TrimSuffix(name, ".png")
	for _, p := range []string{
		"/uploads/../healthz", "/uploads/%2e%2e/healthz", "/uploads/%2E%2E%2Fhealthz", "/uploads/..%2fhealthz",
		"/uploads/./" + name, "/uploads//" + name, "/uploads/" + name + "/", "/uploads/" + name + "/..",
		"/uploads/a%2Fb.png", "/uploads/" + stem + "%2F.png", "/uploads/" + name + "%00", "/uploads/" + stem + "%00.png",
		"/uploads/" + strings.Repeat("a", 5000) + ".png", "/uploads/" + strings.ToUpper(stem) + ".png",
		"/uploads/" + stem + ".gif", "/uploads/" + stem + ".svg", "/uploads/" + stem, "/uploads/",
		"/uploads/" + engine.NewUploadName("image/png"), "/uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/uploads/..\\..\\etc\\passwd", "/uploads/" + name + "?x=../../etc/passwd#",
	} {
		resp, body := get(t, "GET", h.ts.URL+p, nil)
		if p == "/uploads/"+name+"?x=../../etc/passwd#" { // a query changes nothing: it is the upload
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", p, resp.StatusCode)
			}
			continue
		}
		if code, _ := errCode(decodeJSON(t, body)); resp.StatusCode != 404 || code != "not_found" {
			t.Errorf("GET %s: %d %s %q; want 404 not_found", p, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
}

// An upload is part of a backup: a server started on the checkpoint serves
// it at the same name.
func TestUploadInBackup(t *testing.T) {
	h := start(t, Config{})
	data := tinyJPEG(t)
	url, _ := h.upload(adminToken, filePart("a.jpg", "image/jpeg", data))
	dir := filepath.Join(t.TempDir(), "backup")
	if status, out, _ := h.do("POST", "/api/v1/backup", adminToken, map[string]any{"dir": dir}); status != 200 {
		t.Fatalf("backup: %d %v", status, out)
	}
	store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.Start(store, actors.Config{}, nil, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv := New(sys, Config{IdentitySecret: testSecret, Logger: quietLogger()}, prometheus.NewRegistry())
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
		_ = sys.Shutdown(ctx)
		_ = store.Close()
	})
	resp, body := get(t, "GET", ts.URL+strings.TrimPrefix(url, h.ts.URL), nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("the upload from the backup: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}
