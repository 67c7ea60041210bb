// The SMS channel (I2): the store's Twilio account and number. Texts to the
// number become tickets in the inbox, and the agents' answers go back as
// texts. The auth token is write-only: the server shows it masked, and the
// mask sent back keeps it. Twilio learns where to bring the texts from the
// inbound webhook's URL, pasted into the number's settings there; delivery
// reports need nothing pasted, for each text the server sends names its own
// report address: on its public address (--public-url), or on the one
// Twilio reached it at with the latest text that came in.

import { put } from './api.js';
import { h } from './dom.js';
import { card, check, checkbox, copyButton, field, input } from './settings-form.js';

// inboundPath is where Twilio posts the texts customers send (PROTOCOL §3).
const inboundPath = '/api/v1/channels/sms/inbound';

const secretHint = 'Stored and never shown; leave it as it is to keep it.';

export function smsCard(settings, saved) {
  const enabled = checkbox();
  const provider = input({ value: 'Twilio', readOnly: true, class: 'input is-readonly' });
  const sid = input({ placeholder: 'AC0123456789abcdef0123456789abcdef', spellcheck: 'false', autocomplete: 'off', maxlength: '64' });
  const token = input({ type: 'password', autocomplete: 'new-password', spellcheck: 'false', on: { focus: (e) => e.target.select() } });
  const from = input({ type: 'tel', placeholder: '+46701234567', autocomplete: 'off', spellcheck: 'false' });
  const base = input({ type: 'url', placeholder: 'https://api.twilio.com', spellcheck: 'false', autocomplete: 'off' });

  // fill shows what the server has stored.
  const fill = (s) => {
    enabled.checked = s.enabled;
    sid.value = s.account_sid || '';
    token.value = s.auth_token || '';
    from.value = s.from || '';
    base.value = s.base_url || '';
  };
  fill(settings.sms);

  return card({
    id: 'sms', title: 'SMS',
    intro: 'Customers text your store’s number and your team answers from the inbox: each number’s texts form one ticket, and every answer goes back as a text. Parley sends and receives them through your Twilio account.',
    body: [
      check('SMS is on', enabled, {
        name: 'sms.enabled',
        hint: 'When on, texts to the number below become tickets, and the answers in their tickets go out as texts. A customer who texts STOP gets no more texts until they text START.',
      }),
      h('div', { class: 'grid-2' },
        field('Provider', provider, { name: 'sms.provider', hint: 'Parley texts through Twilio’s Programmable Messaging.' }),
        field('Store’s number', from, { name: 'sms.from', hint: 'Your Twilio number, with + and the country code (E.164).' })),
      h('div', { class: 'grid-2' },
        field('Account SID', sid, { name: 'sms.account_sid', hint: 'In the Twilio Console, under Account info. It starts with AC.' }),
        field('Auth token', token, { name: 'sms.auth_token', hint: `Beside the Account SID. ${secretHint}` })),
      field('API base URL', base, { name: 'sms.base_url', hint: 'Leave it as it is: https://api.twilio.com. Change it only to test against a stand-in for Twilio.' }),
    ],
    save: async () => {
      const s = await put('/api/v1/settings', {
        sms: {
          enabled: enabled.checked, provider: 'twilio', account_sid: sid.value.trim(), auth_token: token.value.trim(),
          // "+46 70-123 45 67" as Twilio wants it: +46701234567.
          from: from.value.replace(/[\s\-().]/g, ''), base_url: base.value.trim(),
        },
      });
      saved(s);
      fill(s.sms);
    },
    extra: connect(),
  });
}

// connect says what to set up at Twilio: the URL it posts incoming texts
// to. It is this page's own address; the server checks every request
// against the URL Twilio signed.
function connect() {
  const url = `${location.origin}${inboundPath}`;
  const value = input({ value: url, readOnly: true, class: 'input copy-value', spellcheck: 'false', id: 'sms-inbound-url' });
  const flag = h('code', {}, '--public-url');
  return h('div', { class: 'card-extra' },
    h('h3', {}, 'Connect your Twilio number'),
    h('p', { class: 'hint' }, 'In the Twilio Console, open your number (Phone Numbers → Manage → Active numbers). Under Messaging configuration, set “A message comes in” to Webhook, paste this URL and choose HTTP POST.'),
    h('div', { class: 'field' },
      h('label', { for: value.id }, 'Webhook for “A message comes in” (HTTP POST)'),
      h('div', { class: 'inline copy-row' }, value, copyButton(() => url, value, { name: 'Copy the webhook URL' }))),
    h('p', { class: 'hint' }, 'Twilio signs each request with the auth token above, and Parley refuses any that does not verify. If Twilio reaches Parley at another address than this page’s (the server’s ', flag, '), use that address with the same path.'),
    h('p', { class: 'hint' }, 'Delivery reports need no URL of yours: each text asks Twilio to report back to the server (at its ', flag.cloneNode(true), ', or else at the address Twilio reached it at with the latest text that came in), and the inbox shows Sent, Delivered or Not delivered under each answer. Until a first text has come in to a server without ', flag.cloneNode(true), ', answers stay at Sending… once Twilio has them.'));
}
