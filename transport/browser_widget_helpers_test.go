package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Helpers of the widget's browser tests (browser_widget_test.go): a store's
// site on another origin, reading and driving the widget inside its shadow
// root, and the agent's side through the API.

// storeSite is a store's site, on another origin than Parley's, whose pages
// embed the widget with one script tag. Its CSS is the kind that breaks
// widgets that do not keep to a shadow root.
type storeSite struct {
	ts     *httptest.Server
	url    string // the store's own address, on localhost (Parley's is 127.0.0.1)
	parley string
}

// startShop starts Parley (cfg), allowing a store's site that it starts too.
func startShop(t *testing.T, cfg Config) (*harness, *storeSite) {
	t.Helper()
	s := &storeSite{}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.ts.Close)
	s.url = strings.Replace(s.ts.URL, "127.0.0.1", "localhost", 1)
	u, _ := url.Parse(s.url)
	cfg.AllowedOrigins = append(cfg.AllowedOrigins, u.Host)
	h := start(t, cfg)
	s.parley = h.ts.URL
	return h, s
}

var storeSitePage = template.Must(template.New("shop").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Outdoor</title>
<style>
body { margin: 0; font-family: Georgia, serif; background: #f4f1ea; }
header { padding: 28px 40px; background: #1f3a2d; color: #fff; font-size: 28px; }
main { padding: 40px; font-size: 18px; }
body * { font-family: "Comic Sans MS", cursive !important; color: #ff00ff !important; }
button { background: yellow !important; border: 6px dashed red !important; }
div { padding: 30px; line-height: 3; }
</style></head>
<body><header>Acme Outdoor</header><main><p>Tents, packs and boots for every trail.</p></main>
<script src="{{.Parley}}/widget.js"{{if .Token}} data-token="{{.Token}}"{{end}} data-accent="#0f766e" data-title="Acme Support"></script>
</body></html>`))

func (s *storeSite) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = storeSitePage.Execute(w, struct{ Parley, Token string }{s.parley, r.URL.Query().Get("token")})
}

// page is the store's page, as a visitor with tok (none: anonymous) sees it.
func (s *storeSite) page(tok string) string {
	if tok == "" {
		return s.url + "/"
	}
	return s.url + "/?token=" + url.QueryEscape(tok)
}

// widgetJS reads the widget's shadow root: $ and $$ query it, shown says
// whether an element is rendered, text is an element's text without what
// only screen readers hear, bubbles the texts of the thread's bubbles.
const widgetJS = `const W = document.querySelector("#parley-widget")?.shadowRoot;
const $ = (s) => W ? W.querySelector(s) : null;
const $$ = (s) => W ? [...W.querySelectorAll(s)] : [];
const shown = (e) => !!e && e.getClientRects().length > 0;
const text = (e) => e ? [...e.childNodes].filter((n) => !(n.classList && n.classList.contains("sr"))).map((n) => n.textContent).join("") : "";
const bubbles = () => $$(".log .bubble").map(text);
`

// wjs wraps an expression over the widget's helpers.
func wjs(expr string) string {
	return "(() => {" + widgetJS + "return (" + expr + ");})()"
}

// wClick clicks the widget's element sel (in its shadow root) with the
// mouse, at its centre, as a person would: whatever covers it gets the
// click instead.
func wClick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	clickAt(t, ctx, sel, `$(`+strconv.Quote(sel)+`)`)
}

// pageClick clicks the page's element sel (outside the widget) the same way.
// (chromedp's own element queries lose track of a page once the widget has
// attached its shadow root, so the page is read with JavaScript too.)
func pageClick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	clickAt(t, ctx, sel, `document.querySelector(`+strconv.Quote(sel)+`)`)
}

func clickAt(t *testing.T, ctx context.Context, what, elem string) {
	t.Helper()
	wWait(t, ctx, what+" to show", `shown(`+elem+`)`)
	xy := wEval[[]float64](t, ctx, `(() => { const e = `+elem+`; e.scrollIntoView({block: "nearest"});
		const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	wDo(t, ctx, chromedp.MouseClickXY(xy[0], xy[1]))
}

// wType clicks into the widget's field sel and types keys.
func wType(t *testing.T, ctx context.Context, sel, keys string) {
	t.Helper()
	wClick(t, ctx, sel)
	wDo(t, ctx, chromedp.KeyEvent(keys))
}

// wUpload chooses file in the widget's file input sel, as the file
// chooser would.
func wUpload(t *testing.T, ctx context.Context, sel, file string) {
	t.Helper()
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: wjs(`$(` + strconv.Quote(sel) + `)`)})
	if err != nil || res.Result == nil || res.Result.ObjectID == "" {
		t.Fatalf("file input %s: %v", sel, err)
	}
	if _, err := chromedp.Call(ctx, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: []string{file}, ObjectID: res.Result.ObjectID}); err != nil {
		t.Fatalf("choose %s: %v", file, err)
	}
}

// wEval evaluates a widget expression.
func wEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](wjs(expr)))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wWait waits until a widget expression is truthy, failing with what the
// widget shows if it never is.
func wWait(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[any](wjs(expr),
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("waiting for %s: %v\nthe widget shows: %q", what, err, widgetText(ctx))
	}
}

// widgetText is what the widget shows, for failure messages.
func widgetText(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](wjs(`W ? W.querySelector(".root")?.innerText || "" : "(no widget)"`)))
	return s
}

// wSettle waits for the widget's transitions to end (before a screenshot).
func wSettle(t *testing.T, ctx context.Context) {
	t.Helper()
	wWait(t, ctx, "the widget to settle", `W.getAnimations().every((a) => a.playState !== "running" || a.effect.getComputedTiming().iterations === Infinity)`)
}

// wScreenshot saves what the browser's window shows, as screenshot does,
// once the widget has settled. The widget is fixed to the window: a capture
// beyond it (a full-page screenshot) relays the page out and loses the
// thread's scroll position.
func wScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	wSettle(t, ctx)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	savePicture(t, name, png)
}

// wDo runs chromedp steps, failing with what the widget shows.
func wDo(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%v\nthe widget shows: %q", err, widgetText(ctx))
	}
}

// axButtonsNamed lists the buttons of the page (shadow roots included) whose
// accessible name contains name, as assistive technology finds them.
func axButtonsNamed(t *testing.T, ctx context.Context, name string) []string {
	t.Helper()
	doc, err := chromedp.Call(ctx, dom.GetDocument, dom.GetDocumentParams{Depth: wPtr(int64(-1)), Pierce: wPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
		BackendNodeID: doc.Root.BackendNodeID, Role: "button",
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range res.Nodes {
		if n.Ignored || n.Name == nil {
			continue
		}
		v, _ := strconv.Unquote(string(n.Name.Value))
		if strings.Contains(strings.ToLower(v), strings.ToLower(name)) {
			names = append(names, v)
		}
	}
	return names
}

func wPtr[T any](v T) *T { return &v }

// openWidget loads page, finds the launcher by its accessible name and
// opens the panel with it.
func openWidget(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	wDo(t, ctx, chromedp.Navigate(page))
	wWait(t, ctx, "the launcher", `shown($(".launcher"))`)
	if names := axButtonsNamed(t, ctx, "chat"); len(names) != 1 || names[0] != "Open chat" {
		t.Fatalf("buttons named for chat: %q, want the launcher, Open chat", names)
	}
	wClick(t, ctx, ".launcher")
	wWait(t, ctx, "the panel", `shown($("[role=dialog]"))`)
}

// startWidgetChat opens the widget as a logged-in shopper and starts a chat.
func startWidgetChat(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	openWidget(t, ctx, page)
	wWait(t, ctx, "the start button", `shown($(".start"))`)
	wClick(t, ctx, ".start")
	wWait(t, ctx, "the composer", `shown($("textarea")) && W.activeElement === $("textarea")`)
}

// wSay types a message into the composer and sends it with Enter.
func wSay(t *testing.T, ctx context.Context, msg string) {
	t.Helper()
	wType(t, ctx, "textarea", msg+"\r")
	wWait(t, ctx, "the message in the thread, confirmed", `bubbles().includes(`+strconv.Quote(msg)+`) && $$(".pending").length === 0`)
}

// wAgent creates an agent and returns their token.
func wAgent(t *testing.T, h *harness, name string) string {
	t.Helper()
	code, body, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": name, "role": "agent"})
	if code != 201 {
		t.Fatalf("create agent: %d %v", code, body)
	}
	return body["token"].(string)
}

// wTicketOf waits for the open ticket of profile and returns its id.
func wTicketOf(t *testing.T, h *harness, profile string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, body, _ := h.do("GET", "/api/v1/tickets", adminToken, nil)
		rows, _ := body["tickets"].([]any)
		for _, r := range rows {
			row := r.(map[string]any)
			if p, _ := row["profile"].(map[string]any); p["id"] == profile {
				return row["id"].(string)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no ticket for %s", profile)
	return ""
}

// wTicketEvents returns the events of a ticket's conversation.
func wTicketEvents(t *testing.T, h *harness, id string) []map[string]any {
	t.Helper()
	code, body, _ := h.do("GET", "/api/v1/tickets/"+id, adminToken, nil)
	if code != 200 {
		t.Fatalf("ticket %s: %d %v", id, code, body)
	}
	var out []map[string]any
	for _, e := range body["events"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// wMessagesIn counts the messages of a ticket with text.
func wMessagesIn(t *testing.T, h *harness, id, text string) int {
	t.Helper()
	n := 0
	for _, e := range wTicketEvents(t, h, id) {
		if ev := e["event"].(map[string]any); ev["kind"] == "message" && ev["text"] == text {
			n++
		}
	}
	return n
}

// wWaitMessage waits until the ticket holds a message with text.
func wWaitMessage(t *testing.T, h *harness, id, text string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range wTicketEvents(t, h, id) {
			if ev := e["event"].(map[string]any); ev["kind"] == "message" && ev["text"] == text {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the ticket never got %q", text)
	return nil
}

// wReply posts an agent's message to a ticket.
func wReply(t *testing.T, h *harness, agent, id, text string, attachments ...map[string]any) uint64 {
	t.Helper()
	body := map[string]any{"client_id": fmt.Sprintf("r-%d", time.Now().UnixNano()), "text": text}
	if len(attachments) > 0 {
		body["attachments"] = attachments
	}
	code, out, _ := h.do("POST", "/api/v1/tickets/"+id+"/messages", agent, body)
	if code != 201 {
		t.Fatalf("reply: %d %v", code, out)
	}
	return num(out["seq"])
}

func wSettings(t *testing.T, h *harness, settings map[string]any) {
	t.Helper()
	if code, body, _ := h.do("PUT", "/api/v1/settings", adminToken, settings); code != 200 {
		t.Fatalf("settings: %d %v", code, body)
	}
}

// wParcelPNG writes a small photo-like PNG (a parcel) for a shopper to send.
func wParcelPNG(t *testing.T) string {
	t.Helper()
	const w, h = 320, 220
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(214 - y/6), uint8(228 - y/8), uint8(240 - x/20), 255}
			switch {
			case x > 150 && x < 170 && y > 50 && y < 180: // tape
				c = color.RGBA{236, 214, 160, 255}
			case x > 90 && x < 230 && y > 50 && y < 180: // box
				c = color.RGBA{uint8(176 - y/10), 124, 78, 255}
			case x > 80 && x < 240 && y >= 180 && y < 188: // shadow
				c = color.RGBA{150, 160, 170, 255}
			}
			img.Set(x, y, c)
		}
	}
	path := filepath.Join(t.TempDir(), "parcel.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// wAttachments is an event's attachments.
func wAttachments(ev map[string]any) []any {
	a, _ := ev["attachments"].([]any)
	return a
}

// wWantThread checks that the thread's bubbles are exactly want, in order:
// nothing lost, nothing twice.
func wWantThread(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	expr := `JSON.stringify(bubbles()) === JSON.stringify(` + toJSON(want) + `)`
	wWait(t, ctx, fmt.Sprintf("the thread %q", want), expr)
}

// wOffline takes the browser off the network (navigator.onLine, its events,
// and every request) or back on.
func wOffline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulateNetworkConditions, networkConditions{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("network.emulateNetworkConditions: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("network.overrideNetworkState: %v", err)
	}
}

// emulateNetworkConditions is the DevTools command that takes a page
// offline, every request and socket included (cdproto has only its
// per-URL successor, which this Chromium refuses).
var emulateNetworkConditions = cdp.Command[networkConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

type networkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

// wDropSockets cuts every socket of the server without a close handshake,
// as a network that goes away does.
func wDropSockets(h *harness) {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	for c := range h.srv.conns {
		_ = c.ws.CloseNow()
	}
}

// wUploadAs uploads an image file with bearer and returns its URL.
func wUploadAs(t *testing.T, h *harness, bearer, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", filepath.Base(file))
	_, _ = part.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ URL string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 {
		t.Fatalf("upload: %d %v", resp.StatusCode, err)
	}
	return out.URL
}
