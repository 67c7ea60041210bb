// The admins' settings at /settings: web chat, links, office hours, waiting
// alerts, notification e-mail (C1–C3, C7, H10), FAQs (C4), the AI agent and
// its handoff (C6, S10), macros (C5), agents (C8), the SMS channel (I2) and
// webhooks (I3). Each section saves alone; the server's refusal shows at
// the input it names.

import { get } from './api.js';
import { h, replace } from './dom.js';
import { icon } from './icons.js';
import { startSession } from './session.js';
import { alertsCard, linksCard, webchatCard } from './settings-general.js';
import { hoursCard } from './settings-hours.js';
import { aiCard } from './settings-ai.js';
import { faqsCard } from './settings-faqs.js';
import { macrosCard } from './settings-macros.js';
import { agentsCard, notificationsCard } from './settings-team.js';
import { smsCard } from './settings-sms.js';
import { webhooksCard } from './settings-webhooks.js';

const $ = (id) => document.getElementById(id);

const sections = [
  ['webchat', 'Web chat'], ['links', 'Terms and privacy'], ['hours', 'Office hours'], ['alerts', 'Waiting alerts'],
  ['faqs', 'FAQs'], ['ai', 'AI agent'], ['macros', 'Macros'], ['agents', 'Agents'], ['notifications', 'Notification e-mail'],
  ['sms', 'SMS'], ['webhooks', 'Webhooks'],
];

async function enter(me) {
  replace($('me-name'), me.name);
  const role = me.role === 'admin' ? 'Admin' : 'Agent';
  $('me-role').textContent = role === me.name ? '' : role;
  get('/api/v1/inbox/badge').then((b) => {
    $('badge').textContent = String(b.unread);
    $('badge').hidden = !b.unread;
  }).catch(() => {});
  const content = $('content');
  if (me.role !== 'admin') {
    $('settings-nav').hidden = true;
    replace(content, h('section', { class: 'card card-note' },
      h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('settings')),
      h('h1', {}, 'Settings are for admins only'),
      h('p', { class: 'muted' }, `You are signed in as ${me.name}, an agent. An admin of your team can change these settings for you.`),
      h('a', { class: 'btn btn-primary', href: '/inbox' }, 'Back to the inbox')));
    return;
  }
  replace(content, h('p', { class: 'muted', role: 'status' }, 'Loading the settings…'));
  let settings;
  try {
    settings = await get('/api/v1/settings');
  } catch (e) {
    replace(content, h('p', { class: 'error-text', role: 'alert' }, e.message));
    return;
  }
  const saved = (s) => { settings = s; };
  $('settings-nav').hidden = false;
  replace($('settings-nav'), h('ul', {}, sections.map(([id, label]) => h('li', {}, h('a', { href: `#${id}` }, label)))));
  replace(content,
    h('h1', { class: 'page-title' }, 'Settings'),
    webchatCard(settings, saved), linksCard(settings, saved), hoursCard(settings, saved), alertsCard(settings, saved),
    faqsCard(), aiCard(settings, saved), macrosCard(), agentsCard(me), notificationsCard(settings, saved),
    smsCard(settings, saved), webhooksCard());
}

function leave() {
  replace($('content'));
}

const session = await startSession({ page: 'settings', enter, leave });
$('signout').addEventListener('click', () => session.signOut());
