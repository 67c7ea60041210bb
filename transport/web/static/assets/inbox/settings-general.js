// Web chat (C1), the terms and privacy links (C2) and waiting alerts (H10):
// each saved alone, with PUT /api/v1/settings naming only its section.

import { put } from './api.js';
import { h } from './dom.js';
import { card, check, checkbox, field, input, select, textarea } from './settings-form.js';

export function webchatCard(settings, saved) {
  const w = settings.webchat;
  const enabled = checkbox({ checked: w.enabled });
  const mode = select([['all', 'Everyone sees the chat; shoppers log in to start one'], ['logged_in', 'Only logged-in shoppers see the chat']]);
  mode.value = w.login_mode;
  const welcome = textarea({ value: w.welcome_message, rows: '2', maxlength: '1000' });
  return card({
    id: 'webchat', title: 'Web chat', intro: 'The chat on your store’s pages. Changes apply to new chats at once.',
    body: [
      check('Web chat is on', enabled, { name: 'webchat.enabled', hint: 'When off, the store’s pages show no chat at all.' }),
      field('Who sees the chat', mode, { name: 'webchat.login_mode' }),
      field('Welcome message', welcome, { name: 'webchat.welcome_message', hint: 'Shown when a shopper starts a chat, before they write.' }),
    ],
    save: async () => saved(await put('/api/v1/settings', {
      webchat: { enabled: enabled.checked, login_mode: mode.value, welcome_message: welcome.value },
    })),
  });
}

export function linksCard(settings, saved) {
  const terms = input({ type: 'url', value: settings.links.terms_url, placeholder: 'https://shop.example.com/terms' });
  const privacy = input({ type: 'url', value: settings.links.privacy_url, placeholder: 'https://shop.example.com/privacy' });
  return card({
    id: 'links', title: 'Terms and privacy', intro: 'Shown to shoppers before they send their first message. Leave empty to show none.',
    body: h('div', { class: 'grid-2' },
      field('Terms of service', terms, { name: 'links.terms_url' }),
      field('Privacy policy', privacy, { name: 'links.privacy_url' })),
    save: async () => saved(await put('/api/v1/settings', {
      links: { terms_url: terms.value.trim(), privacy_url: privacy.value.trim() },
    })),
  });
}

// shortDuration writes Go's "4m0s" as "4m".
export function shortDuration(d) {
  return String(d || '').replace(/([hm])0s$/, '$1').replace(/h0m$/, 'h');
}

export function alertsCard(settings, saved) {
  const after = input({ value: shortDuration(settings.waiting_alert_after), inputmode: 'text', spellcheck: 'false', class: 'input input-narrow' });
  return card({
    id: 'alerts', title: 'Waiting alerts',
    intro: 'Check back with a waiting customer every few minutes: the inbox flags a ticket whose customer has waited this long for an answer, and again after each such wait.',
    body: field('Alert after', after, { name: 'waiting_alert_after', hint: 'A duration such as 4m, 90s or 1h30m. 0s turns alerts off.' }),
    save: async () => saved(await put('/api/v1/settings', { waiting_alert_after: after.value.trim() })),
  });
}
