package transport

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// SMS tickets in the inbox (I2, H1): agents answer texts and see what
// became of each answer.

// smsReply is the fake Twilio's nth send, waited for.
func smsReply(t *testing.T, fake *fakeTwilio, n int) url.Values {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if sent := fake.sends(); len(sent) > n {
			return sent[n]
		}
		if time.Now().After(deadline) {
			t.Fatalf("Twilio got %d texts, want %d", len(fake.sends()), n+1)
		}
	}
}

// report posts Twilio's signed status callback for the text sent, to the
// StatusCallback URL the text named.
func report(t *testing.T, h *harness, sent url.Values, form url.Values) {
	t.Helper()
	cu, err := url.Parse(sent.Get("StatusCallback"))
	if err != nil || cu.Path != smsStatusPath {
		t.Fatalf("StatusCallback %q", sent.Get("StatusCallback"))
	}
	form.Set("AccountSid", smsAccount)
	form.Set("MessageSid", "SM"+strings.Repeat("0", 32))
	if code := h.provider(cu.RequestURI(), form, smsToken); code != 204 {
		t.Fatalf("status callback %v: %d", form, code)
	}
}

// deliveryOf is the JavaScript of the delivery line under the agent's
// message with text.
func deliveryOf(text string) string {
	return `([...document.querySelectorAll('.msg-agent[data-seq]')].find(m => m.querySelector('.msg-text')?.textContent === ` + jsString(text) + `)?.querySelector('.delivery')?.textContent || '')`
}

// H1, I2: a text to the store's number appears in the inbox at once, with
// the SMS icon; the agent answers it in the browser, with the count of an
// SMS's characters under the reply; Twilio gets the answer, which shows
// "Sending…", then "Delivered" when Twilio reports so — a late "sent" does
// not take it back — or "Not delivered" with Twilio's reason. A reply too
// long for a text, and one to a customer who texted STOP, are refused with
// the server's words.
func TestInboxSMSTicketWithDeliveryReports(t *testing.T) {
	fake := newFakeTwilio(t)
	h := startSMS(t, fake)
	p := signIn(t, h, "/inbox", adminToken)
	p.waitText(".list-status .empty", "No open tickets")

	if code := h.provider(smsInboundPath, inboundText("SM1", "Hi! Has order 1042 shipped yet?"), smsToken); code != 200 {
		t.Fatalf("inbound: %d", code)
	}
	p.waitFor("the SMS ticket, live, with the envelope", `(() => { const r = document.querySelector('.ticket-row');
		return r && r.querySelector('.row-name').textContent === `+jsString(customer)+` &&
			r.querySelector('.channel-sms [role="img"]')?.getAttribute('aria-label') === 'SMS' && !!r.querySelector('.channel-sms .icon-mail'); })()`)
	p.run(chromedp.Click(rowLink(customer)))
	p.waitText(".msg-shopper .msg-text", "Has order 1042 shipped yet?")
	p.waitFor("the SMS icon in the ticket's header", `document.querySelector('.ticket-sub .channel [role="img"]')?.getAttribute('aria-label') === 'SMS'`)
	p.waitFor("an empty count", `document.getElementById('composer-count')?.offsetParent !== null && document.getElementById('composer-count').textContent.endsWith('0 / 1600')`)
	if d := eval[string](p, `document.getElementById('reply').getAttribute('aria-describedby')`); !strings.Contains(d, "composer-count") {
		t.Fatalf("the reply field is described by %q, not its count", d)
	}

	const first = "Yes! It left this morning."
	p.run(chromedp.SendKeys("", first, byName("textbox", "Reply")))
	p.waitFor("the count as typed", `document.getElementById('composer-count').textContent.endsWith('26 / 1600')`)
	p.run(enter)
	sent := smsReply(t, fake, 0)
	if sent.Get("To") != customer || sent.Get("From") != smsFrom || sent.Get("Body") != first {
		t.Fatalf("Twilio got %v", sent)
	}
	p.waitFor("the answer on its way", deliveryOf(first)+` === 'Sending…'`)
	p.waitFor("the count back to 0", `document.getElementById('composer-count').textContent.endsWith('0 / 1600')`)
	report(t, h, sent, url.Values{"MessageStatus": {"delivered"}})
	p.waitFor("the answer delivered", deliveryOf(first)+` === 'Delivered'`)

	// A "sent" that comes after "delivered" does not take it back: once
	// the customer's next text is shown, the report before it was read.
	report(t, h, sent, url.Values{"MessageStatus": {"sent"}})
	if code := h.provider(smsInboundPath, inboundText("SM2", "Great, thanks!"), smsToken); code != 200 {
		t.Fatalf("inbound: %d", code)
	}
	p.waitText(".msg-shopper .msg-text", "Great, thanks!")
	if got := eval[string](p, deliveryOf(first)); got != "Delivered" {
		t.Fatalf("after a late report, the answer shows %q", got)
	}

	const second = "You're welcome. Tracking: PN123456SE"
	p.run(chromedp.SendKeys("", second, byName("textbox", "Reply")), enter)
	sent2 := smsReply(t, fake, 1)
	report(t, h, sent2, url.Values{"MessageStatus": {"sent"}})
	p.waitFor("the second answer sent", deliveryOf(second)+` === 'Sent'`)
	report(t, h, sent2, url.Values{"MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}, "ErrorMessage": {"Unreachable destination handset"}})
	p.waitFor("the second answer not delivered", deliveryOf(second)+` === 'Not delivered: error 30003: Unreachable destination handset'`)
	p.waitFor("shown as an error", `(() => { const d = [...document.querySelectorAll('.delivery')].pop();
		return d.classList.contains('is-failed') && getComputedStyle(d).color === 'rgb(180, 35, 24)'; })()`)
	p.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('.thread-scroll').scrollTop = 1e6`))
	screenshot(t, p.ctx, "inbox-sms-ticket")

	// Too long for a text: the count says so, the server refuses it.
	p.run(chromedp.Evaluate[chromedp.Void](`(() => { const r = document.getElementById('reply'); r.focus();
		r.value = 'a'.repeat(1601); r.dispatchEvent(new Event('input', {bubbles: true})); })()`))
	p.waitFor("the count over", `document.getElementById('composer-count').classList.contains('is-over') && document.getElementById('composer-count').textContent.includes('1601 / 1600')`)
	p.run(chromedp.Click("", byName("button", "Send")))
	p.waitText(".composer-error", "The reply is longer than 1600 characters")
	p.waitFor("the reply back in the box", `document.getElementById('reply').value.length === 1601`)
	p.run(chromedp.Evaluate[chromedp.Void](`(() => { const r = document.getElementById('reply');
		r.value = ''; r.dispatchEvent(new Event('input', {bubbles: true})); })()`))

	// STOP: the next answer is refused, saying why.
	if code := h.provider(smsInboundPath, inboundText("SM3", "STOP"), smsToken); code != 200 {
		t.Fatalf("inbound: %d", code)
	}
	p.waitText(".msg-system .msg-text", "texted STOP")
	p.run(chromedp.SendKeys("", "Sorry to see you go!", byName("textbox", "Reply")), enter)
	p.waitText(".composer-error", "The customer texted STOP: no texts go to "+customer+" until they text START")
	p.waitText(".msg.is-failed .receipt", "Not sent")
	if n := len(fake.sends()); n != 2 {
		t.Fatalf("Twilio got %d texts, want 2 (none after STOP)", n)
	}
}
