package transport

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/engine"
)

// The admins' settings at /settings, in a real headless Chromium: each
// section saves alone and takes effect for shoppers at once; what the
// server refuses is said next to the input at fault.

// elementShot saves a picture of one element of the page, as screenshot
// does of the whole page.
func elementShot(t *testing.T, p *agentPage, name, css string) {
	t.Helper()
	// The top bar stays at the top of the window: out of the picture.
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('.topbar').style.position = 'static'`))
	defer p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('.topbar').style.position = ''`))
	png, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	savePicture(t, name, png)
}

// inCard is a CSS selector inside the settings section id.
func inCard(id, css string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf("#%s %s", id, css))
}

// fieldError is the JavaScript of the error text shown for the input of
// the section id whose server field is name.
func fieldError(id, name string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector('#%s [data-field="%s"]');
		return el && el.getAttribute('aria-invalid') === 'true' ? (document.getElementById(el.id + '-error') || el.querySelector('.field-error')).textContent : ''; })()`, id, name)
}

// The welcome message and an FAQ, changed on the page, are what the next
// shopper gets.
func TestSettingsWelcomeAndFAQ(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the web chat section", `document.querySelector('#webchat textarea')?.value === 'Hi! How can we help?'`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#webchat textarea').value = ''`),
		chromedp.SendKeys(inCard("webchat", "textarea"), "Hej! Welcome to Acme — how can we help?"),
		chromedp.Click(inCard("webchat", `button[type="submit"]`)))
	p.waitText("#webchat .save-status", "Saved")
	c, _ := h.hello(token(t, "p-ada", "Ada"))
	c.send(frame{"type": "chat.start"})
	if ev := c.readType("event")["event"].(frame); ev["welcome"] != "Hej! Welcome to Acme — how can we help?" {
		t.Fatalf("a new chat's welcome: %v", ev)
	}

	p.run(chromedp.Click("", byName("button", "Add an FAQ")),
		chromedp.SendKeys(inCard("faqs", `[data-field="question"]`), "Do you ship to Norway?"),
		chromedp.SendKeys(inCard("faqs", `[data-field="answer"]`), "Yes, in 3–5 business days."),
		chromedp.Click("", byName("button", "Add FAQ")))
	p.waitText("#faqs .item-title", "Do you ship to Norway?")
	_, w := h.hello(token(t, "p-bob", "Bob"))
	found := false
	for _, f := range w["faqs"].([]any) {
		found = found || f.(frame)["question"] == "Do you ship to Norway?"
	}
	if !found {
		t.Fatalf("the new FAQ is not offered to shoppers: %v", w["faqs"])
	}
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.toast').forEach(t => t.remove()); window.scrollTo(0, 0)`))
	screenshot(t, p.ctx, "settings")
	p.run(chromedp.EmulateViewport(390, 844))
	screenshot(t, p.ctx, "settings-narrow")
}

// A macro with a placeholder the server does not know is refused, and the
// page says so at the reply's field; fixed, it is saved.
func TestSettingsMacroWithUnknownPlaceholder(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", adminToken)
	p.run(chromedp.Click("", byName("button", "Add a macro")),
		chromedp.SendKeys(inCard("macros", `[data-field="name"]`), "Order status"),
		chromedp.SendKeys(inCard("macros", `[data-field="body"]`), "Hi {{first_name}}, order {{order_id}} is on its way."),
		chromedp.Click("", byName("button", "Add macro")))
	p.waitFor("the error at the reply", fieldError("macros", "body")+`.includes('order_id')`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#macros [data-field="body"]').value = ''`),
		chromedp.SendKeys(inCard("macros", `[data-field="body"]`), "Hi {{first_name}}, your order is on its way."),
		chromedp.Click("", byName("button", "Add macro")))
	p.waitText("#macros .item-title", "Order status")
	if _, list, _ := h.do("GET", "/api/v1/macros", adminToken, nil); len(list["macros"].([]any)) != 1 {
		t.Fatalf("macros: %v", list)
	}
}

// A new agent's token is shown once, works to sign in, and stops working
// once the agent is disabled.
func TestSettingsAgentTokenShownOnce(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", adminToken)
	p.run(chromedp.SendKeys(inCard("agents", `[data-field="name"]`), "Ana Andersson"),
		chromedp.SendKeys(inCard("agents", `[data-field="email"]`), "ana@example.com"),
		chromedp.Click("", byName("button", "Add agent")))
	p.waitFor("the new token", `!!document.querySelector('#agents .token-value')?.value`)
	tok := eval[string](p, `document.querySelector('#agents .token-value').value`)
	if code, who, _ := h.do("GET", "/api/v1/session", tok, nil); code != 200 || who["agent"].(map[string]any)["name"] != "Ana Andersson" {
		t.Fatalf("the token shown: %d %v", code, who)
	}
	p.run(chromedp.Click("", byName("button", "Copy")))
	p.waitText("#agents .token-box", "Copied")
	p.run(chromedp.Click("", byName("button", "Done")))
	p.waitFor("the token gone", `!document.querySelector('#agents .token-value')`)
	p.run(chromedp.Reload())
	p.waitText("#agents .item-title", "Ana Andersson")
	p.waitFor("no token after a reload", `!document.querySelector('.token-value') && !document.body.textContent.includes(`+jsString(tok)+`)`)

	p.run(chromedp.Click(inCard("agents", ".confirm button")), chromedp.Click("", byName("button", "Yes")))
	p.waitText("#agents .chip-alert", "Disabled")
	if code, _, _ := h.do("GET", "/api/v1/session", tok, nil); code != 401 {
		t.Fatalf("a disabled agent's token: %d", code)
	}
}

// Office hours: a time zone or a span the server refuses is named at its
// input or day; a good schedule is saved as shown.
func TestSettingsOfficeHours(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", adminToken)
	zone := inCard("hours", `[data-field="office_hours.time_zone"]`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#hours [data-field="office_hours.time_zone"]').value = ''`),
		chromedp.SendKeys(zone, "Mars/Olympus_Mons"),
		chromedp.Click(inCard("hours", `.card-foot button[type="submit"]`)))
	p.waitFor("the zone refused at its field", fieldError("hours", "office_hours.time_zone")+`.includes('Mars/Olympus_Mons')`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#hours [data-field="office_hours.time_zone"]').value = ''`),
		chromedp.SendKeys(zone, "Europe/Stockholm"),
		chromedp.Click("", byName("button", "Add hours on Monday")),
		chromedp.Click("", byName("button", "Add hours on Tuesday")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#hours [data-day="tue"] input[aria-label="Tuesday closes"]').value = ''`),
		chromedp.SendKeys("", "08:00", byName("textbox", "Tuesday closes")),
		chromedp.Click(inCard("hours", `.card-foot button[type="submit"]`)))
	p.waitFor("Tuesday refused on its row", fieldError("hours", "office_hours.weekly.tue")+`.includes('not before')`)
	elementShot(t, p, "settings-hours", "#hours")
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#hours [data-day="tue"] input[aria-label="Tuesday closes"]').value = ''`),
		chromedp.SendKeys("", "17:30", byName("textbox", "Tuesday closes")),
		chromedp.Click(inCard("hours", `.card-foot button[type="submit"]`)))
	p.waitText("#hours .save-status", "Saved")
	o := h.sys.Settings().OfficeHours
	if o.TimeZone != "Europe/Stockholm" || fmt.Sprint(o.Weekly) != "map[mon:[[09:00 17:00]] tue:[[09:00 17:30]]]" {
		t.Fatalf("office hours stored: %+v", o)
	}
}

// The SMTP password is never shown, and saving the section without
// touching it keeps it.
func TestSettingsKeepTheSMTPPassword(t *testing.T) {
	h := start(t, Config{})
	h.must("PUT", "/api/v1/settings", adminToken, map[string]any{"notifications": map[string]any{"email": map[string]any{
		"enabled": false, "to": []string{"team@example.com"}, "from": "parley@example.com",
		"smtp": map[string]any{"addr": "smtp.example.com:587", "username": "parley", "password": "s3cret"}}}})
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the password masked", `document.querySelector('#notifications [data-field="notifications.email.smtp.password"]').value === '********'`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#notifications [data-field="notifications.email.from"]').value = ''`),
		chromedp.SendKeys(inCard("notifications", `[data-field="notifications.email.from"]`), "help@example.com"),
		chromedp.Click(inCard("notifications", `.card-foot button[type="submit"]`)))
	p.waitText("#notifications .save-status", "Saved")
	e := h.sys.Settings().Notifications.Email
	if e.From != "help@example.com" || e.SMTP.Password != "s3cret" {
		t.Fatalf("stored: from %q, password %q", e.From, e.SMTP.Password)
	}
	if v := eval[string](p, `document.body.textContent + [...document.querySelectorAll('input')].map(i => i.value).join()`); strings.Contains(v, "s3cret") {
		t.Fatal("the page shows the SMTP password")
	}
}

// An agent who is not an admin is told politely that settings are for
// admins.
func TestSettingsAreForAdmins(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", h.agentToken(engine.RoleAgent))
	p.waitText(".card-note h1", "Settings are for admins only")
	if n := eval[int](p, `document.querySelectorAll('form.card-body').length`); n != 0 {
		t.Fatalf("an agent sees %d settings forms", n)
	}
}

// The links, waiting alerts and web chat sections name what the server
// refuses and save what it takes; an FAQ is edited and deleted in place.
func TestSettingsLinksAlertsChatAndFAQEdits(t *testing.T) {
	h := start(t, Config{})
	p := signIn(t, h, "/settings", adminToken)
	terms := inCard("links", `[data-field="links.terms_url"]`)
	p.run(chromedp.SendKeys(terms, "ftp://shop.example.com/terms"), chromedp.Click(inCard("links", `.card-foot button`)))
	p.waitFor("the link refused at its field", fieldError("links", "links.terms_url")+`.includes('http')`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#links [data-field="links.terms_url"]').value = ''`),
		chromedp.SendKeys(terms, "https://shop.example.com/terms"), chromedp.Click(inCard("links", `.card-foot button`)))
	p.waitText("#links .save-status", "Saved")

	after := inCard("alerts", `[data-field="waiting_alert_after"]`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#alerts [data-field="waiting_alert_after"]').value = ''`),
		chromedp.SendKeys(after, "500ms"), chromedp.Click(inCard("alerts", `.card-foot button`)))
	p.waitFor("a wait too short refused", fieldError("alerts", "waiting_alert_after")+`.includes('at least 1s')`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#alerts [data-field="waiting_alert_after"]').value = ''`),
		chromedp.SendKeys(after, "3m"), chromedp.Click(inCard("alerts", `.card-foot button`)))
	p.waitText("#alerts .save-status", "Saved")

	p.run(chromedp.Click(inCard("webchat", `.switch`)), selectOption(`#webchat [data-field="webchat.login_mode"]`, "logged_in"),
		chromedp.Click(inCard("webchat", `.card-foot button`)))
	p.waitText("#webchat .save-status", "Saved")
	s := h.sys.Settings()
	if s.Links.TermsURL != "https://shop.example.com/terms" || time.Duration(s.WaitingAlertAfter) != 3*time.Minute || s.Webchat.Enabled || s.Webchat.LoginMode != "logged_in" {
		t.Fatalf("stored: links %+v, alerts %v, web chat %+v", s.Links, s.WaitingAlertAfter, s.Webchat)
	}

	p.run(chromedp.Click("", byName("button", "Edit Where is my order?")))
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#faqs [data-field="question"]').value = ''`),
		chromedp.SendKeys(inCard("faqs", `[data-field="question"]`), "Where is my parcel?"),
		chromedp.Click(inCard("faqs", `.switch`)),
		chromedp.Click("", byName("button", "Save FAQ")))
	p.waitFor("the FAQ renamed, a draft", `[...document.querySelectorAll('#faqs .item')].some(i => i.textContent.includes('Where is my parcel?') && i.textContent.includes('Draft'))`)
	p.run(chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll('#faqs .item')].find(i => i.textContent.includes('How do I return')).querySelector('.confirm button')`)),
		chromedp.Click("", byName("button", "Yes")))
	p.waitFor("the FAQ gone", `![...document.querySelectorAll('#faqs .item')].some(i => i.textContent.includes('How do I return'))`)
	var questions []string
	for _, f := range h.sys.FAQs() {
		questions = append(questions, fmt.Sprintf("%s/%v", f.Question, f.Published))
	}
	if got := strings.Join(questions, ","); !strings.Contains(got, "Where is my parcel?/false") || strings.Contains(got, "return") {
		t.Fatalf("FAQs stored: %s", got)
	}
}
