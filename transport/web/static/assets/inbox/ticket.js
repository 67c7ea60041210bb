// One ticket opened (H4): its header (customer, channel, status and the
// actions), the thread kept current from the stream, the reply box and the
// customer's profile. While it is open and the page is in sight, what the
// customer wrote is marked read (POST …/read with the seq of the latest
// message), which clears the unread dot and the badge.

import { get, path, post, query } from './api.js';
import { avatar, h, replace } from './dom.js';
import { icon } from './icons.js';
import { ticketActions } from './actions.js';
import { channelIcon, statusChip } from './list.js';
import { Composer } from './composer.js';
import { ProfilePanel } from './profile.js';
import { Thread } from './thread.js';

export class TicketView {
  constructor(root, { me, onRow, onBack }) {
    this.root = root;
    this.me = me;
    this.onRowChange = onRow;
    this.onBack = onBack;
    this.id = '';
    this.gen = 0;
    this.readSent = 0;
    this.refreshing = null;
    this.again = false;
    document.addEventListener('visibilitychange', () => this.markRead());
    this.empty();
  }

  empty() {
    this.id = '';
    this.gen++;
    replace(this.root, h('div', { class: 'ticket-empty' },
      h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('chat')),
      h('h2', {}, 'No ticket selected'),
      h('p', { class: 'muted' }, 'Pick a conversation from the list to read it and reply.')));
  }

  async open(id) {
    const gen = ++this.gen;
    this.id = id;
    this.readSent = 0;
    this.row = null;
    replace(this.root, h('div', { class: 'ticket-loading', role: 'status' }, 'Loading the conversation…'));
    let view;
    try {
      view = await get(path('/api/v1/tickets', id));
    } catch (e) {
      if (gen !== this.gen) return;
      replace(this.root, h('div', { class: 'ticket-empty' },
        h('h2', {}, e.status === 404 ? 'This ticket does not exist' : 'The ticket could not be loaded'),
        h('p', { class: 'muted' }, e.message),
        h('button', { type: 'button', class: 'btn btn-ghost', on: { click: () => this.onBack() } }, 'Back to the list')));
      return;
    }
    if (gen !== this.gen) return;
    this.build(view);
  }

  build(view) {
    const row = view.ticket;
    this.row = row;
    this.composer = null;
    this.name = row.profile?.name || view.profile?.name || row.profile?.id || 'Customer';
    this.head = h('header', { class: 'ticket-head' });
    const scroller = h('div', { class: 'thread-scroll', tabindex: '0', 'aria-label': 'Conversation with ' + this.name });
    this.thread = new Thread(scroller, { customer: this.name, channel: row.channel });
    this.composerBox = h('div', { class: 'composer' });
    const aside = h('aside', { class: 'profile', 'aria-label': 'Customer profile' });
    this.profile = new ProfilePanel(aside);
    this.profile.show(view.profile || { id: row.profile?.id, events: [] }, this.name);
    replace(this.root, h('div', { class: 'ticket' }, this.head,
      h('div', { class: 'ticket-body' },
        h('section', { class: 'ticket-main', 'aria-label': 'Messages' }, scroller, this.composerBox),
        aside)));
    this.drawHead();
    this.thread.add(view.events || []);
    this.thread.setDeliveries(view.deliveries || []);
    this.thread.scrollToEnd();
    this.drawComposer();
    this.onRowChange(row);
    this.markRead();
  }

  drawHead() {
    const row = this.row;
    const snoozed = row.status === 'snoozed' && row.snoozed_until
      ? h('span', { class: 'muted small' }, `until ${new Date(row.snoozed_until).toLocaleString(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}`)
      : null;
    replace(this.head,
      h('button', { type: 'button', class: 'btn btn-icon back', 'aria-label': 'Back to the list', on: { click: () => this.onBack() } }, icon('back')),
      avatar(this.name, row.profile?.id),
      h('div', { class: 'ticket-title' },
        h('h2', { class: 'ticket-name' }, this.name),
        h('div', { class: 'ticket-sub' }, channelIcon(row.channel), statusChip(row.status), snoozed)),
      ticketActions(row, this.me, (r, force) => this.onRow(r, force)),
      h('button', {
        type: 'button', class: 'btn btn-icon profile-toggle', 'aria-label': 'Customer profile', 'aria-pressed': 'false',
        on: { click: (e) => { const on = this.root.classList.toggle('show-profile'); e.currentTarget.setAttribute('aria-pressed', String(on)); } },
      }, icon('user')));
    this.headKey = headKey(row);
  }

  drawComposer() {
    if (this.row.status === 'closed') {
      this.composer = null;
      replace(this.composerBox, h('div', { class: 'composer-closed' }, icon('archive'),
        h('p', {}, 'This ticket is closed. A closed conversation cannot be reopened; if the customer writes again, a new ticket starts.')));
      return;
    }
    if (this.composer) return;
    this.composer = new Composer(this.composerBox, { ticket: this.id, thread: this.thread, channel: this.row.channel, onSent: () => this.refresh() });
  }

  // onRow takes the ticket's row, from an action's answer or the stream.
  onRow(row, force = false) {
    if (!this.row || row.id !== this.id) return;
    this.row = row;
    if (force || headKey(row) !== this.headKey) {
      this.drawHead();
      this.drawComposer();
    }
    this.onRowChange(row);
  }

  // changed is called for each stream row of this ticket: something was
  // added to it.
  changed(row) {
    this.onRow(row);
    this.refresh();
  }

  // refresh fetches the events after the last one shown (?after=); the
  // thread keeps each seq once whatever comes. One at a time; a change
  // meanwhile fetches again after.
  refresh() {
    if (!this.row) return Promise.resolve();
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    const gen = this.gen;
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          const view = await get(path('/api/v1/tickets', this.id) + query({ after: this.thread.lastSeq }));
          if (gen !== this.gen) return;
          const events = view.events || [];
          if (events.some((e) => e.event?.kind === 'message' && e.event.from === 'shopper' && !this.thread.seqs.has(e.seq))) this.thread.hideTyping();
          this.thread.add(events);
          this.thread.setDeliveries(view.deliveries || []);
          this.onRow(view.ticket);
        } catch { /* the stream's next change or reconnection fetches again */ }
      } while (this.again && gen === this.gen);
    })().finally(() => {
      this.refreshing = null;
      this.markRead();
    });
    return this.refreshing;
  }

  typing(t) {
    if (this.row && t.ticket === this.id && t.from === 'shopper') this.thread.showTyping(this.name.split(/\s+/)[0] || this.name);
  }

  markRead() {
    const row = this.row;
    if (!row || document.visibilityState !== 'visible' || row.status === 'closed' || !row.unread) return;
    const seq = this.thread.lastMessageSeq;
    if (!seq || seq <= this.readSent) return;
    this.readSent = seq;
    post(path('/api/v1/tickets', this.id, 'read'), { seq }).catch(() => { this.readSent = 0; });
  }

  focusComposer() {
    this.composer?.focus();
  }
}

function headKey(r) {
  return [r.status, r.assignee?.id || '', r.snoozed_until || '', r.profile?.name || ''].join('|');
}
