package transport

import (
	"net/http"
	"testing"
)

// The widget's modules are imported by the store's pages, from another
// origin: they are served with CORS to anyone (public code, no
// credentials); the store's own pages' assets are not. Every asset carries
// the ETag of its contents, so that the revalidation each page view makes
// is answered 304.
func TestWidgetModulesAreServedToOtherOrigins(t *testing.T) {
	h := start(t, Config{Demo: true})
	get := func(path, etag string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Header.Set("Origin", "https://shop.example.com")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/widget.js", "/widget.css", "/assets/widget/main.js", "/assets/widget/session.js"} {
		resp := get(path, "")
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" || resp.Header.Get("ETag") == "" {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, resp.Header)
		}
		if again := get(path, resp.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Fatalf("GET %s again with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	if resp := get("/assets/demo.js", ""); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("the demo store's script is shared with other origins: %v", resp.Header)
	}
}
