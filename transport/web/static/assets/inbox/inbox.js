// The agents' inbox at /inbox: sign in, the ticket list on the left, the
// open ticket on the right, the unread badge (H2) in the header and the
// tab's title, waiting alerts (H10), all kept current by the stream.
// /inbox?ticket=<id> opens a ticket (the notification e-mails link there).

import { get } from './api.js';
import { announce, h, replace, waited } from './dom.js';
import { icon } from './icons.js';
import { TicketList } from './list.js';
import { startSession } from './session.js';
import { InboxStream } from './stream.js';
import { TicketView } from './ticket.js';

const $ = (id) => document.getElementById(id);
let app = null;

function setBadge(n) {
  const pill = $('badge');
  pill.textContent = n > 99 ? '99+' : String(n);
  pill.hidden = !n;
  pill.setAttribute('aria-label', `${n} unread`);
  document.title = n > 0 ? `(${n}) Parley inbox` : 'Parley inbox';
}

function setConnection(state) {
  const el = $('connection');
  el.hidden = state === 'live';
  el.dataset.state = state;
  replace(el, icon('wifi'), state === 'reconnecting' ? 'Reconnecting…' : 'Connecting…');
}

function enter(me) {
  replace($('me-name'), me.name);
  const role = me.role === 'admin' ? 'Admin' : 'Agent';
  $('me-role').textContent = role === me.name ? '' : role;
  $('nav-settings').hidden = me.role !== 'admin';
  const main = $('workspace');
  const list = new TicketList($('list'), { me, onOpen: (id) => open(id), onAlertsChange: () => drawAlerts() });
  const view = new TicketView($('ticket'), { me, onRow: (r) => list.upsert(r), onBack: () => open('') });
  const dismissed = new Set();

  const open = (id, { push = true } = {}) => {
    if (id === view.id && id) return view.focusComposer();
    list.select(id);
    main.classList.toggle('has-ticket', !!id);
    if (push) history.pushState({ ticket: id }, '', id ? `?ticket=${encodeURIComponent(id)}` : location.pathname);
    if (id) view.open(id).then(() => view.focusComposer());
    else view.empty();
  };

  const drawAlerts = () => {
    const box = $('alerts');
    const items = [...list.alerts].filter(([id]) => !dismissed.has(id)).slice(0, 3);
    box.hidden = !items.length;
    replace(box, items.map(([id, since]) => {
      const name = list.row(id)?.profile?.name || 'A customer';
      return h('div', { class: 'alert', role: 'alert' },
        icon('alert'),
        h('p', {}, h('strong', {}, name), ` has waited ${since ? waited(since) : 'a while'} for an answer.`),
        h('button', { type: 'button', class: 'btn btn-sm btn-warning', on: { click: () => open(id) } }, 'Open'),
        h('button', { type: 'button', class: 'btn btn-icon btn-xs', 'aria-label': `Dismiss the alert about ${name}`, on: { click: () => { dismissed.add(id); drawAlerts(); } } }, icon('x')));
    }));
  };

  let streamed = false; // a badge from the stream is newer than any fetched
  const stream = new InboxStream({
    badge: (b) => {
      streamed = true;
      setBadge(b.unread);
    },
    ticket: (row) => {
      if (!row.waiting_since) dismissed.delete(row.id);
      list.upsert(row);
      list.stopTyping(row.id);
      if (row.id === view.id) view.changed(row);
    },
    alert: (a) => {
      dismissed.delete(a.ticket);
      list.alert(a);
      announce(`${list.row(a.ticket)?.profile?.name || 'A customer'} is waiting for an answer.`);
    },
    typing: (t) => {
      if (t.from !== 'shopper') return;
      list.showTyping(t.ticket);
      view.typing(t);
    },
  }, (state, resumed) => {
    setConnection(state);
    if (state === 'live' && resumed) {
      list.load();
      view.refresh();
    }
  });

  setConnection('connecting');
  list.load();
  get('/api/v1/inbox/badge').then((b) => streamed || setBadge(b.unread)).catch(() => {});
  stream.start();
  const first = new URLSearchParams(location.search).get('ticket');
  if (first) open(first, { push: false });
  const onPop = () => open(new URLSearchParams(location.search).get('ticket') || '', { push: false });
  window.addEventListener('popstate', onPop);
  const tick = setInterval(() => { list.tick(); drawAlerts(); }, 30e3);
  app = { stream, tick, onPop };
}

function leave() {
  if (!app) return;
  app.stream.stop();
  clearInterval(app.tick);
  window.removeEventListener('popstate', app.onPop);
  app = null;
  setBadge(0);
  $('alerts').hidden = true;
  $('workspace').classList.remove('has-ticket');
}

const session = await startSession({ page: 'inbox', enter, leave });
$('signout').addEventListener('click', () => session.signOut());
