package transport

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/gorgias"
	"github.com/parley-chat/parley/transport/llm"
	"github.com/parley-chat/parley/transport/zendesk"
)

// The AI agent in the pages (S10, C4, C6), in a real headless Chromium: an
// admin sets it up at /settings, a shopper meets it in the widget on a
// store's page, and an agent finds what it handed off in the inbox. The
// model and Zendesk are HTTP servers that record what they are sent.

// startAIShop is startShop with a server whose AI agent has the real model,
// Zendesk and Gorgias clients, as `parley serve` has.
func startAIShop(t *testing.T) (*harness, *storeSite) {
	t.Helper()
	s := &storeSite{}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.ts.Close)
	s.url = strings.Replace(s.ts.URL, "127.0.0.1", "localhost", 1)
	u, _ := url.Parse(s.url)
	h := startWith(t, Config{AllowedOrigins: []string{u.Host}}, actors.Config{AnswerWithin: 3 * time.Second, Model: &llm.Client{},
		Handoffs: map[string]engine.HandoffTarget{engine.HandoffZendesk: &zendesk.Client{}, engine.HandoffGorgias: &gorgias.Client{}}})
	s.parley = h.ts.URL
	return h, s
}

// aiField is the CSS of the AI section's control of the server's field name.
func aiField(name string) string {
	return `#ai [data-field="` + name + `"]`
}

// typeInto replaces the value of the AI section's field name with text,
// typed as a person types it.
func (p *agentPage) typeInto(name, text string) {
	p.t.Helper()
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(aiField(name))+`).value = ''`),
		chromedp.SendKeys(chromedp.CSS(aiField(name)), text))
}

// saveAI presses the AI section's Save.
func (p *agentPage) saveAI() {
	p.t.Helper()
	p.run(chromedp.Click(inCard("ai", `.card-foot button[type="submit"]`)))
}

// S10, C4: an admin turns the AI agent on with the Helpdesk as its handoff;
// the next shopper's question is answered in the widget with the FAQ's
// text, marked as the AI's, and asking for a person hands the chat to the
// team, which finds it in the inbox: the shopper's messages, the AI's
// answer under its name, and the handoff.
func TestAIPagesAnswerThenHandOffToTheInbox(t *testing.T) {
	h, shop := startAIShop(t)
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the AI section, off", `document.querySelector('#ai-title')?.textContent === 'AI agent' && !document.querySelector(`+jsString(aiField("ai.enabled"))+`).checked`)
	if got := eval[[]string](p, `[...document.querySelectorAll('#settings-nav a')].map(a => a.textContent + ' ' + a.getAttribute('href'))`); !strings.Contains(strings.Join(got, ","), "AI agent #ai") {
		t.Fatalf("the settings' navigation: %q", got)
	}
	for _, c := range [][2]string{{"switch", "AI agent answers first"}, {"spinbutton", "Minimum confidence"}, {"combobox", "Hand off to"},
		{"textbox", "Model API base URL"}, {"textbox", "Model"}} {
		p.run(chromedp.WaitVisible("", byName(c[0], c[1])))
	}
	p.run(chromedp.Click("", byName("switch", "AI agent answers first")))
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(aiField("ai.min_confidence"))+`).value = ''`),
		chromedp.SendKeys("", "0.5", byName("spinbutton", "Minimum confidence")),
		selectOption(aiField("ai.handoff"), "helpdesk"))
	p.waitFor("the handoff explained", `document.querySelector('#ai [data-field="ai.handoff"]').closest('.field').querySelector('.hint').textContent.includes('ticket in the inbox')`)
	p.waitFor("no helpdesk credentials asked for", `document.getElementById('group-ai-zendesk').hidden && document.getElementById('group-ai-gorgias').hidden`)
	p.saveAI()
	p.waitText("#ai .save-status", "Saved")
	if ai := h.sys.Settings().AI; !ai.Enabled || ai.MinConfidence != 0.5 || ai.Handoff != "helpdesk" || ai.LLM != nil {
		t.Fatalf("stored: %+v", ai)
	}
	elementShot(t, p, "settings-ai", "#ai")
	p.run(chromedp.EmulateViewport(390, 844))
	elementShot(t, p, "settings-ai-narrow", "#ai")

	// The shopper asks; the AI answers with the FAQ, under its badge.
	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(token(t, "p-ada", "Ada Lovelace")))
	wSay(t, ctx, "How do I return an item?")
	wWait(t, ctx, "the AI's answer", `$$(".msg-ai .bubble").some((b) => text(b).startsWith("Returns are free within 30 days."))`)
	if got := wEval[[]string](t, ctx, `[$(".msg-ai .name").textContent, $(".msg-ai .badge").textContent, $(".msg-ai .bubble .sr").textContent]`); toJSON(got) != toJSON([]string{"Acme Support", "AI assistant", "Acme Support, AI assistant: "}) {
		t.Fatalf("the AI's answer is signed %q, want the team's name with an AI assistant badge", got)
	}
	wScreenshot(t, ctx, "widget-ai-answer")

	wSay(t, ctx, "Can I talk to a human?")
	wWait(t, ctx, "the handoff notice, once", `$$(".notice").length === 1 && $(".notice-system").textContent.includes("a person will answer you here")`)
	wScreenshot(t, ctx, "widget-ai-handoff")

	// The team finds the ticket, with the whole story.
	id := wTicketOf(t, h, "p-ada")
	a := signIn(t, h, "/inbox", adminToken)
	a.waitFor("Ada's ticket in the list, unread, waiting for the team", `(() => { const r = document.querySelector('.ticket-row');
		return r && r.dataset.id === `+jsString(id)+` && r.querySelector('.row-name').textContent === 'Ada Lovelace' &&
			r.querySelector('.row-preview').textContent === 'Can I talk to a human?' && !!r.querySelector('.unread-dot') &&
			r.querySelector('.row-assignee').textContent === 'Unassigned'; })()`)
	a.run(chromedp.Click(rowLink("Ada Lovelace")))
	a.waitText(".msg-ai .msg-text", "Returns are free within 30 days.")
	a.waitText(".msg-ai .msg-author", "AI assistant")
	a.waitText(".msg-shopper .msg-text", "How do I return an item?")
	a.waitText(".msg-shopper .msg-text", "Can I talk to a human?")
	a.waitText(".thread .note", "handed the chat to your team")
	screenshot(t, a.ctx, "inbox-ai-ticket")
}

// aiValue is the JavaScript of the value of the AI section's field name.
func aiValue(name string) string {
	return `document.querySelector(` + jsString(aiField(name)) + `).value`
}

// C6: a Zendesk handoff without what Zendesk needs is refused by the server
// at the field at fault, one after another, and nothing is stored; complete,
// it is saved with the token shown masked, and kept so through a reload and
// a save that leaves it alone. A shopper who asks for a person then gets a
// Zendesk ticket, and the widget says the chat has ended and that the team
// answers by e-mail.
func TestAIPagesZendeskHandoffSettings(t *testing.T) {
	zd := newAPI(t, func(int, apiRequest) (int, string) {
		return http.StatusCreated, `{"ticket":{"id":35436,"status":"new"}}`
	})
	h, shop := startAIShop(t)
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the AI section", `!!document.querySelector('#ai form')`)
	p.run(chromedp.Click("", byName("switch", "AI agent answers first")), selectOption(aiField("ai.handoff"), "zendesk"))
	p.waitFor("the Zendesk fields, and only them", `!document.getElementById('group-ai-zendesk').hidden && document.getElementById('group-ai-gorgias').hidden && document.querySelector('#ai [data-field="ai.handoff_message"]').closest('.field').hidden`)
	p.waitFor("what a Zendesk handoff does", `document.querySelector('#ai [data-field="ai.handoff"]').closest('.field').querySelector('.hint').textContent.includes('the chat ends')`)

	for _, step := range []struct{ field, value, says string }{
		{"ai.zendesk.base_url", zd.srv.URL, "Zendesk URL must be an http(s) URL"},
		{"ai.zendesk.email", "admin@acme.com", "Zendesk user’s e-mail is required for the Zendesk handoff"},
		{"ai.zendesk.api_token", "zd-token", "Zendesk API token is required for the Zendesk handoff"},
	} {
		p.saveAI()
		p.waitFor(step.field+" refused at its field", fieldError("ai", step.field)+` === `+jsString(step.says))
		if got := eval[string](p, `document.activeElement.dataset.field || ''`); got != step.field {
			t.Fatalf("after the refusal of %s the focus is on %q", step.field, got)
		}
		if ai := h.sys.Settings().AI; ai.Enabled || ai.Handoff != "helpdesk" || ai.Zendesk != nil {
			t.Fatalf("a refused AI section was stored: %+v", ai)
		}
		if step.field == "ai.zendesk.api_token" {
			elementShot(t, p, "settings-ai-zendesk-refused", "#ai")
		}
		p.typeInto(step.field, step.value)
	}
	p.saveAI()
	p.waitText("#ai .save-status", "Saved")
	ai := h.sys.Settings().AI
	if z := ai.Zendesk; !ai.Enabled || ai.Handoff != "zendesk" || z == nil || *z != (engine.ZendeskSettings{BaseURL: zd.srv.URL, Email: "admin@acme.com", APIToken: "zd-token"}) {
		t.Fatalf("stored: %+v %+v", ai, ai.Zendesk)
	}
	p.waitFor("the token masked", aiValue("ai.zendesk.api_token")+` === '********'`)

	p.run(chromedp.Reload())
	p.waitFor("the AI section again", `!!document.querySelector('#ai form')`)
	got := eval[[]any](p, `[document.querySelector(`+jsString(aiField("ai.enabled"))+`).checked, `+aiValue("ai.handoff")+`,
		!document.getElementById('group-ai-zendesk').hidden, `+aiValue("ai.zendesk.base_url")+`, `+aiValue("ai.zendesk.email")+`, `+aiValue("ai.zendesk.api_token")+`]`)
	if want := []any{true, "zendesk", true, zd.srv.URL, "admin@acme.com", "********"}; toJSON(got) != toJSON(want) {
		t.Fatalf("after a reload the section shows %v, want %v", got, want)
	}
	if strings.Contains(eval[string](p, `document.body.textContent + [...document.querySelectorAll('input')].map(i => i.value).join()`), "zd-token") {
		t.Fatal("the page shows the Zendesk token")
	}
	p.saveAI()
	p.waitText("#ai .save-status", "Saved")
	if tok := h.sys.Settings().AI.Zendesk.APIToken; tok != "zd-token" {
		t.Fatalf("saved untouched, the token became %q", tok)
	}

	// A shopper asks for a person: a Zendesk ticket, and the chat ends.
	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(tokenWith(t, shopperAda)))
	wSay(t, ctx, "Can I talk to a human?")
	wWait(t, ctx, "the notice", `$$(".notice-system").some((n) => n.textContent.includes("will answer you by e-mail at"))`)
	wWait(t, ctx, "the chat ended", `shown($(".ended")) && $(".ended p").textContent === "This chat has ended. Our team will answer you by e-mail." && !shown($("textarea")) && shown($(".ended button"))`)
	if names := axButtonsNamed(t, ctx, "new chat"); len(names) != 1 {
		t.Fatalf("buttons to start a new chat: %q", names)
	}
	wScreenshot(t, ctx, "widget-ai-zendesk-ended")
	reqs := zd.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("admin@acme.com/token:zd-token")) {
		t.Fatalf("requests to Zendesk: %v", reqs)
	}
}

// C6: a model set up in the settings answers the shopper in the widget,
// asked with the key typed there; with its base URL cleared, the AI answers
// with the FAQs again. A minimum confidence that is no number from 0 to 1
// is refused at its field.
func TestAIPagesModelAnswers(t *testing.T) {
	const answer = "Yes! You can return the lamp for free within 30 days: start from My orders → Return."
	model := newAPI(t, func(int, apiRequest) (int, string) { return http.StatusOK, completion(answer) })
	h, shop := startAIShop(t)
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the AI section", `!!document.querySelector('#ai form')`)
	p.run(chromedp.Click("", byName("switch", "AI agent answers first")))
	for _, c := range []struct{ typed, says string }{
		{"1.5", "Minimum confidence must be between 0 and 1"},
		{"", "Enter a number from 0 to 1, such as 0.6."},
	} {
		p.typeInto("ai.min_confidence", c.typed)
		p.saveAI()
		p.waitFor("the confidence refused", fieldError("ai", "ai.min_confidence")+` === `+jsString(c.says))
	}
	p.typeInto("ai.min_confidence", "0.6")
	p.run(chromedp.SendKeys("", model.srv.URL+"/v1", byName("textbox", "Model API base URL")),
		chromedp.SendKeys("", "gpt-test", byName("textbox", "Model")),
		chromedp.SendKeys(chromedp.CSS(aiField("ai.llm.api_key")), "sk-typed-in-settings"))
	p.saveAI()
	p.waitText("#ai .save-status", "Saved")
	if ai := h.sys.Settings().AI; !ai.Enabled || ai.LLM == nil || *ai.LLM != (engine.LLMSettings{BaseURL: model.srv.URL + "/v1", Model: "gpt-test", APIKey: "sk-typed-in-settings"}) {
		t.Fatalf("stored: %+v %+v", ai, ai.LLM)
	}
	p.waitFor("the key masked", aiValue("ai.llm.api_key")+` === '********'`)

	ctx := newBrowser(t)
	startWidgetChat(t, ctx, shop.page(token(t, "p-ada", "Ada Lovelace")))
	wSay(t, ctx, "Can I return a lamp I bought?")
	wWait(t, ctx, "the model's answer, as the AI's", `$$(".msg-ai").some((m) => text(m.querySelector(".bubble")) === `+strconv.Quote(answer)+` && m.querySelector(".badge")?.textContent === "AI assistant")`)
	wScreenshot(t, ctx, "widget-ai-model")
	reqs := model.requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/chat/completions" || reqs[0].Header.Get("Authorization") != "Bearer sk-typed-in-settings" || reqs[0].Body["model"] != "gpt-test" {
		t.Fatalf("requests to the model: %v", reqs)
	}

	// A new key typed over the masked one replaces it.
	p.run(chromedp.SendKeys(chromedp.CSS(aiField("ai.llm.api_key")), "sk-rotated"))
	p.saveAI()
	p.waitFor("the new key stored", aiValue("ai.llm.api_key")+` === '********' && document.querySelector('#ai .save-status').textContent === 'Saved'`)
	if key := h.sys.Settings().AI.LLM.APIKey; key != "sk-rotated" {
		t.Fatalf("the key typed over the mask was stored as %q", key)
	}
	wSay(t, ctx, "Can I return a vase too?")
	wWait(t, ctx, "the model's second answer", `$$(".msg-ai").length === 2`)
	if reqs := model.requests(); len(reqs) != 2 || reqs[1].Header.Get("Authorization") != "Bearer sk-rotated" {
		t.Fatalf("requests to the model: %v", reqs)
	}

	// Without a base URL there is no model: the FAQs answer word for word.
	p.typeInto("ai.llm.base_url", "")
	p.saveAI()
	p.waitFor("the model's fields emptied", aiValue("ai.llm.model")+` === '' && `+aiValue("ai.llm.api_key")+` === ''`)
	if l := h.sys.Settings().AI.LLM; l != nil {
		t.Fatalf("a model is still stored: %+v", l)
	}
	wSay(t, ctx, "How do I return an item?")
	wWait(t, ctx, "the FAQ's answer", `$$(".msg-ai .bubble").some((b) => text(b).startsWith("Returns are free within 30 days."))`)
	if n := len(model.requests()); n != 2 {
		t.Fatalf("the model was asked %d times, want twice", n)
	}
}

// S10: a Zendesk that refuses the ticket leaves the chat with the team; the
// inbox's thread says where the AI handed it and that Zendesk did not take
// it, and shows the notices the shopper got.
func TestAIPagesZendeskFallbackInTheInbox(t *testing.T) {
	zd := newAPI(t, func(int, apiRequest) (int, string) {
		return http.StatusUnprocessableEntity, `{"error":"RecordInvalid","description":"Record validation errors"}`
	})
	h, _ := startAIShop(t)
	wSettings(t, h, map[string]any{"ai": map[string]any{"enabled": true, "handoff": "zendesk", "min_confidence": 0.6,
		"zendesk": map[string]any{"base_url": zd.srv.URL, "email": "admin@acme.com", "api_token": "zd-token"}}})
	c, _ := h.hello(tokenWith(t, shopperAda))
	conv := startChat(t, c)
	sendMessage(t, c, "m1", "Can I talk to a human?")
	if id := wTicketOf(t, h, "p-ada"); id != conv {
		t.Fatalf("the ticket %s is not the conversation %s", id, conv)
	}
	p := signIn(t, h, "/inbox?ticket="+conv, adminToken)
	p.waitFor("both handoffs and both notices", `(() => {
		const notes = [...document.querySelectorAll('.thread .note-handoff')].map(n => n.textContent);
		const auto = [...document.querySelectorAll('.thread .msg-system .msg-text')].map(n => n.textContent);
		return notes.length === 2 && notes[0].startsWith('The AI handed the chat to Zendesk') &&
			notes[1].startsWith('Zendesk did not take it: handed to your team') &&
			auto.length === 2 && auto[1].includes('could not be reached'); })()`)
	screenshot(t, p.ctx, "inbox-ai-fallback")
}

// A server that cannot ask a model refuses to turn the AI on with one, and
// the page says so on the model's group of fields rather than pretending to
// have saved it.
func TestAIPagesModelRefusedByAServerWithoutOne(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the AI section", `!!document.querySelector('#ai form')`)
	p.run(chromedp.Click("", byName("switch", "AI agent answers first")),
		chromedp.SendKeys("", "https://llm.example/v1", byName("textbox", "Model API base URL")))
	p.saveAI()
	p.waitFor("the refusal on the model's fields", `document.getElementById('group-ai-llm').getAttribute('aria-invalid') === 'true' &&
		document.getElementById('group-ai-llm-error').textContent !== '' && document.activeElement === document.querySelector(`+jsString(aiField("ai.llm.base_url"))+`)`)
	elementShot(t, p, "settings-ai-model-refused", "#group-ai-llm")
	if got := eval[string](p, `document.querySelector('#ai .save-status').textContent`); got != "" {
		t.Fatalf("the refused section says %q", got)
	}
	if ai := h.sys.Settings().AI; ai.Enabled || ai.LLM != nil {
		t.Fatalf("a refused section was stored: %+v", ai)
	}
}
