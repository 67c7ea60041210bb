package transport

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The pages are served with their types and a strict policy: no inline
// script or style, nothing from elsewhere, never framed.
func TestPagesAreServed(t *testing.T) {
	h := start(t, Config{Demo: true})
	for path, ctype := range map[string]string{
		"/": "text/html", "/inbox": "text/html", "/widget.js": "text/javascript",
	} {
		resp, err := http.Get(h.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, resp.Header)
		}
		if ctype == "text/html" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("GET %s: CSP %q", path, resp.Header.Get("Content-Security-Policy"))
		}
	}
	for _, path := range []string{"/assets/../web.go", "/assets/%2e%2e/web.go", "/assets/.keep", "/assets/nope.js"} {
		resp, err := http.Get(h.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// The demo page offers the admin token only to a browser on this machine
// of a server that shares it, never through a proxy.
func TestDemoAdminTokenStaysOnThisMachine(t *testing.T) {
	shared := start(t, Config{Demo: true, ShareAdminToken: true})
	code, body, _ := shared.do("GET", "/demo/admin-token", "", nil)
	if code != 200 || body["token"] != adminToken {
		t.Fatalf("from this machine: %d %v", code, body)
	}
	req, _ := http.NewRequest("GET", shared.ts.URL+"/demo/admin-token", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("through a proxy: %d, want 404", resp.StatusCode)
	}
	req.Header.Del("X-Forwarded-For")
	req.Host = "shop.example.com"
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("under a public host name: %d, want 404", resp.StatusCode)
	}
	notShared := start(t, Config{Demo: true})
	if code, _, _ := notShared.do("GET", "/demo/admin-token", "", nil); code != 404 {
		t.Fatalf("a server that does not share it: %d", code)
	}
}

// The browser harness works: Chromium opens the demo page.
func TestBrowserOpensTheDemoPage(t *testing.T) {
	h := start(t, Config{Demo: true})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(h.ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "Parley") {
		t.Fatalf("title %q", title)
	}
}
