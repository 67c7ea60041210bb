package transport

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/transport/twilio"
	"github.com/parley-chat/parley/transport/webhook"
)

// The store's channels and integrations at /settings: the SMS channel
// (I2), whose Twilio number an admin connects, and webhooks (I3), whose
// endpoints an admin adds, keeping the secret shown once, looks after and
// deletes.

// retype replaces the value of the control of css with text, typed as a
// person types it.
func (p *agentPage) retype(css, text string) {
	p.t.Helper()
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(css)+`).value = ''`),
		chromedp.SendKeys(chromedp.CSS(css), text))
}

// smsField is the CSS of the SMS section's control of the server's field.
func smsField(name string) string {
	return `#sms [data-field="` + name + `"]`
}

// unlabelled is the JavaScript of the controls in the element of css that
// have no accessible name of their own (a label or aria-label).
func unlabelled(css string) string {
	return `[...document.querySelectorAll(` + jsString(css+` input, `+css+` select, `+css+` textarea`) + `)]
		.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.outerHTML.slice(0, 80))`
}

// An admin turns SMS on with the store's Twilio account: the fields are
// kept, the auth token is never shown and saving again without retyping it
// keeps it (Twilio's signed webhooks still verify); the URL to paste into
// Twilio is shown to copy; a number without its country code is refused at
// the number's field and changes nothing.
func TestSettingsSMSConnectsTwilio(t *testing.T) {
	fake := newFakeTwilio(t)
	h := startWith(t, Config{}, actors.Config{SMS: &twilio.Client{}})
	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the SMS section, off", `document.querySelector('#sms-title')?.textContent === 'SMS' && !document.querySelector(`+jsString(smsField("sms.enabled"))+`).checked`)
	if got := eval[[]string](p, unlabelled("#sms")); len(got) > 0 {
		t.Fatalf("controls without a name: %q", got)
	}
	inbound := h.ts.URL + smsInboundPath
	p.waitFor("the inbound webhook's URL", `document.getElementById('sms-inbound-url').value === `+jsString(inbound)+` && document.getElementById('sms-inbound-url').readOnly`)
	p.run(chromedp.Click("", byName("button", "Copy the webhook URL")))
	p.waitText("#sms .copy-status", "Copied")

	p.run(chromedp.Click(inCard("sms", ".switch")),
		chromedp.SendKeys("", smsAccount, byName("textbox", "Account SID")))
	p.retype(smsField("sms.auth_token"), smsToken)
	p.retype(smsField("sms.from"), "+46 10 123 45 67")
	p.retype(smsField("sms.base_url"), fake.srv.URL)
	p.run(chromedp.Click(inCard("sms", `.card-foot button[type="submit"]`)))
	p.waitText("#sms .save-status", "Saved")
	s := h.sys.Settings().SMS
	if !s.Enabled || s.Provider != "twilio" || s.AccountSID != smsAccount || s.AuthToken != smsToken || s.From != smsFrom || s.BaseURL != fake.srv.URL {
		t.Fatalf("stored: %+v", s)
	}
	p.waitFor("the token masked after saving", `document.querySelector(`+jsString(smsField("sms.auth_token"))+`).value === '********'`)
	p.run(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	elementShot(t, p, "settings-sms", "#sms")

	p.run(chromedp.Reload())
	p.waitFor("the SMS section as saved", fmt.Sprintf(`(() => { const v = (n) => document.querySelector('#sms [data-field="' + n + '"]');
		return !!v('sms.enabled') && v('sms.enabled').checked && v('sms.account_sid').value === %s && v('sms.from').value === %s &&
			v('sms.base_url').value === %s && v('sms.auth_token').value === '********' && v('sms.provider').value === 'Twilio'; })()`,
		jsString(smsAccount), jsString(smsFrom), jsString(fake.srv.URL)))
	if v := eval[string](p, `document.body.textContent + [...document.querySelectorAll('input')].map(i => i.value).join()`); strings.Contains(v, smsToken) {
		t.Fatal("the page shows the auth token")
	}
	p.run(chromedp.Click(inCard("sms", `.card-foot button[type="submit"]`)))
	p.waitText("#sms .save-status", "Saved")
	if tok := h.sys.Settings().SMS.AuthToken; tok != smsToken {
		t.Fatalf("saved again without retyping it, the auth token is %q", tok)
	}
	if code := h.provider(smsInboundPath, inboundText("SM1", "Hello?"), smsToken); code != 200 {
		t.Fatalf("a text signed with the account's auth token: %d", code)
	}

	p.retype(smsField("sms.from"), "070-123 45 67")
	p.run(chromedp.Click(inCard("sms", `.card-foot button[type="submit"]`)))
	p.waitFor("the number refused at its field", fieldError("sms", "sms.from")+`.includes('country code')`)
	if s := h.sys.Settings().SMS; s.From != smsFrom || s.AuthToken != smsToken || !s.Enabled {
		t.Fatalf("a refused save changed the settings: %+v", s)
	}
}

// hookRow is the JavaScript path of the endpoint's row of url.
func hookRow(url string) string {
	return `[...document.querySelectorAll('#webhooks .item')].find(i => i.querySelector('.hook-url').textContent === ` + jsString(url) + `)`
}

// An endpoint added on the page gets the secret the page shows once, and
// verifies with it the real deliveries of a shopper's new ticket; the
// details of another endpoint, which keeps failing, show its failed
// deliveries with the receiver's answer; after a reload the secret is
// gone; deleting removes the endpoint.
func TestSettingsWebhooksAddVerifyDelete(t *testing.T) {
	rcv := newReceiver(t)
	failing := newReceiver(t)
	failing.fail = func(delivery, int) int { return 503 }
	h := startWith(t, Config{WebhookAllowPrivate: true}, actors.Config{
		Webhooks: WebhookNotifier(&webhook.Sender{AllowPrivate: true}),
		Outbox:   outbox.Config{MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, GiveUpAfter: time.Second},
	})
	failingID := h.register(failing, "message.created")
	failingURL := failing.srv.URL + "/hook"

	p := signIn(t, h, "/settings", adminToken)
	p.waitFor("the endpoint added before", hookRow(failingURL)+` !== undefined`)
	if got := eval[[]string](p, unlabelled("#webhooks")); len(got) > 0 {
		t.Fatalf("controls without a name: %q", got)
	}
	url := rcv.srv.URL + "/parley/webhooks"
	p.run(chromedp.SendKeys("", url, byName("textbox", "Endpoint URL")))
	for _, name := range []string{"ticket.assigned", "handoff", "ticket.closed"} {
		p.run(chromedp.Click(chromedp.CSS(`#webhooks .event-option input[value="` + name + `"]`)))
	}
	p.run(chromedp.Click("", byName("button", "Add endpoint")))
	p.waitFor("the secret, once", `document.querySelector('#webhooks .token-box')?.textContent.includes('not shown again') && document.querySelector('#webhooks .token-value')?.value.startsWith('whsec_')`)
	secret := eval[string](p, `document.querySelector('#webhooks .token-value').value`)
	p.waitText("#webhooks .token-box .hint", "Verify each delivery’s webhook-signature with this secret (Standard Webhooks).")
	p.run(chromedp.Click("", byName("button", "Copy the secret")))
	p.waitText("#webhooks .token-box", "Copied")
	rcv.mu.Lock()
	rcv.secret = secret
	rcv.mu.Unlock()
	p.waitFor("the new endpoint listed with its events", hookRow(url)+`?.querySelector('.item-meta').textContent.startsWith('ticket.createdmessage.created')`)

	_, conv := shopperWrites(t, h, "p-ada", "Ada Lovelace", "Where is my parcel?")
	got := rcv.waitFor(2)
	if got[0].Type != "ticket.created" || got[1].Type != "message.created" || got[1].Ticket != conv {
		t.Fatalf("the receiver verified %+v", got)
	}

	// The failing endpoint gives up on its delivery; its details show it.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, body, _ := h.do("GET", "/api/v1/webhooks/"+failingID, adminToken, nil); num(body["failed"]) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failing endpoint's delivery was never given up on")
		}
	}
	p.run(chromedp.Click("", byName("button", "Details of "+failingURL)))
	p.waitFor("the failed delivery", hookRow(failingURL)+`?.querySelector('.hook-details:not([hidden]) .deliveries tbody tr')?.textContent.includes('503 Service Unavailable')`)
	if got := eval[string](p, hookRow(failingURL)+`.querySelector('.hook-stats').textContent`); !strings.Contains(got, "0 deliveries waiting") || !strings.Contains(got, "1 failed") {
		t.Fatalf("the details say %q", got)
	}
	if href := eval[string](p, hookRow(failingURL)+`.querySelector('.deliveries a').getAttribute('href')`); href != "/inbox?ticket="+conv {
		t.Fatalf("the failed delivery links to %q", href)
	}
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.toast').forEach(t => t.remove())`))
	elementShot(t, p, "settings-webhooks", "#webhooks")
	p.run(chromedp.Click("", byName("button", "Details of "+failingURL)))
	p.waitFor("the details closed", hookRow(failingURL)+`.querySelector('.hook-details').hidden`)

	p.run(chromedp.Reload())
	p.waitFor("both endpoints after a reload", hookRow(url)+` !== undefined && `+hookRow(failingURL)+` !== undefined`)
	if v := eval[string](p, `document.body.textContent + [...document.querySelectorAll('input')].map(i => i.value).join()`); strings.Contains(v, secret) || strings.Contains(v, "whsec_") {
		t.Fatal("the secret is still on the page after a reload")
	}

	p.run(chromedp.Click("", byName("button", "Delete "+url)), chromedp.Click("", byName("button", "Yes")))
	p.waitFor("the endpoint gone", hookRow(url)+` === undefined`)
	_, list, _ := h.do("GET", "/api/v1/webhooks", adminToken, nil)
	if hooks := list["webhooks"].([]any); len(hooks) != 1 || hooks[0].(map[string]any)["id"] != failingID {
		t.Fatalf("after deleting, the endpoints are %v", hooks)
	}
}

// A server that sends webhooks to public addresses only refuses
// http://localhost/ at the URL's field, and an endpoint without events at
// the events; nothing is added.
func TestSettingsWebhooksRefusals(t *testing.T) {
	h := startWith(t, Config{}, actors.Config{Webhooks: WebhookNotifier(&webhook.Sender{})})
	p := signIn(t, h, "/settings", adminToken)
	p.waitText("#webhooks .items-empty", "No endpoints yet")
	p.run(chromedp.SendKeys("", "http://localhost/", byName("textbox", "Endpoint URL")),
		chromedp.Click("", byName("button", "Add endpoint")))
	p.waitFor("the URL refused at its field", fieldError("webhooks", "url")+` !== ''`)
	if got := eval[string](p, fieldError("webhooks", "url")); strings.HasPrefix(got, "url:") {
		t.Fatalf("the error repeats the field's name: %q", got)
	}

	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#webhooks .event-option input').forEach(b => { b.checked = false; })`))
	p.retype(`#webhooks [data-field="url"]`, "https://93.184.215.14/hook")
	p.run(chromedp.Click("", byName("button", "Add endpoint")))
	p.waitFor("no events refused at the events", fieldError("webhooks", "events")+` !== '' && `+fieldError("webhooks", "url")+` === ''`)
	elementShot(t, p, "settings-webhooks-refused", "#webhooks")
	if _, list, _ := h.do("GET", "/api/v1/webhooks", adminToken, nil); len(list["webhooks"].([]any)) != 0 {
		t.Fatalf("refused endpoints were added: %v", list)
	}
	if n := eval[int](p, `document.querySelectorAll('#webhooks .token-value').length`); n != 0 {
		t.Fatal("a refused endpoint showed a secret")
	}
}
