// The customer's profile beside a ticket (H4): who they are as the store
// last described them, and their event history (placed an order, received
// an e-mail, …) newest first, a page at a time.

import { get, path, query } from './api.js';
import { ago, avatar, fullTime, h, replace } from './dom.js';
import { icon } from './icons.js';

export class ProfilePanel {
  constructor(root) {
    this.root = root;
    this.profile = null;
  }

  show(profile, fallbackName) {
    this.profile = profile;
    const name = profile.name || fallbackName || profile.id || 'Customer';
    this.events = h('ol', { class: 'activity' });
    this.more = h('button', { type: 'button', class: 'btn btn-ghost btn-sm btn-block', on: { click: () => this.loadMore() } }, 'Show older events');
    this.status = h('p', { class: 'muted small', role: 'status' });
    replace(this.root,
      h('h2', { class: 'visually-hidden' }, 'Customer'),
      h('div', { class: 'profile-card' },
        avatar(name, profile.id, 'lg'),
        h('div', { class: 'profile-name' }, name),
        h('dl', { class: 'profile-facts' },
          fact('E-mail', profile.email),
          fact('Phone', profile.phone),
          fact('Customer id', profile.id))),
      h('section', { class: 'profile-section', 'aria-labelledby': 'activity-title' },
        h('h3', { id: 'activity-title', class: 'section-title' }, icon('activity'), 'Activity'),
        this.events, this.status, this.more));
    this.addEvents(profile.events || [], profile.events_next_cursor);
  }

  addEvents(events, cursor) {
    this.cursor = cursor || null;
    for (const e of events) this.events.append(renderEvent(e));
    this.more.hidden = !this.cursor;
    if (!this.events.childElementCount) this.status.textContent = 'No events from the store yet.';
  }

  async loadMore() {
    if (!this.profile || !this.cursor) return;
    this.more.disabled = true;
    this.status.textContent = '';
    try {
      const p = await get(path('/api/v1/profiles', this.profile.id) + query({ events_cursor: this.cursor }));
      this.addEvents(p.events || [], p.events_next_cursor);
    } catch (e) {
      this.status.textContent = e.message;
    } finally {
      this.more.disabled = false;
    }
  }
}

function fact(label, value) {
  return [h('dt', {}, label), h('dd', { class: value ? '' : 'muted' }, value || '—')];
}

function renderEvent(e) {
  const props = Object.entries(e.properties || {});
  return h('li', { class: 'activity-item' },
    h('div', { class: 'activity-head' },
      h('span', { class: 'activity-name' }, e.name),
      h('time', { class: 'activity-time', datetime: e.at, title: fullTime(e.at) }, ago(e.at))),
    props.length
      ? h('dl', { class: 'props' }, props.map(([k, v]) => [h('dt', {}, k), h('dd', {}, propText(v))]))
      : null);
}

// propText shows a property's value as text: strings as they are, numbers
// and the rest as JSON.
function propText(v) {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
