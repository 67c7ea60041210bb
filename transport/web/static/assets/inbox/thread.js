// A ticket's thread: the conversation's events in seq order (PROTOCOL §2).
// Messages are told apart by who wrote them (the customer on the left, the
// team on the right, the AI and the system set apart); the customer's
// `seen` receipts mark the agents' messages they cover as seen (H7);
// images are shown inline only when they are this server's uploads. In an
// SMS ticket (I2) the provider's delivery reports (the ticket view's
// `deliveries`, which agents alone see) set the line under each answer.

import { clock, dayLabel, fullTime, h, httpURL, ownUpload } from './dom.js';
import { icon } from './icons.js';

export class Thread {
  constructor(root, { customer, channel = 'webchat' }) {
    this.root = root;
    this.customer = customer;
    this.sms = channel === 'sms';
    this.messages = new Map(); // seq → element of each message
    this.deliveries = new Map(); // seq → the best delivery report of that message
    this.seqs = new Set();
    this.lastDay = '';
    this.seenUpTo = 0; // the customer's receipt
    this.receipts = []; // [seq, element] of the agents' messages
    this.pending = new Map(); // client_id → element of a reply on its way
    this.lastMessageSeq = 0;
    this.handedTo = ''; // the target of the latest handoff
    this.prevKey = '';
    this.prevAt = 0;
    this.list = h('ol', { class: 'thread', 'aria-label': 'Conversation' });
    this.typing = h('p', { class: 'typing', hidden: true, 'aria-live': 'polite' });
    this.typingTimer = 0;
    root.replaceChildren(this.list, this.typing);
  }

  get lastSeq() {
    return this.seqs.size ? Math.max(...this.seqs) : 0;
  }

  // add appends the events not shown yet, in seq order; it reports whether
  // any was new.
  add(events) {
    const fresh = events.filter((e) => !this.seqs.has(e.seq)).sort((a, b) => a.seq - b.seq);
    if (!fresh.length) return false;
    const stick = this.nearBottom();
    for (const e of fresh) {
      this.seqs.add(e.seq);
      this.render(e);
    }
    this.updateReceipts();
    if (stick) this.scrollToEnd();
    return true;
  }

  nearBottom() {
    const s = this.root;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  scrollToEnd() {
    this.root.scrollTop = this.root.scrollHeight;
  }

  render(entry) {
    const ev = entry.event || {};
    const day = dayLabel(entry.at);
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.prevKey = '';
      this.list.append(h('li', { class: 'day' }, h('span', {}, day)));
    }
    switch (ev.kind) {
      case 'message':
        this.lastMessageSeq = Math.max(this.lastMessageSeq, entry.seq);
        if (ev.from === 'agent' && ev.client_id) {
          this.pending.get(ev.client_id)?.remove();
          this.pending.delete(ev.client_id);
        }
        this.list.append(this.message(entry, ev));
        break;
      case 'seen':
        if (ev.by === 'shopper') this.seenUpTo = Math.max(this.seenUpTo, ev.up_to || 0);
        break;
      case 'started':
        this.prevKey = '';
        this.list.append(note(entry, 'Chat started', ev.welcome ? `Welcome shown: “${ev.welcome}”` : ''));
        break;
      case 'assigned':
        this.prevKey = '';
        this.list.append(note(entry, ev.agent ? `Assigned to ${ev.agent.name}` : 'Unassigned'));
        break;
      case 'handoff': {
        // A handoff to the Helpdesk right after one to Zendesk or Gorgias
        // is the fallback: that helpdesk did not take the ticket.
        const fallback = ev.target === 'helpdesk' && helpdesks[this.handedTo];
        this.handedTo = ev.target;
        this.prevKey = '';
        this.list.append(note(entry, fallback ? `${fallback} did not take it: handed to your team`
          : handoffs[ev.target] || `The AI handed the chat to ${ev.target}`, '', 'note-handoff'));
        break;
      }
      case 'ended':
        this.prevKey = '';
        this.list.append(note(entry, ev.by === 'shopper' ? 'The customer ended the chat' : ev.by === 'agent' ? 'Closed by an agent' : 'The chat ended'));
        break;
      default:
        break;
    }
  }

  message(entry, ev) {
    const from = ['shopper', 'agent', 'ai', 'system'].includes(ev.from) ? ev.from : 'system';
    const author = from === 'shopper' ? (ev.author || this.customer) : from === 'ai' ? (ev.author || 'AI assistant') : from === 'system' ? 'Automatic reply' : (ev.author || 'Agent');
    // A text has no "seen": its delivery reports say what became of it.
    const receipt = from === 'agent' && !this.sms ? h('span', { class: 'receipt' }) : null;
    // Messages in a row from the same person within minutes form a group
    // under one name.
    const key = `${from}\u0000${author}`, at = Date.parse(entry.at);
    const grouped = key === this.prevKey && at - this.prevAt < 5 * 60e3;
    this.prevKey = key;
    this.prevAt = at;
    const li = h('li', { class: ['msg', `msg-${from}`, grouped && 'is-grouped'], dataset: { seq: String(entry.seq), from } },
      grouped ? null : h('div', { class: 'msg-author' }, author),
      h('div', { class: 'bubble' },
        ev.text ? h('p', { class: 'msg-text' }, ev.text) : null,
        attachments(ev.attachments)),
      h('div', { class: 'msg-meta' },
        h('time', { datetime: entry.at, title: fullTime(entry.at) }, clock(entry.at)),
        receipt));
    if (receipt) this.receipts.push([entry.seq, receipt]);
    this.messages.set(entry.seq, li);
    // An answer is on its way as a text from the moment it is stored.
    if (this.sms && from === 'agent' && !this.deliveries.has(entry.seq)) this.deliveries.set(entry.seq, { rank: 0, status: 'queued' });
    this.drawDelivery(entry.seq);
    return li;
  }

  // setDeliveries takes the ticket's delivery reports, one per message
  // ({message, status, error, at}). They never take a message back:
  // delivered beats sent beats queued, and a failure is final.
  setDeliveries(list) {
    for (const d of list) {
      const rank = deliveryRank[d.status];
      if (!rank || !d.message) continue;
      const best = this.deliveries.get(d.message);
      if (best && rank < best.rank) continue;
      this.deliveries.set(d.message, { rank, status: d.status, error: d.error || '', at: d.at });
      this.drawDelivery(d.message);
    }
  }

  // drawDelivery shows the delivery line of message seq, once both the
  // message and a report of it are there.
  drawDelivery(seq) {
    const li = this.messages.get(seq), d = this.deliveries.get(seq);
    if (!li || !d) return;
    const meta = li.querySelector('.msg-meta');
    let el = meta.querySelector('.delivery');
    if (!el) {
      el = h('span', { class: 'delivery' });
      meta.append(el);
    }
    const failed = d.rank === failedRank;
    el.className = `delivery is-${failed ? 'failed' : d.status}`;
    if (d.at) el.title = `Reported ${fullTime(d.at)}`;
    li.classList.toggle('is-undelivered', failed);
    const words = failed ? `Not delivered${d.error ? `: ${d.error}` : ''}` : deliveryWords[d.status];
    el.replaceChildren(icon(deliveryIcons[failed ? 'failed' : d.status]), h('span', {}, words));
  }

  // updateReceipts marks each agent message as sent or seen by the
  // customer. Each carries its mark; the words are shown only under the
  // latest seen one and the latest one (for screen readers, under all).
  updateReceipts() {
    let lastSeen = 0;
    for (const [seq] of this.receipts) if (seq <= this.seenUpTo) lastSeen = seq;
    const last = this.receipts.length ? this.receipts[this.receipts.length - 1][0] : 0;
    for (const [seq, el] of this.receipts) {
      const seen = seq <= this.seenUpTo;
      const state = `${seen ? 'seen' : 'sent'}${seq === lastSeen || seq === last ? '-shown' : ''}`;
      if (el.dataset.state === state) continue;
      el.dataset.state = state;
      el.classList.toggle('is-seen', seen);
      const words = seen ? 'Seen' : 'Sent';
      el.replaceChildren(icon(seen ? 'checks' : 'check'), state.endsWith('-shown') ? words : h('span', { class: 'visually-hidden' }, words));
    }
  }

  // addPending shows a reply on its way until its event arrives.
  addPending(clientID, text, atts) {
    const li = h('li', { class: 'msg msg-agent is-pending', dataset: { client: clientID } },
      h('div', { class: 'bubble' }, text ? h('p', { class: 'msg-text' }, text) : null, attachments(atts)),
      h('div', { class: 'msg-meta' }, h('span', { class: 'receipt' }, 'Sending…')));
    this.pending.set(clientID, li);
    this.list.append(li);
    this.scrollToEnd();
  }

  failPending(clientID, message) {
    const li = this.pending.get(clientID);
    if (!li) return;
    li.classList.add('is-failed');
    li.querySelector('.receipt').textContent = `Not sent: ${message}`;
    this.pending.delete(clientID);
  }

  // showTyping says the customer is typing, until they stop for a while.
  showTyping(name) {
    const stick = this.nearBottom();
    this.typing.textContent = `${name} is typing…`;
    this.typing.hidden = false;
    if (stick) this.scrollToEnd();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), 4000);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  }
}

// What a text's delivery reports say (I2), from "on its way" to final.
const failedRank = 4;
const deliveryRank = { queued: 1, sent: 2, delivered: 3, undelivered: failedRank, failed: failedRank };
const deliveryWords = { queued: 'Sending…', sent: 'Sent', delivered: 'Delivered' };
const deliveryIcons = { queued: 'clock', sent: 'check', delivered: 'checks', failed: 'alert' };

// handoffs say where the AI agent handed the conversation (S10); helpdesks
// names the other helpdesks it may hand off to.
const helpdesks = { zendesk: 'Zendesk', gorgias: 'Gorgias' };
const handoffs = {
  helpdesk: 'The AI handed the chat to your team',
  zendesk: 'The AI handed the chat to Zendesk',
  gorgias: 'The AI handed the chat to Gorgias',
  message: 'The AI could not answer and gave the customer the handoff message',
};

function note(entry, text, detail = '', kind = '') {
  return h('li', { class: ['note', kind], dataset: { seq: String(entry.seq) } },
    h('span', {}, text, detail ? h('span', { class: 'note-detail' }, ` · ${detail}`) : null,
      ' · ', h('time', { datetime: entry.at, title: fullTime(entry.at) }, clock(entry.at))));
}

// attachments shows this server's images inline and any other URL as a
// plain link (never fetched by the page); what is not http(s) as text.
export function attachments(list) {
  if (!Array.isArray(list) || !list.length) return null;
  return h('div', { class: 'attachments' }, list.map((a) => {
    const url = typeof a?.url === 'string' ? a.url : '';
    const image = String(a?.content_type || '').startsWith('image/');
    if (image && ownUpload(url)) {
      return h('a', { class: 'attachment-image', href: url, target: '_blank', rel: 'noopener noreferrer' },
        h('img', { src: url, alt: 'Image attachment', loading: 'lazy', decoding: 'async' }));
    }
    const safe = httpURL(url);
    const label = url.length > 80 ? `${url.slice(0, 77)}…` : url;
    return safe
      ? h('a', { class: 'attachment-link', href: safe, target: '_blank', rel: 'noopener noreferrer nofollow' }, icon('paperclip'), label)
      : h('span', { class: 'attachment-link' }, icon('paperclip'), label);
  }));
}
