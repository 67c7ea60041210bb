package transport

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// The chat widget, tested the way a shopper meets it: on a store's page of
// another origin, loaded by one script tag, in a real Chromium. The tests
// look at what a shopper would notice (what the widget shows, what the
// agent gets) and find controls by their accessible names.

// S1, S3: with login_mode all, an anonymous visitor on a store's page finds
// the launcher by its name, reads the FAQs and an answer (no ticket), and
// is told to log in to chat; the store's CSS does not reach the widget;
// Escape closes the panel and gives focus back to the launcher. With
// login_mode logged_in there is no launcher for them at all.
func TestWidgetAnonymousVisitorReadsFAQs(t *testing.T) {
	h, shop := startShop(t, Config{})
	ctx := newBrowser(t)
	openWidget(t, ctx, shop.page(""))

	wWait(t, ctx, "the FAQs", `$$(".faq").length === 3`)
	if q := wEval[[]string](t, ctx, `$$(".faq").map(text)`); q[0] != "Where is my order?" {
		t.Fatalf("FAQs %q", q)
	}
	wWait(t, ctx, "the log-in hint", `shown($(".login")) && /log in/i.test($(".login").textContent) && !$(".start")`)
	if label := wEval[string](t, ctx, `$("[role=dialog]").getAttribute("aria-labelledby") && W.getElementById($("[role=dialog]").getAttribute("aria-labelledby")).textContent`); label != "Acme Support" {
		t.Fatalf("the dialog is labelled %q", label)
	}
	// The store's "* { color: #f0f !important }" and yellow buttons stop at the shadow root.
	if got := wEval[string](t, ctx, `getComputedStyle($(".launcher")).backgroundColor + " " + getComputedStyle($(".faq")).color + " " + getComputedStyle($(".greeting")).fontFamily`); strings.Contains(got, "255, 0, 255") || strings.Contains(got, "Comic") || !strings.HasPrefix(got, "rgb(15, 118, 110)") {
		t.Fatalf("the store's CSS reached the widget (or the accent did not): %s", got)
	}
	wScreenshot(t, ctx, "widget-faqs")

	wClick(t, ctx, ".faq")
	wWait(t, ctx, "the answer", `shown($(".answer")) && $(".answer-text").textContent.includes("shipping confirmation")`)
	if code, body, _ := h.do("GET", "/api/v1/tickets", adminToken, nil); code != 200 || len(body["tickets"].([]any)) != 0 {
		t.Fatalf("reading an FAQ made a ticket: %d %v", code, body)
	}
	wClick(t, ctx, ".back")
	wWait(t, ctx, "the FAQs again", `shown($(".home")) && !shown($(".answer"))`)

	wDo(t, ctx, chromedp.KeyEvent("\x1b"))
	wWait(t, ctx, "the panel closed, focus on the launcher", `!shown($("[role=dialog]")) && W.activeElement === $(".launcher")`)

	wSettings(t, h, map[string]any{"webchat": map[string]any{"enabled": true, "login_mode": "logged_in", "welcome_message": "Hi!"}})
	wDo(t, ctx, chromedp.Navigate(shop.page("")))
	wWait(t, ctx, "the widget to have heard the server", `W && W.querySelector(".root") && $(".greeting").textContent !== ""`)
	if names := axButtonsNamed(t, ctx, "chat"); len(names) != 0 || wEval[bool](t, ctx, `shown($(".launcher"))`) {
		t.Fatalf("login_mode logged_in shows an anonymous visitor the launcher: %q", names)
	}
	openWidget(t, ctx, shop.page(token(t, "p-faq", "Grace")))
}

// S4–S8, S11, H7: a logged-in shopper on a store's page starts a chat, sees
// the welcome and the terms and privacy links before writing, and writes;
// the agent gets the message, and the agent's replies (text, an image of
// this server and one from elsewhere) and typing reach the shopper live;
// the shopper's image goes up from the store's origin and shows inline,
// an emoji goes in from the picker, the receipts say what the shopper saw,
// and ending the chat closes the ticket.
func TestWidgetLiveChatWithAnAgent(t *testing.T) {
	h, shop := startShop(t, Config{})
	wSettings(t, h, map[string]any{
		"webchat": map[string]any{"enabled": true, "login_mode": "all", "welcome_message": "Hi! How can we help? 🌿"},
		"links":   map[string]any{"terms_url": "https://acme.example/terms", "privacy_url": "https://acme.example/privacy"},
	})
	ana := wAgent(t, h, "Ana Berg")
	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(token(t, "p-ada", "Ada Lovelace")))

	wWait(t, ctx, "the welcome", `text($(".welcome .bubble")) === "Hi! How can we help? 🌿"`)
	if links := wEval[[]string](t, ctx, `$$(".terms a").map((a) => a.textContent + " " + a.href)`); len(links) != 2 ||
		links[0] != "Terms of Service https://acme.example/terms" || links[1] != "Privacy Policy https://acme.example/privacy" {
		t.Fatalf("terms and privacy links: %q", links)
	}
	if wEval[string](t, ctx, `$("[role=log]").getAttribute("aria-live")`) != "polite" {
		t.Fatal("the thread is not a polite live log")
	}

	wSay(t, ctx, "Hi, where is my parcel?")
	id := wTicketOf(t, h, "p-ada")
	wWaitMessage(t, h, id, "Hi, where is my parcel?")
	wWait(t, ctx, "the message marked sent", `text($(".msg-shopper:last-child .status")) === "Sent" || text($(".msg-shopper:last-child .status")) === "Seen"`)

	seq := wReply(t, h, ana, id, "Hi Ada! Let me check that for you.")
	wWait(t, ctx, "the agent's reply", `bubbles().includes("Hi Ada! Let me check that for you.") && $$(".msg-agent .name").some((n) => n.textContent === "Ana Berg")`)
	if code, _, _ := h.do("POST", "/api/v1/tickets/"+id+"/typing", ana, nil); code != 204 {
		t.Fatalf("agent typing: %d", code)
	}
	wWait(t, ctx, "the agent typing", `shown($(".typing")) && $(".typing").textContent === "Ana Berg is typing…"`)
	// The reply was in view with the panel open: the receipt says so.
	seenUpTo := func() uint64 {
		var up uint64
		for _, e := range wTicketEvents(t, h, id) {
			if ev := e["event"].(map[string]any); ev["kind"] == "seen" && ev["by"] == "shopper" {
				up = max(up, num(ev["up_to"]))
			}
		}
		return up
	}
	deadline := time.Now().Add(10 * time.Second)
	for seenUpTo() < seq && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := seenUpTo(); got != seq {
		t.Fatalf("the shopper's receipt is up to %d, want the reply's seq %d", got, seq)
	}

	// The shopper sends a photo from the store's page (CORS), with an emoji.
	wClick(t, ctx, `[aria-label="Insert emoji"]`)
	wClick(t, ctx, `[aria-label="thumbs up"]`)
	wWait(t, ctx, "the emoji in the composer", `$("textarea").value === "👍" && W.activeElement === $("textarea")`)
	wType(t, ctx, "textarea", " this one")
	wUpload(t, ctx, ".file-input", wParcelPNG(t))
	wWait(t, ctx, "the photo in the thread", `$$(".msg-shopper img").some((i) => i.src.startsWith(`+strconv.Quote(h.ts.URL+"/uploads/")+`) && i.complete && i.naturalWidth === 320)`)
	ev := wWaitMessage(t, h, id, "👍 this one")["event"].(map[string]any)
	if a := wAttachments(ev); len(a) != 1 || !strings.HasPrefix(a[0].(map[string]any)["url"].(string), h.ts.URL+"/uploads/") {
		t.Fatalf("the agent got attachments %v", ev["attachments"])
	}

	// Images of this server show inline; others only as links.
	up := wAttachments(ev)[0].(map[string]any)
	wReply(t, h, ana, id, "Thanks! Here is your label:", map[string]any{"url": up["url"], "content_type": "image/png"})
	wReply(t, h, ana, id, "And the carrier's photo:", map[string]any{"url": "https://tracker.example/pixel.png", "content_type": "image/png"})
	wWait(t, ctx, "both replies, their images loaded", `bubbles().includes("And the carrier's photo:") && $$(".log img").every((i) => i.complete)`)
	if got := wEval[[]string](t, ctx, `$$(".msg-agent .file").map((f) => f.className + (f.querySelector("img") ? " img" : ""))`); len(got) != 2 ||
		got[0] != "file image img" || got[1] != "file link" {
		t.Fatalf("agent attachments shown as %q", got)
	}
	wSettle(t, ctx)
	if !wEval[bool](t, ctx, `(() => { const l = $(".log"), r = l.lastElementChild.getBoundingClientRect(); return r.bottom <= l.getBoundingClientRect().bottom + 1; })()`) {
		t.Fatal("the thread does not show its latest message")
	}
	wScreenshot(t, ctx, "widget-chat")

	// Ending the chat closes the ticket; a new one can start.
	wClick(t, ctx, ".end")
	wClick(t, ctx, ".confirm .danger")
	wWait(t, ctx, "the end", `shown($(".ended")) && $$(".notice").some((n) => n.textContent === "You ended the chat")`)
	_, view, _ := h.do("GET", "/api/v1/tickets/"+id, adminToken, nil)
	if st := view["ticket"].(map[string]any)["status"]; st != "closed" {
		t.Fatalf("after end chat the ticket is %v", st)
	}
}

// S12: a reload in the middle of a chat shows the whole thread once, and the
// chat goes on; a browser with nothing stored (another device, same
// shopper) gets the whole thread too.
func TestWidgetReloadShowsTheThreadOnce(t *testing.T) {
	h, shop := startShop(t, Config{})
	ana := wAgent(t, h, "Ana")
	tok := token(t, "p-reload", "Ada")
	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(tok))
	wSay(t, ctx, "one")
	id := wTicketOf(t, h, "p-reload")
	wReply(t, h, ana, id, "two")
	wWait(t, ctx, "the reply", `bubbles().includes("two")`)
	wSay(t, ctx, "three")
	wReply(t, h, ana, id, "four")
	welcome := "Hi! How can we help?"
	wWantThread(t, ctx, welcome, "one", "two", "three", "four")

	wDo(t, ctx, chromedp.Reload())
	wWait(t, ctx, "the panel open again", `shown($("[role=dialog]")) && shown($("textarea"))`)
	wWantThread(t, ctx, welcome, "one", "two", "three", "four")
	wReply(t, h, ana, id, "five")
	wWantThread(t, ctx, welcome, "one", "two", "three", "four", "five")
	wSay(t, ctx, "six")
	wWaitMessage(t, h, id, "six")
	wWantThread(t, ctx, welcome, "one", "two", "three", "four", "five", "six")
	for _, m := range []string{"one", "three", "six"} {
		if n := wMessagesIn(t, h, id, m); n != 1 {
			t.Fatalf("the ticket has %q %d times", m, n)
		}
	}

	other := newBrowser(t)
	wDo(t, other, chromedp.Navigate(shop.page(tok)))
	wWait(t, other, "the launcher", `shown($(".launcher"))`)
	wClick(t, other, ".launcher")
	wWait(t, other, "the chat in progress", `shown($("textarea"))`)
	wWantThread(t, other, welcome, "one", "two", "three", "four", "five", "six")
}

// S12: the connection drops and the browser goes offline; the widget says
// it is reconnecting, keeps what the shopper writes meanwhile, and once
// back online resumes: the reply posted while it was away arrives, the
// message written offline reaches the agent once, nothing shows twice.
func TestWidgetReconnectsAndResumes(t *testing.T) {
	h, shop := startShop(t, Config{})
	ana := wAgent(t, h, "Ana")
	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(token(t, "p-net", "Ada")))
	wSay(t, ctx, "hello")
	id := wTicketOf(t, h, "p-net")
	wReply(t, h, ana, id, "Hi! How can I help?")
	wWait(t, ctx, "the reply", `bubbles().includes("Hi! How can I help?")`)

	wOffline(t, ctx, true)
	wDropSockets(h)
	wWait(t, ctx, "the reconnecting state", `shown($(".banner")) && /reconnecting/i.test($(".banner").textContent)`)
	wReply(t, h, ana, id, "Are you still there?")
	wType(t, ctx, "textarea", "sorry, my train went into a tunnel\r")
	wWait(t, ctx, "the message kept, waiting", `$$(".msg-shopper.pending").length === 1 && text($(".msg-shopper.pending .status")) === "Sending…"`)
	wScreenshot(t, ctx, "widget-reconnecting")

	wOffline(t, ctx, false)
	wWait(t, ctx, "the connection back", `!shown($(".banner"))`)
	wWantThread(t, ctx, "Hi! How can we help?", "hello", "Hi! How can I help?", "Are you still there?", "sorry, my train went into a tunnel")
	wWaitMessage(t, h, id, "sorry, my train went into a tunnel")
	wWait(t, ctx, "the message confirmed", `$$(".pending").length === 0`)
	if n := wMessagesIn(t, h, id, "sorry, my train went into a tunnel"); n != 1 {
		t.Fatalf("the message written offline is in the ticket %d times", n)
	}

	// A server that goes away (1001) and comes back is resumed the same way.
	wDropSockets(h)
	wReply(t, h, ana, id, "Welcome back!")
	wWantThread(t, ctx, "Hi! How can we help?", "hello", "Hi! How can I help?", "Are you still there?",
		"sorry, my train went into a tunnel", "Welcome back!")
}

// Other people's text is shown as text: messages, an agent's name, FAQ
// questions and answers with markup and script in them run nothing, make
// no element, and read exactly as written; a javascript: URL is never a
// link.
func TestWidgetShowsUserTextLiterally(t *testing.T) {
	h, shop := startShop(t, Config{})
	payloads := []string{
		`<img src=x onerror="window.__pwned=1">`,
		`<script>window.__pwned=2</script>`,
		`<a href="javascript:window.__pwned=3">click me</a> javascript:window.__pwned=4`,
		`"><svg onload=window.__pwned=5>`,
	}
	code, _, _ := h.do("POST", "/api/v1/faqs", adminToken, map[string]any{
		"question": payloads[0], "answer": payloads[1] + " " + payloads[2], "published": true, "position": 0, "kind": "faq",
	})
	if code != 201 {
		t.Fatalf("create FAQ: %d", code)
	}
	evil := wAgent(t, h, `<img src=x onerror="window.__pwned=6">Eve`)
	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(token(t, "p-xss", `<b onmouseover=alert(1)>Ada</b>`)))
	for _, p := range payloads {
		wSay(t, ctx, p)
	}
	id := wTicketOf(t, h, "p-xss")
	for _, p := range payloads {
		wReply(t, h, evil, id, p)
	}
	wWantThread(t, ctx, append(append([]string{"Hi! How can we help?"}, payloads...), payloads...)...)
	wWait(t, ctx, "the agent's name as written", `$$(".msg-agent .name").some((n) => n.textContent === '<img src=x onerror="window.__pwned=6">Eve')`)

	wClick(t, ctx, ".back")
	wWait(t, ctx, "the greeting as written", `$(".greeting").textContent === "Hi <b 👋"`)
	wWait(t, ctx, "the FAQ as written", `$$(".faq").some((f) => f.textContent === `+strconv.Quote(payloads[0])+`)`)
	wClick(t, ctx, ".faq")
	wWait(t, ctx, "the answer as written", `$(".answer-text").textContent === `+strconv.Quote(payloads[1]+" "+payloads[2]))

	got := wEval[string](t, ctx, `JSON.stringify({
		pwned: window.__pwned === undefined ? null : window.__pwned,
		made: $$("script, svg:not(.icon), [onerror], [onload], [onmouseover], b").length + $$("img").filter((i) => i.getAttribute("src") === "x").length,
		links: $$("a").map((a) => a.getAttribute("href")).filter((h) => !/^https?:/.test(h)),
	})`)
	if got != `{"pwned":null,"made":0,"links":[]}` {
		t.Fatalf("user text became markup: %s", got)
	}
}

// On a phone-sized screen the panel takes the whole screen, and the
// launcher steps aside while it is open.
func TestWidgetOnAPhone(t *testing.T) {
	h, shop := startShop(t, Config{})
	ana := wAgent(t, h, "Ana")
	ctx := newBrowser(t)
	wDo(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	startWidgetChat(t, ctx, shop.page(token(t, "p-phone", "Ada")))
	wSay(t, ctx, "Can I change my delivery address?")
	wReply(t, h, ana, wTicketOf(t, h, "p-phone"), "Of course! Which address should it go to?")
	wWait(t, ctx, "the reply", `bubbles().includes("Of course! Which address should it go to?")`)
	wSettle(t, ctx) // the panel's opening is over
	rect := wEval[[]float64](t, ctx, `(() => { const r = $("[role=dialog]").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	if rect[0] != 0 || rect[1] != 0 || rect[2] != 390 || rect[3] != 844 {
		t.Fatalf("the panel on a phone is %v, want the whole 390×844 screen", rect)
	}
	if wEval[bool](t, ctx, `shown($(".launcher"))`) {
		t.Fatal("the launcher shows over the full-screen panel")
	}
	wScreenshot(t, ctx, "widget-phone")
	wClick(t, ctx, `[aria-label="Close chat"]`)
	wWait(t, ctx, "the launcher back", `shown($(".launcher")) && !shown($("[role=dialog]"))`)
}

// S9: while the team is away the widget says so, and the away message the
// server sends after the shopper's message shows as a notice, not as a
// person's message.
func TestWidgetOfficeHoursAway(t *testing.T) {
	h, shop := startShop(t, Config{})
	wSettings(t, h, map[string]any{"office_hours": map[string]any{
		"enabled": true, "time_zone": "Europe/Stockholm", "weekly": map[string]any{}, "away_message": "We're away right now.",
	}})
	ctx := newBrowser(t)
	openWidget(t, ctx, shop.page(token(t, "p-away", "Ada")))
	wWait(t, ctx, "the away message", `shown($(".away")) && $(".away").textContent.startsWith("We're away right now.")`)
	wClick(t, ctx, ".start")
	wSay(t, ctx, "Hello?")
	wWait(t, ctx, "the away notice", `$$(".notice-system").some((n) => n.getAttribute("role") === "note" && n.textContent.startsWith("We're away right now."))`)
	if n := wEval[int](t, ctx, `$$(".msg-agent, .msg-ai").filter((m) => !m.classList.contains("welcome")).length`); n != 0 {
		t.Fatalf("the away message shows as %d people's messages", n)
	}
}

// The demo store at / embeds the widget with one tag. On the server's own
// machine it offers the admin token, read-only, with a Copy button and a
// link that opens the inbox with it; its "Log in as a demo shopper" button
// mints a shopper's token and hands it to the widget, which then lets them
// chat. Elsewhere it says where the admin token is.
func TestDemoStoreLogsAShopperIn(t *testing.T) {
	h := start(t, Config{Demo: true, ShareAdminToken: true})
	ctx := newBrowser(t)
	wDo(t, ctx, chromedp.Navigate(h.ts.URL+"/"))
	wWait(t, ctx, "the launcher", `shown($(".launcher"))`)
	if names := axButtonsNamed(t, ctx, "chat"); len(names) != 1 {
		t.Fatalf("buttons named for chat on the demo store: %q", names)
	}
	wWait(t, ctx, "the admin token", `shown(document.getElementById("admin-token"))`)
	wScreenshot(t, ctx, "demo-store")
	field := wEval[string](t, ctx, `JSON.stringify([document.getElementById("admin-token").value, document.getElementById("admin-token").readOnly,
		document.getElementById("inbox-link").getAttribute("href")])`)
	if want := toJSON([]any{adminToken, true, "/inbox#token=" + adminToken}); field != want {
		t.Fatalf("the admin token field, read-only, and the inbox link: %s, want %s", field, want)
	}
	for _, p := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: p}, Setting: "granted", Origin: h.ts.URL,
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		}); err != nil {
			t.Fatalf("grant %s: %v", p, err)
		}
	}
	pageClick(t, ctx, "#copy-token")
	wWait(t, ctx, "the copy", `document.getElementById("copy-status").textContent === "Copied to the clipboard."`)
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); err != nil || got != adminToken {
		t.Fatalf("clipboard %q, %v", got, err)
	}

	pageClick(t, ctx, "#demo-login")
	wWait(t, ctx, "the chat open for the shopper", `shown($("[role=dialog]")) && shown($(".start")) && /^Hi \S+ 👋$/.test($(".greeting").textContent)`)
	wClick(t, ctx, ".start")
	wWait(t, ctx, "the composer", `shown($("textarea"))`)
	wSay(t, ctx, "Is the sage vase back in stock?")
	_, body, _ := h.do("GET", "/api/v1/tickets", adminToken, nil)
	rows := body["tickets"].([]any)
	if len(rows) != 1 || !strings.HasPrefix(rows[0].(map[string]any)["profile"].(map[string]any)["id"].(string), "demo-") {
		t.Fatalf("the demo shopper's ticket: %v", rows)
	}
	ana := wAgent(t, h, "Ana Berg")
	photo := wUploadAs(t, h, ana, wParcelPNG(t))
	wReply(t, h, ana, rows[0].(map[string]any)["id"].(string), "It is! We restocked it this morning 🌿 It ships in this box:",
		map[string]any{"url": photo, "content_type": "image/png"})
	wWait(t, ctx, "the reply", `bubbles().includes("It is! We restocked it this morning 🌿 It ships in this box:") && $$(".log img").every((i) => i.complete && i.naturalWidth > 0)`)
	wScreenshot(t, ctx, "demo-chat")

	// The shopper stays logged in across a reload.
	wDo(t, ctx, chromedp.Reload())
	wWait(t, ctx, "the chat after a reload", `shown($("[role=dialog]")) && bubbles().includes("It is! We restocked it this morning 🌿 It ships in this box:")`)

	elsewhere := start(t, Config{Demo: true})
	other := newBrowser(t)
	wDo(t, other, chromedp.Navigate(elsewhere.ts.URL+"/"))
	wWait(t, other, "where the admin token is", `shown(document.getElementById("admin-token-elsewhere"))`)
	if note := wEval[string](t, other, `document.getElementById("admin-token-elsewhere").textContent`); !strings.Contains(note, "make run") || !strings.Contains(note, "data/admin_token") {
		t.Fatalf("where the admin token is: %q", note)
	}
}

// The store drives the widget from its own script: Parley.open(),
// .close(), .identify(token) and events (open, close, message, unread);
// messages that arrive while the panel is closed show as a count on the
// launcher. And a keyboard alone does it all: Tab reaches the launcher,
// Enter opens the panel with focus in it, Escape closes it.
func TestWidgetJavaScriptAPIAndKeyboard(t *testing.T) {
	h, shop := startShop(t, Config{})
	ana := wAgent(t, h, "Ana")
	ctx := newBrowser(t)
	wDo(t, ctx, chromedp.Navigate(shop.page("")))
	wWait(t, ctx, "the launcher", `shown($(".launcher"))`)
	wEval[bool](t, ctx, `(() => { window.__events = [];
		for (const e of ["open", "close", "message", "unread"]) Parley.on(e, (d) => __events.push(e + " " + JSON.stringify(d)));
		return true; })()`)

	// Keyboard: Tab to the launcher, Enter, Escape.
	wDo(t, ctx, chromedp.KeyEvent("\t"))
	wWait(t, ctx, "focus on the launcher", `W.activeElement === $(".launcher")`)
	wDo(t, ctx, chromedp.KeyEvent("\r"))
	wWait(t, ctx, "the panel open, focus in it", `shown($("[role=dialog]")) && $("[role=dialog]").contains(W.activeElement)`)
	wDo(t, ctx, chromedp.KeyEvent("\x1b"))
	wWait(t, ctx, "the panel closed, focus back", `!shown($("[role=dialog]")) && W.activeElement === $(".launcher")`)

	// identify logs the shopper in without a reload; open opens.
	tok := token(t, "p-api", "Ada Lovelace")
	wEval[bool](t, ctx, `(Parley.identify(`+strconv.Quote(tok)+`).open(), true)`)
	wWait(t, ctx, "the shopper's home", `shown($(".start")) && $(".greeting").textContent === "Hi Ada 👋"`)
	wClick(t, ctx, ".start")
	wSay(t, ctx, "Do you ship to Norway?")
	id := wTicketOf(t, h, "p-api")
	wEval[bool](t, ctx, `(Parley.close(), true)`)
	wWait(t, ctx, "the panel closed", `!shown($("[role=dialog]")) && !Parley.isOpen()`)

	wReply(t, h, ana, id, "We do! Delivery takes 3–5 days.")
	wWait(t, ctx, "the unread count", `shown($(".count")) && $(".count").textContent === "1" && $(".launcher").getAttribute("aria-label") === "Open chat, 1 unread message"`)
	wEval[bool](t, ctx, `(Parley.open(), true)`)
	wWait(t, ctx, "the count gone once read", `!shown($(".count")) && __events.includes('unread {"count":0}')`)
	events := wEval[[]string](t, ctx, `__events`)
	want := []string{"open {}", "close {}", "open {}"}
	for _, w := range want {
		if !slices.Contains(events, w) {
			t.Fatalf("events %q lack %q", events, w)
		}
	}
	if !slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "message ") && strings.Contains(e, `"from":"agent"`) && strings.Contains(e, `"text":"We do! Delivery takes 3–5 days."`)
	}) || !slices.Contains(events, `unread {"count":1}`) {
		t.Fatalf("events %q lack the agent's message and the unread count", events)
	}

	// identify(null): an anonymous visitor again, told to log in.
	wEval[bool](t, ctx, `(Parley.identify(null), true)`)
	wWait(t, ctx, "the anonymous home", `shown($(".login")) && $(".greeting").textContent === "Hi there 👋"`)

	// A token the server refuses (expired, forged) is dropped: the visitor
	// carries on anonymously and the store hears "unauthorized", so that it
	// can call identify with a fresh one.
	wEval[bool](t, ctx, `(Parley.on("unauthorized", () => __events.push("unauthorized")).identify(`+strconv.Quote(tok[:len(tok)-4]+"AAAA")+`), true)`)
	wWait(t, ctx, "the refusal heard, anonymous again", `__events.includes("unauthorized") && shown($(".login")) && $(".greeting").textContent === "Hi there 👋"`)
}
