package transport

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// The whole story, with two people in two browsers: a shopper in the widget
// on a store's site (another origin) and an agent in the inbox. What each
// types reaches the other live, as text; the shopper reloads in the middle
// of the chat and later loses the network, the agent reloads too, and no
// message is lost or shown twice; the agent closes the ticket and the
// shopper's chat ends (S1, S4–S8, S11, S12, H1–H3, H5–H7).
func TestStoryShopperAndAgentInTwoBrowsers(t *testing.T) {
	h, shop := startShop(t, Config{})
	ana := wAgent(t, h, "Ana Berg")
	const (
		hostile   = `<img src=x onerror="window.__pwned=1">Is the sage vase back?`
		answer    = `<script>window.__pwned=1</script>Yes! It ships today.`
		afterLoad = "Great, I'll order it."
		offline   = "Does it come gift-wrapped?"
		meanwhile = "Are you still there?"
		lastReply = "Yes, for free. Anything else?"
	)

	// The shopper opens the chat on the store's page and writes.
	shopper := newBrowser(t)
	page := shop.page(token(t, "p-maya", "Maya Lind"))
	startWidgetChat(t, shopper, page)
	wSay(t, shopper, hostile)

	// The agent signs in: the ticket is in the list, unread, and the
	// badge counts it.
	agent := signIn(t, h, "/inbox", ana)
	agent.waitText(".ticket-row .row-name", "Maya Lind")
	agent.waitText(".ticket-row .row-preview", hostile)
	agent.waitFor("the badge in the title", `document.title.startsWith('(1)')`)
	agent.run(chromedp.Click(rowLink("Maya Lind")))
	agent.waitText(".msg-shopper .msg-text", hostile)

	// The agent types and answers: the shopper sees both, as text.
	agent.run(chromedp.SendKeys("", "Yes", byName("textbox", "Reply")))
	wWait(t, shopper, "the agent typing", `shown($(".typing"))`)
	agent.run(chromedp.SendKeys("", "!", byName("textbox", "Reply")))
	agent.run(chromedp.Evaluate[chromedp.Void](`document.getElementById('reply').value = ''`))
	agent.run(chromedp.SendKeys("", answer, byName("textbox", "Reply")), enter)
	wWait(t, shopper, "the answer", `bubbles().includes(`+strconv.Quote(answer)+`)`)
	// The shopper has seen it: the agent sees the receipt.
	agent.waitFor("the shopper's receipt", `[...document.querySelectorAll('.msg-agent .receipt')].some(r => r.textContent === 'Seen')`)

	// The shopper reloads the page in the middle of the chat: the same
	// thread, once, and the chat goes on.
	wDo(t, shopper, chromedp.Reload())
	wWait(t, shopper, "the launcher after the reload", `shown($(".launcher")) || shown($("[role=dialog]"))`)
	if !wEval[bool](t, shopper, `shown($("[role=dialog]"))`) {
		wClick(t, shopper, ".launcher")
	}
	wWantThread(t, shopper, "Hi! How can we help?", hostile, answer)
	wSay(t, shopper, afterLoad)
	agent.waitText(".msg-shopper .msg-text", afterLoad)

	// The agent reloads the inbox: still signed in (the session), the
	// ticket open again, each message once.
	agent.run(chromedp.Reload())
	agent.waitFor("the inbox after the reload", `!!document.querySelector('#app') && !document.querySelector('#app').hidden`)
	agent.run(chromedp.Click(rowLink("Maya Lind")))
	agent.waitText(".msg-shopper .msg-text", afterLoad)
	if n := eval[int](agent, `[...document.querySelectorAll('.msg-text')].filter(m => m.textContent === `+jsString(answer)+`).length`); n != 1 {
		t.Fatalf("after the agent's reload, the answer shows %d times", n)
	}

	// The shopper's network goes; the agent writes meanwhile, the shopper
	// writes offline; back online, both arrive, once.
	wOffline(t, shopper, true)
	wDropSockets(h)
	wWait(t, shopper, "the reconnecting state", `shown($(".banner"))`)
	agent.run(chromedp.SendKeys("", meanwhile, byName("textbox", "Reply")), enter)
	wType(t, shopper, "textarea", offline+"\r")
	wWait(t, shopper, "the message kept while offline", `$$(".msg-shopper.pending").length === 1`)
	wOffline(t, shopper, false)
	wWait(t, shopper, "the connection back", `!shown($(".banner")) && $$(".pending").length === 0`)
	wWantThread(t, shopper, "Hi! How can we help?", hostile, answer, afterLoad, meanwhile, offline)
	agent.waitText(".msg-shopper .msg-text", offline)
	agent.run(chromedp.SendKeys("", lastReply, byName("textbox", "Reply")), enter)
	wWait(t, shopper, "the last reply", `bubbles().includes(`+strconv.Quote(lastReply)+`)`)
	// It follows the shopper's message: it shows who wrote it again.
	if !wEval[bool](t, shopper, `$$(".msg-agent").find((m) => text(m.querySelector(".bubble")) === `+strconv.Quote(lastReply)+`)?.classList.contains("first")`) {
		t.Fatal("an answer after the shopper's message does not say who wrote it")
	}
	if n := eval[int](agent, `[...document.querySelectorAll('.msg-shopper .msg-text')].filter(m => m.textContent === `+jsString(offline)+`).length`); n != 1 {
		t.Fatalf("the message written offline shows %d times in the inbox", n)
	}
	id := wTicketOf(t, h, "p-maya")
	for _, text := range []string{hostile, answer, afterLoad, meanwhile, offline, lastReply} {
		if n := wMessagesIn(t, h, id, text); n != 1 {
			t.Fatalf("%q is in the ticket %d times", text, n)
		}
	}
	wScreenshot(t, shopper, "story-shopper")
	screenshot(t, agent.ctx, "story-agent")

	// The agent closes the ticket: the shopper's chat has ended.
	agent.run(chromedp.Click("", byName("button", "Close")), chromedp.Click("", byName("button", "Close ticket")))
	agent.waitText(".ticket-head .chip-closed", "Closed")
	wWait(t, shopper, "the end of the chat", `shown($(".ended")) && $$(".notice").some((n) => n.textContent === "The chat has ended")`)

	// Nothing anyone typed ran in either browser, or made an element.
	if wEval[bool](t, shopper, `window.__pwned === 1 || $$(".log img[src='x'], .log script").length > 0`) {
		t.Fatal("the shopper's browser ran or built the agent's markup")
	}
	if eval[bool](agent, `window.__pwned === 1 || document.querySelectorAll(".thread img[src='x'], .thread script, .ticket-row img[src='x']").length > 0`) {
		t.Fatal("the agent's browser ran or built the shopper's markup")
	}
}
