// The ticket list (H1): one row per ticket with the customer's name, a
// preview of the latest message, an unread dot, the channel, the status
// and the assignee; filters; paging with next_cursor; kept current by the
// stream's ticket rows, alerts (H10) and typing.

import { get, query } from './api.js';
import { ago, avatar, h, replace, waited } from './dom.js';
import { icon } from './icons.js';

// A view of the list is a status and a scope: open, snoozed or closed
// tickets; all of them, the agent's own, or those nobody has.
export const statuses = [
  { key: 'open', label: 'Open' },
  { key: 'snoozed', label: 'Snoozed' },
  { key: 'closed', label: 'Closed' },
];
export const scopes = [
  { key: 'all', label: 'All' },
  { key: 'mine', label: 'Mine' },
  { key: 'unassigned', label: 'Unassigned' },
];

// view is what the list asks the server for and how it tells whether a
// row from the stream belongs.
export function view(status, scope, me) {
  // The server lists the open or snoozed tickets nobody has
  // (assignee=none); closed ones the list picks out itself.
  const local = scope === 'unassigned' && status === 'closed';
  const assignee = scope === 'mine' ? 'me' : scope === 'unassigned' && !local ? 'none' : undefined;
  const what = { open: 'open tickets', snoozed: 'snoozed tickets', closed: 'closed tickets' }[status];
  const empty = scope === 'mine' ? `No ${what} assigned to you.`
    : scope === 'unassigned' ? (status === 'open' ? 'Every open ticket has someone on it.' : `No unassigned ${what}.`)
      : status === 'open' ? 'No open tickets. New conversations show up here as customers write.' : `No ${what}.`;
  return {
    status, scope, local, empty,
    params: { status, assignee },
    match: (r) => r.status === status && (scope === 'all' || (scope === 'mine' ? r.assignee?.id === me.id : !r.assignee)),
  };
}

const statusLabel = { open: 'Open', snoozed: 'Snoozed', closed: 'Closed' };
const channelLabel = { webchat: 'Web chat', sms: 'SMS' };

export function statusChip(status) {
  return h('span', { class: ['chip', `chip-${status}`] }, statusLabel[status] || status);
}

export function channelIcon(channel) {
  return h('span', { class: ['channel', `channel-${channel}`] },
    icon(channel === 'sms' ? 'mail' : 'chat', channelLabel[channel] || channel));
}

// renderRow is one ticket's row; state says what the list knows besides
// the row (selected, alerted, typing).
export function renderRow(row, state = {}) {
  const name = row.profile?.name || row.profile?.id || 'Customer';
  const alerted = !!state.alerted;
  const link = h('a', {
    class: 'row-link', href: `?ticket=${encodeURIComponent(row.id)}`,
    'aria-current': state.selected ? 'true' : null,
  },
  avatar(name, row.profile?.id),
  h('span', { class: 'row-main' },
    h('span', { class: 'row-top' },
      h('span', { class: 'row-name' }, name),
      h('time', { class: 'row-time', datetime: row.updated_at, title: new Date(row.updated_at).toLocaleString() }, ago(row.updated_at))),
    state.typing
      ? h('span', { class: 'row-preview row-typing' }, 'typing…')
      : h('span', { class: 'row-preview' }, row.preview || ' '),
    h('span', { class: 'row-meta' },
      channelIcon(row.channel),
      statusChip(row.status),
      alerted && row.waiting_since ? h('span', { class: 'chip chip-alert' }, icon('clock'), `Waiting ${waited(row.waiting_since)}`) : null,
      h('span', { class: ['row-assignee', !row.assignee && 'is-none'] }, row.assignee ? row.assignee.name : 'Unassigned'))),
  row.unread ? h('span', { class: 'unread-dot', role: 'img', 'aria-label': 'Unread' }) : null);
  return h('li', {
    class: ['ticket-row', row.unread && 'is-unread', state.selected && 'is-selected', alerted && 'is-alerting'],
    dataset: { id: row.id, status: row.status },
  }, link);
}

export class TicketList {
  constructor(root, { me, onOpen, onAlertsChange }) {
    this.root = root;
    this.me = me;
    this.onOpen = onOpen;
    this.onAlertsChange = onAlertsChange;
    this.filter = view('open', 'all', me);
    this.rows = new Map(); // id → row, of the current view
    this.cursor = null;
    this.selected = '';
    this.alerts = new Map(); // ticket id → waiting_since
    this.typing = new Map(); // ticket id → timer
    this.known = new Map(); // id → latest row seen anywhere (for alerts)
    this.generation = 0;
    this.build();
  }

  build() {
    this.statusSelect = h('select', {
      class: 'status-select', id: 'status-filter', 'aria-label': 'Status',
      on: { change: () => this.setFilter(this.statusSelect.value, this.filter.scope) },
    }, statuses.map((x) => h('option', { value: x.key }, x.label)));
    this.tabs = scopes.map((x) => h('button', {
      type: 'button', class: 'scope', 'aria-pressed': String(x.key === 'all'), dataset: { scope: x.key },
      on: { click: () => this.setFilter(this.filter.status, x.key) },
    }, x.label));
    this.count = h('span', { class: 'list-count' });
    this.ul = h('ul', { class: 'ticket-list', 'aria-labelledby': 'list-title' });
    this.status = h('div', { class: 'list-status', role: 'status' });
    this.more = h('button', { type: 'button', class: 'btn btn-ghost btn-block', hidden: true, on: { click: () => this.loadMore() } }, 'Load more');
    this.ul.addEventListener('click', (ev) => {
      const a = ev.target.closest('a.row-link');
      if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      this.onOpen(a.closest('li').dataset.id);
    });
    replace(this.root,
      h('div', { class: 'list-head' },
        h('div', { class: 'list-heading' }, h('h2', { class: 'visually-hidden', id: 'list-title' }, 'Tickets'),
          h('span', { class: 'status-wrap' }, this.statusSelect, icon('chevron')), this.count),
        h('div', { class: 'scopes', role: 'group', 'aria-label': 'Whose tickets' }, this.tabs)),
      h('div', { class: 'list-scroll' }, this.ul, this.status, this.more));
  }

  setFilter(status, scope) {
    this.filter = view(status, scope, this.me);
    this.statusSelect.value = status;
    for (const b of this.tabs) b.setAttribute('aria-pressed', String(b.dataset.scope === scope));
    this.load();
  }

  // load fetches the first page of the filter afresh.
  async load() {
    const gen = ++this.generation;
    this.rows.clear();
    this.cursor = null;
    if (!this.ul.childElementCount) this.status.textContent = 'Loading…';
    await this.fetchPage(gen, true);
  }

  async loadMore() {
    if (!this.cursor) return;
    this.more.disabled = true;
    await this.fetchPage(this.generation, false);
    this.more.disabled = false;
  }

  async fetchPage(gen, fresh) {
    const fresh0 = fresh;
    this.live = [];
    let cursor = fresh ? null : this.cursor;
    let found = 0;
    try {
      // A filter the server does not apply may find few rows a page: read
      // on (a few pages at most) until there are some to show.
      for (let pages = 0; pages < (this.filter.local ? 10 : 1); pages++) {
        const res = await get(`/api/v1/tickets${query({ ...this.filter.params, limit: 50, cursor })}`);
        if (gen !== this.generation) return;
        if (fresh) {
          this.rows.clear();
          fresh = false;
        }
        const live = this.live;
        for (const r of res.tickets) {
          this.remember(r);
          if (this.filter.match(r, this.me)) {
            this.rows.set(r.id, r);
            found++;
          }
        }
        // Rows the stream brought while this page was on its way are as
        // new as it or newer: they go on top of it.
        for (const r of live) this.apply(r);
        live.length = 0;
        cursor = res.next_cursor;
        if (!cursor || found >= 20) break;
      }
      this.cursor = cursor;
      this.live = null;
      this.status.textContent = '';
      this.render();
    } catch (e) {
      if (gen !== this.generation) return;
      this.live = null;
      replace(this.status, h('span', { class: 'error-text' }, e.message), ' ',
        h('button', { type: 'button', class: 'btn btn-link', on: { click: () => (fresh0 ? this.load() : this.loadMore()) } }, 'Retry'));
    }
  }

  remember(r) {
    this.known.set(r.id, r);
    const alerting = r.alerted_at && r.waiting_since && r.status === 'open';
    if (alerting && !this.alerts.has(r.id)) this.setAlert(r.id, r.waiting_since);
    if ((!r.waiting_since || r.status !== 'open') && this.alerts.has(r.id)) {
      this.alerts.delete(r.id);
      this.onAlertsChange();
    }
  }

  sorted() {
    return [...this.rows.values()].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : a.id < b.id ? -1 : 1));
  }

  // render brings the rows up to date, keeping the element of each row
  // that did not change (and so the hover, the keyboard focus and what a
  // pointer is over).
  render() {
    const focusedID = document.activeElement?.closest?.('.ticket-row')?.dataset.id;
    const before = this.els || new Map();
    this.els = new Map();
    const items = this.sorted().map((r) => {
      const state = { selected: r.id === this.selected, alerted: this.alerts.has(r.id), typing: this.typing.has(r.id) };
      const key = JSON.stringify([r, state, ago(r.updated_at), state.alerted && r.waiting_since ? waited(r.waiting_since) : '']);
      const old = before.get(r.id);
      const el = old && old.key === key ? old : { key, li: renderRow(r, state) };
      this.els.set(r.id, el);
      return el.li;
    });
    items.forEach((li, i) => {
      if (this.ul.children[i] !== li) this.ul.insertBefore(li, this.ul.children[i] || null);
    });
    while (this.ul.children.length > items.length) this.ul.lastElementChild.remove();
    if (focusedID && !this.ul.contains(document.activeElement)) this.ul.querySelector(`li[data-id="${CSS.escape(focusedID)}"] a`)?.focus();
    this.count.textContent = this.rows.size ? String(this.rows.size) + (this.cursor ? '+' : '') : '';
    this.count.hidden = !this.rows.size;
    this.more.hidden = !this.cursor;
    if (!this.rows.size && !this.cursor) {
      replace(this.status, h('div', { class: 'empty' }, icon('inbox'), h('p', {}, this.filter.empty)));
    } else if (this.status.querySelector('.empty')) {
      this.status.textContent = '';
    }
  }

  // upsert takes a row from the stream: it joins, moves in or leaves the
  // list as it matches the filter.
  upsert(r) {
    this.live?.push(r);
    this.apply(r);
    this.render();
  }

  apply(r) {
    this.remember(r);
    if (this.filter.match(r, this.me)) this.rows.set(r.id, r);
    else this.rows.delete(r.id);
  }

  select(id) {
    this.selected = id;
    this.render();
  }

  row(id) {
    return this.rows.get(id) || this.known.get(id);
  }

  setAlert(id, since) {
    this.alerts.set(id, since);
    this.onAlertsChange();
  }

  // alert marks a ticket whose customer has waited too long (H10).
  alert(a) {
    if (!a.ticket) return;
    this.setAlert(a.ticket, a.waiting_since);
    this.render();
  }

  clearAlert(id) {
    if (this.alerts.delete(id)) {
      this.onAlertsChange();
      this.render();
    }
  }

  // showTyping shows "typing…" in a row for a few seconds: the stream
  // passes a shopper's typing on at most every 2 s while it goes on.
  showTyping(id) {
    clearTimeout(this.typing.get(id));
    this.typing.set(id, setTimeout(() => {
      this.typing.delete(id);
      this.render();
    }, 4000));
    if (this.rows.has(id)) this.render();
  }

  stopTyping(id) {
    if (!this.typing.has(id)) return;
    clearTimeout(this.typing.get(id));
    this.typing.delete(id);
    this.render();
  }

  // tick refreshes the relative times.
  tick() {
    if (this.rows.size) this.render();
  }
}
