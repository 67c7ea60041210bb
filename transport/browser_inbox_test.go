package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/web"
)

// The agents' inbox at /inbox, in a real headless Chromium: an agent signs
// in with their token, sees the tickets and the badge change live as
// customers (driven from Go over the real socket) write, reads and answers
// them, and what customers type reaches the page only as text.

// agentPage is one agent's browser on a page of the server.
type agentPage struct {
	t   *testing.T
	ctx context.Context
	h   *harness
}

// openPage opens path in a fresh browser. When the test ends, the page
// must have broken no rule of its Content-Security-Policy and thrown no
// error.
func openPage(t *testing.T, h *harness, path string) *agentPage {
	t.Helper()
	p := &agentPage{t: t, ctx: newBrowser(t), h: h}
	p.run(chromedp.EmulateViewport(1280, 900), watchProblems, chromedp.Navigate(h.ts.URL+path))
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		if got, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`window.__problems || []`)); err != nil || len(got) > 0 {
			t.Errorf("the page broke its policy or threw: %q %v", got, err)
		}
	})
	return p
}

// watchProblems records, in every page the browser opens, each breach of
// the Content-Security-Policy and each uncaught error.
var watchProblems = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__problems = [];
		document.addEventListener('securitypolicyviolation', e => window.__problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI));
		window.addEventListener('error', e => window.__problems.push('error ' + e.message));
		window.addEventListener('unhandledrejection', e => window.__problems.push('rejection ' + (e.reason && e.reason.message || e.reason)));`})
	return err
})

// signIn opens path and signs in there with tok through the field named
// "Token", then waits for the signed-in page.
func signIn(t *testing.T, h *harness, path, tok string) *agentPage {
	t.Helper()
	p := openPage(t, h, path)
	p.run(chromedp.SendKeys("", tok, byName("textbox", "Token")),
		chromedp.Click("", byName("button", "Sign in")),
		chromedp.WaitVisible(chromedp.CSS("#app")))
	return p
}

func (p *agentPage) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// waitFor waits until the JavaScript expression is true, failing with what
// a person would have been waiting for.
func (p *agentPage) waitFor(what, expr string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// waitText waits until the element of css shows text containing want.
func (p *agentPage) waitText(css, want string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%s to show %q", css, want),
		fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.offsetParent !== null && e.textContent.includes(%s))`, jsString(css), jsString(want)))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p *agentPage, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (p *agentPage) title() string {
	p.t.Helper()
	title, err := chromedp.Run(p.ctx, chromedp.Title())
	if err != nil {
		p.t.Fatal(err)
	}
	return title
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// byName selects the elements whose computed accessible name is name and
// whose role is role, as assistive technology finds them.
func byName(role, name string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
			NodeID: n.NodeID, AccessibleName: name, Role: role})
		if err != nil {
			return nil, err
		}
		var backend []cdp.BackendNodeID
		for _, x := range res.Nodes {
			if !x.Ignored && x.BackendDOMNodeID != 0 {
				backend = append(backend, x.BackendDOMNodeID)
			}
		}
		if len(backend) == 0 {
			return []cdp.NodeID{}, nil
		}
		ids, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend,
			dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		return ids.NodeIDs, err
	})
}

// key presses a key on the focused element as a person does: key down, the
// character it types unless the page prevents it, key up.
func key(name string, code int64, modifiers int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		text := ""
		if name == "Enter" {
			text = "\r"
		}
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeChar, input.DispatchKeyEventTypeKeyUp} {
			if typ == input.DispatchKeyEventTypeChar && text == "" {
				continue
			}
			p := input.DispatchKeyEventParams{Type: typ, Key: name, Code: name, Modifiers: modifiers,
				WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code}
			if typ == input.DispatchKeyEventTypeChar {
				p.Text, p.UnmodifiedText = text, text
			}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

var enter = key("Enter", 13, 0)

// rowLink is the link of the list's row of the customer name.
func rowLink(name string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`[...document.querySelectorAll('.ticket-row')].find(li => li.querySelector('.row-name').textContent === %s)?.querySelector('a')`, jsString(name)))
}

// shopperWrites starts a chat for a new shopper and sends their first
// message, which makes a ticket; it returns the socket and the ticket id.
func shopperWrites(t *testing.T, h *harness, profile, name, text string) (*client, string) {
	t.Helper()
	c, _ := h.hello(token(t, profile, name))
	conv := startChat(t, c)
	sendMessage(t, c, profile+"-1", text)
	return c, conv
}

// The inbox at first sight: sign-in refuses a bad token and says so, the
// admin's token opens the list of open tickets, each with the customer's
// name, a preview, the unread dot, the channel and the assignee; the badge
// in the tab title goes up live when a customer writes and down when the
// agent reads; sign-out leaves the page signed out after a reload.
func TestInboxSignInListAndBadge(t *testing.T) {
	h := start(t, Config{})
	ana := h.must("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "email": "ana@example.com", "role": "agent"})["token"].(string)
	shopperWrites(t, h, "p-chloe", "Chloé Martin", "Do you ship to Norway?")
	_, dmitri := shopperWrites(t, h, "p-dmitri", "Dmitri Ivanov", "My discount code WELCOME10 doesn't work.")
	h.must("POST", "/api/v1/tickets/"+dmitri+"/messages", ana, map[string]any{"client_id": "ana-1", "text": "Sorry about that! I've added the discount to your order."})
	shopperWrites(t, h, "p-ada", "Ada Lovelace", "Hi, where is my parcel?")

	p := openPage(t, h, "/inbox")
	p.run(chromedp.SendKeys("", "not-a-token", byName("textbox", "Token")),
		chromedp.Click("", byName("button", "Sign in")))
	p.waitText("#token-error", "not valid")
	screenshot(t, p.ctx, "inbox-signin")
	p.run(chromedp.Evaluate[chromedp.Void](`document.getElementById('token').value = ''`),
		chromedp.SendKeys("", adminToken, byName("textbox", "Token")),
		chromedp.Click("", byName("button", "Sign in")),
		chromedp.WaitVisible(chromedp.CSS("#app")))

	p.waitText(".ticket-row .row-name", "Ada Lovelace")
	row := `document.querySelector('.ticket-row')`
	for what, expr := range map[string]string{
		"the preview":       row + `.querySelector('.row-preview').textContent === 'Hi, where is my parcel?'`,
		"the unread dot":    row + `.querySelector('.unread-dot[aria-label="Unread"]') !== null`,
		"the web chat icon": row + `.querySelector('.channel [role="img"]').getAttribute('aria-label') === 'Web chat'`,
		"the status":        row + `.querySelector('.chip-open').textContent === 'Open'`,
		"no assignee":       row + `.querySelector('.row-assignee').textContent === 'Unassigned'`,
		"all open tickets":  `document.getElementById('status-filter').value === 'open' && document.querySelector('[data-scope="all"]').getAttribute('aria-pressed') === 'true'`,
	} {
		p.waitFor(what, expr)
	}
	p.waitFor("Ana's row", `[...document.querySelectorAll('.ticket-row')].some(r => r.textContent.includes('Dmitri Ivanov') && r.querySelector('.row-assignee').textContent === 'Ana' && !r.querySelector('.unread-dot'))`)
	p.waitFor("the badge in the title", `document.title === '(2) Parley inbox'`)

	// Another customer writes: a new row on top, and the badge goes up.
	shopperWrites(t, h, "p-bob", "Bob Builder", "Can I change my address?")
	p.waitFor("Bob on top", `document.querySelector('.ticket-row .row-name').textContent === 'Bob Builder'`)
	p.waitFor("the badge at 3", `document.title === '(3) Parley inbox' && document.getElementById('badge').textContent === '3'`)
	screenshot(t, p.ctx, "inbox-list")

	// Opening Ada's ticket reads it: her dot goes, the badge goes down.
	p.run(chromedp.Click(rowLink("Ada Lovelace")))
	p.waitFor("two unread left", `document.title === '(2) Parley inbox'`)
	p.waitFor("Ada's dot gone", `!document.querySelector('.ticket-row.is-selected .unread-dot')`)
	p.run(chromedp.SendKeys("", "Hi Ada! Let me look that up for you.", byName("textbox", "Reply")), enter)
	p.waitText(".msg-agent .msg-text", "Let me look that up")
	screenshot(t, p.ctx, "inbox")

	// Signed out, a reload shows the sign-in form again.
	p.run(chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#token")), chromedp.Reload())
	p.waitFor("the sign-in form after a reload", `!!document.getElementById('token') && document.getElementById('app').hidden`)
	if strings.Contains(p.title(), "(") {
		t.Fatalf("signed out, the title still counts: %q", p.title())
	}
}

// must makes an API call that has to succeed.
func (h *harness) must(method, path, bearer string, body any) map[string]any {
	h.t.Helper()
	code, out, _ := h.do(method, path, bearer, body)
	if code/100 != 2 {
		h.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

// nextAgentMessage reads the shopper's frames until an agent's message.
func nextAgentMessage(t *testing.T, c *client) frame {
	t.Helper()
	for {
		f := c.readType("event")
		if ev := f["event"].(frame); ev["kind"] == "message" && ev["from"] == "agent" {
			return f
		}
	}
}

// nextEvent reads the shopper's frames until an event of kind.
func nextEvent(t *testing.T, c *client, kind string) frame {
	t.Helper()
	for {
		if ev := c.readType("event")["event"].(frame); ev["kind"] == kind {
			return ev
		}
	}
}

// picture writes a PNG a person would attach and returns its path.
func picture(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(60 + x/3), uint8(110 + y/3), 200, 255})
		}
	}
	for y := 70; y < 150; y++ {
		for x := 120; x < 200; x++ {
			img.Set(x, y, color.RGBA{196, 140, 80, 255}) // a parcel
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "parcel.png")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// A ticket opened: the thread, the customer's profile and their event
// history (paged), replies sent with Enter several in a row and with a
// macro, which the customer's socket receives in order; the customer's
// typing and their "seen" shown live; an image attached and shown inline.
func TestInboxTicketViewAndReplies(t *testing.T) {
	h := start(t, Config{})
	store := h.agentToken(engine.RoleStore)
	h.must("PUT", "/api/v1/profiles/p-ada", store, map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+46 70 123 45 67"})
	base := time.Now().Add(-48 * time.Hour).UTC()
	for i := 0; i < 21; i++ {
		h.must("POST", "/api/v1/profiles/p-ada/events", store, map[string]any{
			"name": "Viewed product", "at": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"properties": map[string]any{"product": fmt.Sprintf("Linen shirt #%d", i)}})
	}
	h.must("POST", "/api/v1/profiles/p-ada/events", store, map[string]any{
		"name": "Placed order", "at": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339),
		"properties": map[string]any{"order_id": "1042", "total": 59.90, "currency": "EUR"}})
	h.must("POST", "/api/v1/macros", adminToken, map[string]any{"name": "Shipping", "body": "Hi {{first_name}}, your order ships within 1–2 business days."})
	c, conv := shopperWrites(t, h, "p-ada", "Ada Lovelace", "Hi, where is my parcel? Order 1042.")

	p := signIn(t, h, "/inbox?ticket="+conv, adminToken)
	p.waitText(".msg-shopper .msg-text", "Hi, where is my parcel? Order 1042.")
	p.waitText(".profile-name", "Ada Lovelace")
	p.waitText(".profile-facts", "ada@example.com")
	p.waitText(".activity-item:first-child", "Placed order")
	p.waitText(".activity-item:first-child .props", "1042")
	p.waitFor("a page of 20 events", `document.querySelectorAll('.activity-item').length === 20`)
	p.run(chromedp.Click("", byName("button", "Show older events")))
	p.waitFor("all 22 events", `document.querySelectorAll('.activity-item').length === 22`)
	p.waitFor("the last page", `document.querySelector('.profile .btn-block').hidden`)

	// The customer types: the agent sees it.
	c.send(frame{"type": "typing", "conversation": conv})
	p.waitText(".typing", "Ada is typing…")

	// Three replies in a row with Enter; Shift+Enter makes a new line.
	name, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById('reply').getAttribute('aria-label')`))
	if err != nil || name != "Reply" {
		t.Fatalf("the reply field is named %q (%v)", name, err)
	}
	p.run(chromedp.SendKeys("", "Hello Ada!", byName("textbox", "Reply")))
	if f := c.readType("typing"); f["from"] != "agent" {
		t.Fatalf("the customer sees %v while the agent types", f)
	}
	p.run(enter)
	for _, text := range []string{"Let me check that for you.", "It left our warehouse this morning."} {
		p.run(chromedp.SendKeys("", text, byName("textbox", "Reply")), enter)
	}
	p.run(chromedp.SendKeys("", "Tracking:", byName("textbox", "Reply")), key("Enter", 13, 8),
		chromedp.SendKeys("", "PN123456SE", byName("textbox", "Reply")),
		chromedp.Click("", byName("button", "Send")))
	for _, want := range []string{"Hello Ada!", "Let me check that for you.", "It left our warehouse this morning.", "Tracking:\nPN123456SE"} {
		got := nextAgentMessage(t, c)["event"].(frame)
		if got["text"] != want {
			t.Fatalf("the customer got %q, want %q", got["text"], want)
		}
	}
	p.waitFor("an empty reply field", `document.getElementById('reply').value === ''`)

	// A macro sent as it is, filled in for Ada.
	p.run(chromedp.Click("", byName("button", "Macros")), chromedp.Click("", byName("button", "Send Shipping")))
	if got := nextAgentMessage(t, c)["event"].(frame)["text"]; got != "Hi Ada, your order ships within 1–2 business days." {
		t.Fatalf("the macro arrived as %q", got)
	}
	p.waitText(".msg-agent .msg-text", "Hi Ada, your order ships")

	// A macro put in the box, edited, with an emoji: sent filled in.
	p.run(chromedp.Click("", byName("button", "Macros")), chromedp.Click("", byName("button", "Insert Shipping")))
	p.waitFor("the macro in the box", `document.getElementById('reply').value.startsWith('Hi {{first_name}}, your order ships')`)
	p.run(chromedp.Evaluate[chromedp.Void](`(() => { const r = document.getElementById('reply'); r.setSelectionRange(r.value.length, r.value.length); })()`),
		chromedp.SendKeys("", " Thanks for waiting ", byName("textbox", "Reply")),
		chromedp.Click("", byName("button", "Emoji")), chromedp.Click("", byName("button", "🙏")), enter)
	if got := nextAgentMessage(t, c)["event"].(frame)["text"]; got != "Hi Ada, your order ships within 1–2 business days. Thanks for waiting 🙏" {
		t.Fatalf("the edited macro arrived as %q", got)
	}

	// An image, uploaded and attached: the customer gets its URL, the
	// thread shows it inline.
	p.run(chromedp.SetUploadFiles(chromedp.CSS(`input[type="file"]`), []string{picture(t)}))
	p.waitFor("the image ready to send", `document.querySelector('.tray-item') && !document.querySelector('.tray-item.is-uploading')`)
	p.run(chromedp.SendKeys("", "Here is your parcel at our depot.", byName("textbox", "Reply")), enter)
	msg := nextAgentMessage(t, c)["event"].(frame)
	atts, _ := msg["attachments"].([]any)
	if len(atts) != 1 || !strings.Contains(atts[0].(frame)["url"].(string), "/uploads/") {
		t.Fatalf("the customer got %v", msg)
	}
	p.waitFor("the image inline", `[...document.querySelectorAll('.msg-agent[data-seq] .attachment-image img')].some(i => i.complete && i.naturalWidth === 320)`)

	// Ada reads everything: the agent's messages are marked seen.
	lastSeq := eval[int](p, `Math.max(...[...document.querySelectorAll('.msg[data-seq]')].map(m => +m.dataset.seq))`)
	c.send(frame{"type": "read", "conversation": conv, "seq": lastSeq})
	p.waitFor("the seen mark", `[...document.querySelectorAll('.msg-agent .receipt')].every(r => r.textContent === 'Seen')`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('.thread-scroll').scrollTop = 1e6; document.querySelector('.profile').scrollTop = 0`))
	screenshot(t, p.ctx, "inbox-ticket")
	if title := p.title(); title != "Parley inbox" {
		t.Fatalf("every message read, the title is %q", title)
	}

	// On a laptop's screen the profile opens over the thread.
	p.run(chromedp.EmulateViewport(1024, 720), chromedp.Click("", byName("button", "Customer profile")))
	p.waitFor("the profile over the thread", `getComputedStyle(document.querySelector('.profile')).position === 'absolute'`)
	screenshot(t, p.ctx, "inbox-ticket-medium")
	p.run(chromedp.Click("", byName("button", "Customer profile")))

	// On a phone: one pane at a time, the ticket with a way back.
	p.run(chromedp.EmulateViewport(390, 844))
	p.waitFor("the back button", `getComputedStyle(document.querySelector('.ticket-head .back')).display !== 'none' && getComputedStyle(document.querySelector('.list-pane')).display === 'none'`)
	screenshot(t, p.ctx, "inbox-ticket-narrow")
	p.run(chromedp.Click("", byName("button", "Back to the list")))
	p.waitFor("the list", `getComputedStyle(document.querySelector('.list-pane')).display !== 'none'`)
	screenshot(t, p.ctx, "inbox-list-narrow")
}

// selectOption chooses the option of value in the select of css, as a
// person picking it from the list does.
func selectOption(css, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%s);
		s.value = %s; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, jsString(css), jsString(value)))
}

// showView shows the tickets of a status (open, snoozed, closed) and a
// scope (all, mine, unassigned), as chosen in the list's header.
func showView(status, scope string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(selectOption("#status-filter", status),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-scope=%q]`, scope))))
}

// rowNames is the customers' names the list shows, top to bottom.
const rowNames = `[...document.querySelectorAll('.ticket-row .row-name')].map(e => e.textContent).join(',')`

// Filters, assigning, snoozing and closing: an admin assigns to anyone on
// the team or to themselves, and sees the result in the list, its filters
// and the customer's socket; a ticket snoozed leaves the open tickets for
// the snoozed ones, one closed can take no reply; an agent may only take a
// ticket or let it go.
func TestInboxFiltersAssignSnoozeClose(t *testing.T) {
	h := start(t, Config{})
	ana := h.must("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "email": "ana@example.com", "role": "agent"})
	anaID := ana["agent"].(map[string]any)["id"].(string)
	ada, adaConv := shopperWrites(t, h, "p-ada", "Ada", "Where is my parcel?")
	_, bobConv := shopperWrites(t, h, "p-bob", "Bob", "Can I change my address?")
	cy, cyConv := shopperWrites(t, h, "p-cy", "Cy", "I want to return a shirt.")
	shopperWrites(t, h, "p-dee", "Dee", "Do you ship to Norway?")

	p := signIn(t, h, "/inbox?ticket="+adaConv, adminToken)
	p.waitText(".ticket-name", "Ada")
	p.waitFor("every open ticket", rowNames+` === 'Dee,Cy,Bob,Ada'`)
	p.waitFor("the team in the assignee list", `[...document.querySelectorAll('#assignee option')].map(o => o.textContent).join(',') === 'Unassigned,Admin (you),Ana'`)
	p.run(selectOption("#assignee", anaID))
	if ev := nextEvent(t, ada, "assigned"); ev["agent"].(frame)["name"] != "Ana" {
		t.Fatalf("Ada's socket got %v", ev)
	}
	p.waitFor("Ana on Ada's row", `document.querySelector('.ticket-row.is-selected .row-assignee').textContent === 'Ana'`)
	p.run(selectOption("#assignee", "admin"))
	p.waitFor("the admin on Ada's row", `document.querySelector('.ticket-row.is-selected .row-assignee').textContent === 'Admin'`)

	p.run(showView("open", "mine"))
	p.waitFor("mine: Ada", rowNames+` === 'Ada'`)
	p.run(showView("open", "unassigned"))
	p.waitFor("unassigned: the others", rowNames+` === 'Dee,Cy,Bob'`)

	// Bob snoozed for an hour: gone from the open tickets, among the snoozed.
	p.run(showView("open", "all"))
	p.waitFor("every open ticket again", rowNames+` === 'Dee,Cy,Bob,Ada'`)
	p.run(chromedp.Click(rowLink("Bob")))
	p.waitText(".ticket-name", "Bob")
	p.waitFor("a reply field for Bob too", `!!document.getElementById('reply')`)
	p.run(chromedp.Click("", byName("button", "Snooze")), chromedp.Click(chromedp.CSS(`.popover:not([hidden]) .menu-item`)))
	p.waitText(".ticket-head .chip-snoozed", "Snoozed")
	p.waitFor("Bob out of the open tickets", rowNames+` === 'Dee,Cy,Ada'`)
	p.run(showView("snoozed", "all"))
	p.waitFor("Bob snoozed", rowNames+` === 'Bob'`)
	p.waitText(".ticket-row .chip-snoozed", "Snoozed")
	if code, row, _ := h.do("GET", "/api/v1/tickets/"+bobConv, adminToken, nil); code != 200 || row["ticket"].(map[string]any)["status"] != "snoozed" {
		t.Fatalf("Bob's ticket: %d %v", code, row)
	}

	// Cy's ticket closed: the chat ends for Cy, and the page takes no reply.
	p.run(showView("open", "all"))
	p.waitFor("the open tickets", rowNames+` === 'Dee,Cy,Ada'`)
	p.run(chromedp.Click(rowLink("Cy")))
	p.waitText(".ticket-name", "Cy")
	p.run(chromedp.Click("", byName("button", "Close")), chromedp.Click("", byName("button", "Close ticket")))
	p.waitText(".ticket-head .chip-closed", "Closed")
	p.waitText(".composer-closed", "closed")
	nextEvent(t, cy, "ended")
	p.waitFor("no reply field", `!document.getElementById('reply')`)
	p.run(showView("closed", "all"))
	p.waitFor("Cy closed", rowNames+` === 'Cy'`)
	p.run(showView("closed", "unassigned"))
	p.waitFor("Cy closed, nobody's", rowNames+` === 'Cy'`)
	if code, row, _ := h.do("GET", "/api/v1/tickets/"+cyConv, adminToken, nil); code != 200 || row["ticket"].(map[string]any)["status"] != "closed" {
		t.Fatalf("Cy's ticket: %d %v", code, row)
	}

	// Ana, an agent, may take Dee's ticket or leave it; no one else.
	a := signIn(t, h, "/inbox", ana["token"].(string))
	a.run(chromedp.Click(rowLink("Dee")))
	a.waitFor("only herself to assign", `[...document.querySelectorAll('#assignee option')].map(o => o.textContent).join(',') === 'Unassigned,Ana (you)'`)
	a.run(selectOption("#assignee", anaID))
	a.waitFor("Dee's ticket hers", `document.querySelector('.ticket-row.is-selected .row-assignee').textContent === 'Ana'`)
	p.run(showView("open", "unassigned"))
	p.waitFor("no one unassigned left for the admin", rowNames+` === ''`)
	p.waitText(".list-status .empty", "Every open ticket has someone on it.")
}

// A customer waiting past waiting_alert_after is flagged in the list and in
// a notice (H10), until an agent answers.
func TestInboxWaitingAlert(t *testing.T) {
	h := start(t, Config{})
	h.must("PUT", "/api/v1/settings", adminToken, map[string]any{"waiting_alert_after": "1s"})
	p := signIn(t, h, "/inbox", adminToken)
	shopperWrites(t, h, "p-ada", "Ada Lovelace", "Hello? Anyone there?")
	p.waitFor("the row flagged", `!!document.querySelector('.ticket-row.is-alerting .chip-alert')`)
	p.waitText("#alerts .alert", "Ada Lovelace has waited")
	screenshot(t, p.ctx, "inbox-alert")
	p.run(chromedp.Click("", byName("button", "Open")))
	p.waitText(".ticket-name", "Ada Lovelace")
	p.run(chromedp.SendKeys("", "Sorry for the wait! I'm here.", byName("textbox", "Reply")), enter)
	p.waitFor("the flag gone once answered", `!document.querySelector('.ticket-row.is-alerting') && document.getElementById('alerts').hidden`)
}

// When the stream drops, the page says it is reconnecting, reconnects by
// itself and goes on updating live.
func TestInboxStreamReconnects(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/inbox", adminToken)
	p.waitText(".list-status .empty", "No open tickets")
	h.ts.CloseClientConnections()
	p.waitText("#connection", "Reconnecting")
	p.waitFor("the stream back", `document.getElementById('connection').hidden`)
	shopperWrites(t, h, "p-ada", "Ada Lovelace", "Are you there?")
	p.waitText(".ticket-row .row-preview", "Are you there?")
	p.waitFor("the badge live", `document.title === '(1) Parley inbox'`)
}

// What customers and stores write reaches the page as text: markup in a
// customer's name, message or profile runs nothing and shows as typed; an
// attachment from elsewhere is a link, never fetched by the page.
func TestInboxShowsHostileTextAsText(t *testing.T) {
	h := start(t, Config{})
	const (
		name  = `<img src=x onerror="window.__xss='name'">Eve`
		text  = `<script>window.__xss='message'</script><b>hi</b><img src=x onerror="window.__xss='message'">`
		prop  = `<img src=x onerror="window.__xss='property'">`
		event = `<svg onload="window.__xss='event'">`
	)
	store := h.agentToken(engine.RoleStore)
	h.must("POST", "/api/v1/profiles/p-eve/events", store, map[string]any{"name": event, "properties": map[string]any{"note": prop, prop: "key"}})
	c, conv := shopperWrites(t, h, "p-eve", name, text)
	c.send(frame{"type": "message.send", "client_id": "eve-2", "text": "look", "attachments": []frame{
		{"url": "https://tracker.example/pixel.png", "content_type": "image/png"}}})
	c.readType("ack")

	p := signIn(t, h, "/inbox?ticket="+conv, adminToken)
	p.waitText(".msg-shopper .msg-text", "look")
	for what, expr := range map[string]string{
		"the name as typed":       `document.querySelector('.ticket-row .row-name').textContent === ` + jsString(name),
		"the heading as typed":    `document.querySelector('.ticket-name').textContent === ` + jsString(name),
		"the message as typed":    `document.querySelector('.msg-shopper .msg-text').textContent === ` + jsString(text),
		"the event as typed":      `document.querySelector('.activity-name').textContent === ` + jsString(event),
		"the property as typed":   `[...document.querySelectorAll('.props dd, .props dt')].filter(e => e.textContent === ` + jsString(prop) + `).length === 2`,
		"a link, not an image":    `document.querySelector('.msg-shopper a.attachment-link').href === 'https://tracker.example/pixel.png' && !document.querySelector('img[src*="tracker"]')`,
		"no markup from the text": `!document.querySelector('.app img[src="x"], .app b, .app svg[onload], .thread script')`,
	} {
		p.waitFor(what, expr)
	}
	if v := eval[string](p, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("a customer's text ran as script: window.__xss = %q", v)
	}
}

// A macro whose placeholder has no value for this customer is refused by
// the server, and the page says why and keeps the reply to edit.
func TestInboxMacroWithoutValueIsExplained(t *testing.T) {
	h := start(t, Config{})
	h.must("POST", "/api/v1/macros", adminToken, map[string]any{"name": "Formal", "body": "Dear Mx {{last_name}}, thank you for writing."})
	_, conv := shopperWrites(t, h, "p-cher", "Cher", "Hello!")
	p := signIn(t, h, "/inbox?ticket="+conv, adminToken)
	p.waitText(".msg-shopper .msg-text", "Hello!")
	p.run(chromedp.Click("", byName("button", "Macros")), chromedp.Click("", byName("button", "Send Formal")))
	p.waitText(".composer-error", "{{last_name}}")
	p.waitFor("the macro back in the reply box", `document.getElementById('reply').value.startsWith('Dear Mx {{last_name}}')`)
}

// A link with #token= fills the Token field and is wiped from the address;
// it signs no one in by itself. SMS tickets show the envelope.
func TestInboxTokenLinkAndChannels(t *testing.T) {
	h := start(t, Config{})
	p := openPage(t, h, "/inbox#token="+adminToken)
	p.waitFor("the field filled in", `document.getElementById('token')?.value === `+jsString(adminToken))
	if got := eval[string](p, `location.hash + '|' + document.getElementById('app').hidden`); got != "|true" {
		t.Fatalf("after the link: hash and app hidden %q", got)
	}
	p.run(chromedp.Click("", byName("button", "Sign in")), chromedp.WaitVisible(chromedp.CSS("#app")))
	label, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`import('/assets/inbox/list.js').then(m =>
		m.renderRow({id: 's1', channel: 'sms', status: 'open', profile: {id: 'x', name: 'Sam'}, preview: 'hi', unread: true,
			assignee: null, updated_at: new Date().toISOString(), waiting_since: null}).querySelector('.channel [role="img"]').getAttribute('aria-label'))`,
		chromedp.EvalAwaitPromise))
	if err != nil || label != "SMS" {
		t.Fatalf("an SMS row's channel: %q %v", label, err)
	}
}

// The agents' pages put no text into the page as HTML and run no strings
// as code: only dom.js names the properties that would, to refuse them.
func TestInboxScriptsNeverParseHTML(t *testing.T) {
	scripts, err := fs.Glob(web.FS(), "assets/inbox/*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("the inbox's scripts: %v %v", scripts, err)
	}
	for _, name := range scripts {
		b, err := fs.ReadFile(web.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		var code []string
		for _, line := range strings.Split(string(b), "\n") {
			if trimmed := strings.TrimSpace(line); !strings.HasPrefix(trimmed, "//") &&
				!strings.HasPrefix(trimmed, "const refused = new Set(") { // dom.js's list of what h() refuses
				code = append(code, line)
			}
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "srcdoc", "setAttribute('style'"} {
			if strings.Contains(strings.Join(code, "\n"), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// A long list comes a page at a time: "Load more" brings the rest.
func TestInboxListPages(t *testing.T) {
	h := start(t, Config{})
	for i := 0; i < 53; i++ {
		shopperWrites(t, h, fmt.Sprintf("p-%02d", i), fmt.Sprintf("Customer %02d", i), "Hello")
	}
	p := signIn(t, h, "/inbox", adminToken)
	p.waitFor("a first page of 50", `document.querySelectorAll('.ticket-row').length === 50`)
	p.waitText(".list-count", "50+")
	p.run(chromedp.Click("", byName("button", "Load more")))
	p.waitFor("all 53, each once", `document.querySelectorAll('.ticket-row').length === 53 && new Set([...document.querySelectorAll('.ticket-row')].map(r => r.dataset.id)).size === 53`)
	p.waitFor("no more to load", `document.querySelector('.list-scroll > .btn').hidden && document.querySelector('.list-count').textContent === '53'`)
	p.waitFor("the oldest last", `document.querySelector('.ticket-row:last-child .row-name').textContent === 'Customer 00'`)
}
