package transport

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The API reference at /api/docs, in a real headless Chromium: the page
// draws the OpenAPI document the server serves, every operation under its
// tag with its method, path, summary, parameters, request body and
// answers, each with an anchor the list at the side links to; it breaks no
// rule of its Content-Security-Policy and needs no sign-in.
func TestAPIDocsPageShowsEveryOperation(t *testing.T) {
	h := start(t, Config{})
	doc := loadSpec(t)
	ops := 0
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	p := openPage(t, h, "/api/docs")
	p.waitFor("the reply operation", `!!document.getElementById('op-replyToTicket')`)

	const op = `document.getElementById('op-replyToTicket')`
	head := eval[string](p, op+`.querySelector('.op-head').textContent`)
	for _, want := range []string{"POST", "/api/v1/tickets/{id}/messages", "Reply to the customer"} {
		if !strings.Contains(head, want) {
			t.Errorf("the operation's heading %q lacks %q", head, want)
		}
	}
	if !eval[bool](p, `[...`+op+`.querySelectorAll('.response')].some(r => r.dataset.status === '201' && r.textContent.includes('Seq'))`) {
		t.Errorf("the reply's 201 answer is not shown: %s", eval[string](p, op+`.textContent`))
	}
	body := eval[string](p, op+`.textContent`)
	for _, want := range []string{"Request body", "client_id", "attachments", "macro", "Parameters", "id", "409", "429"} {
		if !strings.Contains(body, want) {
			t.Errorf("the reply operation does not show %q", want)
		}
	}
	if n := eval[int](p, `document.querySelectorAll('.tag[id^="tag-"] > .op[id^="op-"]').length`); n != ops+len(doc.Webhooks) {
		t.Errorf("the page shows %d operations, the document has %d and %d webhooks", n, ops, len(doc.Webhooks))
	}
	if broken := eval[[]string](p, `[...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href')).filter(href => href.length > 1 && !document.getElementById(decodeURIComponent(href.slice(1))))`); len(broken) > 0 {
		t.Errorf("links to nothing on the page: %v", broken)
	}

	// The list at the side leads to the operation, and a link to it opens there.
	p.run(chromedp.Click(chromedp.CSS(`#toc a[href="#op-replyToTicket"]`)))
	p.waitFor("the operation targeted", `location.hash === '#op-replyToTicket' && `+op+`.matches(':target')`)
	p.run(chromedp.Navigate(h.ts.URL + "/api/docs#schema-TicketRow"))
	p.waitFor("the row's schema", `!!document.getElementById('schema-TicketRow') && document.getElementById('schema-TicketRow').textContent.includes('waiting_since')`)
	if tags := eval[[]string](p, `[...document.querySelectorAll('#toc h2')].map(x => x.textContent)`); len(tags) < 12 {
		t.Errorf("the list shows the tags %v", tags)
	}
	p.run(chromedp.Navigate(h.ts.URL+"/api/docs#op-replyToTicket"), chromedp.EmulateViewport(1280, 900))
	p.waitFor("the reply operation", `!!document.getElementById('op-replyToTicket')`)
	// The page is long: the picture is of the window, at the operation.
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	savePicture(t, "api-docs", png)
	// On a phone it reads without scrolling sideways.
	p.run(chromedp.EmulateViewport(390, 844), chromedp.Reload())
	p.waitFor("the reply operation", `!!document.getElementById('op-replyToTicket')`)
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a phone the page is %d px wide", w)
	}

	code, _, hdr := h.do("GET", "/api/docs", "", nil)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || hdr.Get("Content-Security-Policy") != pageCSP {
		t.Errorf("GET /api/docs: %d %v", code, hdr)
	}
}
