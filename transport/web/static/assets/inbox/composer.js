// The reply box (H5, S7): text with Enter to send and Shift+Enter for a new
// line, several messages in a row (each with a fresh client_id, sent in
// order), images (uploaded first, then attached), emoji, and macros —
// sent as they are, or put in the box to edit, their placeholders filled
// in by the server for this customer. While the agent types, the customer
// sees it (POST …/typing, at most every 2 s). In an SMS ticket (I2) a count
// under the reply says how much of a text's 1,600 characters it takes.

import { get, path, post } from './api.js';
import { h, replace } from './dom.js';
import { icon } from './icons.js';
import { popover } from './popover.js';

const emoji = ['😀', '😊', '🙂', '😉', '😍', '🥳', '😅', '😂', '🤔', '😮', '😢', '🙏', '👍', '👎', '👋', '👏', '🙌', '💪', '🎉', '✨',
  '❤️', '💙', '🔥', '⭐', '✅', '❌', '⚠️', '📦', '🚚', '🛒', '💳', '🧾', '📧', '📞', '⏰', '📅', '🎁', '☕', '🌟', '💡'];

const images = 'image/png,image/jpeg,image/gif,image/webp';

// smsLimit is the most characters one answer by SMS may have: the provider
// joins up to that many into one message on the phone (the server refuses
// more, naming the text).
const smsLimit = 1600;

let macroCache = { at: 0, list: null };

async function macros(force) {
  if (force || !macroCache.list || Date.now() - macroCache.at > 30e3) {
    const res = await get('/api/v1/macros');
    macroCache = { at: Date.now(), list: res.macros || [] };
  }
  return macroCache.list;
}

export class Composer {
  constructor(root, { ticket, thread, onSent, channel = 'webchat' }) {
    this.root = root;
    this.ticket = ticket;
    this.sms = channel === 'sms';
    this.thread = thread;
    this.onSent = onSent;
    this.attachments = []; // {url, content_type, preview} uploaded, or {uploading}
    this.macro = null;
    this.queue = Promise.resolve();
    this.lastTyping = 0;
    this.build();
  }

  build() {
    this.input = h('textarea', {
      id: 'reply', class: 'composer-input', rows: '2', 'aria-label': 'Reply', placeholder: 'Write a reply…',
      'aria-describedby': this.sms ? 'composer-hint composer-count composer-error' : 'composer-hint composer-error',
      on: { keydown: (e) => this.keydown(e), input: () => this.typed(), paste: (e) => this.pasted(e) },
    });
    this.error = h('p', { id: 'composer-error', class: 'composer-error', role: 'alert' });
    this.macroChip = h('div', { class: 'composer-macro', hidden: true });
    this.tray = h('ul', { class: 'composer-tray', hidden: true, 'aria-label': 'Attachments' });
    this.file = h('input', {
      type: 'file', accept: images, multiple: true, class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true',
      on: { change: () => this.upload([...this.file.files]).finally(() => { this.file.value = ''; }) },
    });
    const attach = h('button', {
      type: 'button', class: 'btn btn-icon', 'aria-label': 'Attach image', title: 'Attach image',
      on: { click: () => this.file.click() },
    }, icon('paperclip'));
    const emojiPop = popover({
      label: 'Emoji', content: icon('smile'), className: 'btn-icon', up: true, title: 'Emoji',
      fill: (panel, pop) => replace(panel, h('div', { class: 'emoji-grid' }, emoji.map((e) => h('button', {
        type: 'button', class: 'emoji', on: { click: () => { this.insert(e); pop.close(false); this.input.focus(); } },
      }, e)))),
    });
    const macroPop = popover({
      label: 'Macros', content: [icon('bolt'), h('span', { class: 'btn-text' }, 'Macros')], className: 'btn-ghost btn-sm', up: true,
      fill: (panel, pop) => this.fillMacros(panel, pop),
    });
    this.send = h('button', { type: 'button', class: 'btn btn-primary', on: { click: () => this.submit() } },
      icon('send'), h('span', {}, 'Send'));
    this.send.setAttribute('aria-label', 'Send');
    this.count = this.sms ? h('p', { id: 'composer-count', class: 'composer-count' }) : null;
    const box = h('div', { class: 'composer-box', on: { dragover: (e) => e.preventDefault(), drop: (e) => this.dropped(e) } },
      this.macroChip, this.input, this.count, this.tray,
      h('div', { class: 'composer-bar' },
        attach, this.file, emojiPop.wrap, macroPop.wrap,
        h('span', { id: 'composer-hint', class: 'composer-hint' }, h('kbd', {}, 'Enter'), ' to send · ', h('kbd', {}, 'Shift'), '+', h('kbd', {}, 'Enter'), ' new line'),
        this.send));
    replace(this.root, this.error, box);
    this.measure();
  }

  // measure counts the characters of the reply as it will be sent (what
  // the server counts: each character once, an emoji too) against the
  // SMS limit.
  measure() {
    if (!this.count) return;
    const n = [...this.outgoing()].length;
    const over = n > smsLimit;
    this.count.classList.toggle('is-over', over);
    replace(this.count, h('span', { class: 'visually-hidden' }, 'Characters of the text: '), `${n} / ${smsLimit}`,
      over ? h('span', { class: 'count-over' }, ' · too long for a text') : null);
  }

  // outgoing is the reply's text as it is sent: without blank lines before
  // it or spaces after it.
  outgoing() {
    return this.input.value.replace(/^\s*\n|\s+$/g, '');
  }

  focus() {
    this.input.focus();
  }

  keydown(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.submit();
    }
  }

  // typed tells the customer an agent is typing, at most every 2 s.
  typed() {
    this.autosize();
    if (this.error.textContent && this.input.value) this.error.textContent = '';
    if (!this.input.value.trim()) {
      if (this.macro && !this.input.value) this.setMacro(null);
      return;
    }
    const now = Date.now();
    if (now - this.lastTyping < 2000) return;
    this.lastTyping = now;
    post(path('/api/v1/tickets', this.ticket, 'typing')).catch(() => {});
  }

  autosize() {
    this.input.classList.toggle('is-tall', this.input.value.split('\n').length > 2 || this.input.value.length > 160);
    this.measure();
  }

  insert(text) {
    const el = this.input;
    const start = el.selectionStart ?? el.value.length, end = el.selectionEnd ?? el.value.length;
    el.setRangeText(text, start, end, 'end');
    this.typed();
  }

  setMacro(m) {
    this.macro = m;
    this.macroChip.hidden = !m;
    if (!m) return this.macroChip.replaceChildren();
    replace(this.macroChip, icon('bolt'), h('span', {}, 'Macro ', h('strong', {}, m.name), ' · placeholders are filled in for this customer when sent'),
      h('button', { type: 'button', class: 'btn btn-icon btn-xs', 'aria-label': 'Stop using the macro', on: { click: () => { this.setMacro(null); this.input.focus(); } } }, icon('x')));
  }

  async fillMacros(panel, pop) {
    const search = h('input', { type: 'search', class: 'input input-sm', placeholder: 'Search macros', 'aria-label': 'Search macros' });
    const list = h('ul', { class: 'macro-list' });
    replace(panel, search, list);
    let all = [];
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      const shown = all.filter((m) => !q || m.name.toLowerCase().includes(q) || m.body.toLowerCase().includes(q));
      if (!shown.length) return replace(list, h('li', { class: 'muted small macro-empty' }, all.length ? 'No macro matches.' : 'No macros yet. Admins add them in Settings.'));
      replace(list, shown.map((m) => h('li', { class: 'macro' },
        h('div', { class: 'macro-text' }, h('div', { class: 'macro-name' }, m.name), h('div', { class: 'macro-body' }, m.body)),
        h('div', { class: 'macro-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost btn-xs', 'aria-label': `Insert ${m.name}`, on: { click: () => { this.useMacro(m); pop.close(false); } } }, 'Insert'),
          h('button', { type: 'button', class: 'btn btn-primary btn-xs', 'aria-label': `Send ${m.name}`, on: { click: () => { pop.close(false); this.sendMacro(m); } } }, 'Send')))));
    };
    search.addEventListener('input', draw);
    list.append(h('li', { class: 'muted small macro-empty' }, 'Loading…'));
    try {
      all = await macros(true);
      draw();
    } catch (e) {
      replace(list, h('li', { class: 'error-text small macro-empty' }, e.message));
    }
  }

  // useMacro puts the macro in the box to edit; it is sent as the macro
  // with the edited text.
  useMacro(m) {
    if (this.input.value.trim()) this.insert(m.body);
    else {
      this.input.value = m.body;
      this.autosize();
    }
    this.setMacro(m);
    this.input.focus();
  }

  // sendMacro sends a macro as it is, with what is attached.
  sendMacro(m) {
    this.post({ macro: m.id }, `Macro “${m.name}”`, [], { macro: m, text: m.body });
  }

  submit() {
    if (this.attachments.some((a) => a.uploading)) {
      this.error.textContent = 'Wait for the image to finish uploading.';
      return;
    }
    const text = this.outgoing();
    const atts = this.attachments.map((a) => ({ url: a.url, content_type: a.content_type }));
    if (!text.trim() && !atts.length) return;
    const body = {};
    if (text.trim()) body.text = text;
    if (atts.length) body.attachments = atts;
    if (this.macro) body.macro = this.macro.id;
    const draft = { text: this.input.value, macro: this.macro, attachments: this.attachments };
    this.input.value = '';
    this.setMacro(null);
    this.attachments = [];
    this.drawTray();
    this.autosize();
    this.post(body, text, atts, draft);
    this.input.focus();
  }

  // post queues one reply: replies go out one after the other, in the
  // order they were written. A refused one comes back into the box.
  post(body, shown, atts, draft) {
    body.client_id = crypto.randomUUID();
    this.error.textContent = '';
    this.thread.addPending(body.client_id, shown, atts);
    this.queue = this.queue.then(async () => {
      try {
        const res = await post(path('/api/v1/tickets', this.ticket, 'messages'), body);
        this.onSent(res.seq);
      } catch (e) {
        // "text: is longer than …" reads "The reply is longer than …".
        const about = e.about ? e.about(e.field === 'text' ? 'The reply' : '') : e.message;
        const why = about.charAt(0).toUpperCase() + about.slice(1);
        this.thread.failPending(body.client_id, why);
        this.error.textContent = why;
        if (!this.input.value && draft) {
          this.input.value = draft.text;
          this.setMacro(draft.macro);
          this.attachments = draft.attachments || [];
          this.drawTray();
          this.autosize();
        }
      }
    });
  }

  pasted(e) {
    const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith('image/'));
    if (!files.length) return;
    e.preventDefault();
    this.upload(files);
  }

  dropped(e) {
    const files = [...(e.dataTransfer?.files || [])].filter((f) => f.type.startsWith('image/'));
    if (!files.length) return;
    e.preventDefault();
    this.upload(files);
  }

  // upload sends each image to POST /api/v1/uploads; the answered URLs go
  // with the next reply.
  async upload(files) {
    this.error.textContent = '';
    await Promise.all(files.map(async (f) => {
      const item = { uploading: true, preview: URL.createObjectURL(f), name: f.name };
      this.attachments.push(item);
      this.drawTray();
      const form = new FormData();
      form.append('file', f);
      try {
        const res = await post('/api/v1/uploads', form);
        Object.assign(item, { uploading: false, url: res.url, content_type: res.content_type });
      } catch (e) {
        this.attachments = this.attachments.filter((a) => a !== item);
        URL.revokeObjectURL(item.preview);
        this.error.textContent = `${f.name}: ${e.about ? e.about() : e.message}`;
      }
      this.drawTray();
    }));
  }

  drawTray() {
    this.tray.hidden = !this.attachments.length;
    replace(this.tray, this.attachments.map((a) => h('li', { class: ['tray-item', a.uploading && 'is-uploading'] },
      h('img', { src: a.preview, alt: a.name || 'Image to send' }),
      a.uploading ? h('span', { class: 'tray-state' }, 'Uploading…') : null,
      h('button', {
        type: 'button', class: 'tray-remove', 'aria-label': `Remove ${a.name || 'image'}`,
        on: { click: () => { this.attachments = this.attachments.filter((x) => x !== a); this.drawTray(); this.input.focus(); } },
      }, icon('x')))));
  }

  disable(reason) {
    replace(this.root, h('div', { class: 'composer-closed' }, icon('archive'), h('p', {}, reason)));
  }
}
