// The shopper's side of the protocol: who they are, their conversation, and
// the rule that makes a thread survive reloads and dropped connections
// without losing or repeating a message (S12):
//
//   - Every event of the conversation has a seq (1, 2, 3 … without gaps).
//     The session shows an event only if its seq is above the last one
//     shown (lastSeq), and says hello with resume {conversation, after:
//     lastSeq}, so the server sends exactly what was missed.
//   - A message the shopper sends is shown at once, keyed by its client_id,
//     and kept (in storage too) until the server has it: its echo (an event
//     carrying that client_id) puts it in its place in the thread instead of
//     showing it again; its ack marks it sent. After a reconnect or a
//     reload, what is still unacknowledged is sent again with the same
//     client_id, which the server never stores twice.
//
// The view (main.js wires the panel) is told what to show; the session
// never touches the DOM.

import { Connection } from "./socket.js";
import { Storage, profileOf } from "./storage.js";
import { randomID } from "./dom.js";

const MAX_CACHED_EVENTS = 500;

export class Session {
  constructor({ base, token, view, emit }) {
    this.base = base;
    this.server = new URL(base).host;
    this.view = view;
    this.emit = emit;
    this.welcome = null;
    this.agentName = "";
    this.conn = new Connection(socketURL(base), {
      hello: () => this.helloFrame(),
      onFrame: (f) => this.frame(f),
      onState: (s) => this.view.status(s),
    });
    this.conn.onRefused = () => {
      // The token did not verify (expired, or from another store): carry
      // on as an anonymous visitor, and tell the store, which may call
      // identify with a fresh one.
      this.emit("unauthorized", {});
      this.useToken(null);
      this.conn.restart();
    };
    this.useToken(token);
  }

  start() {
    this.conn.start();
  }

  // identify switches to another shopper (or to an anonymous visitor).
  identify(token) {
    token = token || null;
    if (token === this.token) return;
    this.useToken(token);
    if (!this.conn.stopped) this.conn.restart(); // else start() connects with it
  }

  useToken(token) {
    this.token = token;
    const profile = token ? profileOf(token) : null;
    this.store = profile ? new Storage(this.server, profile) : null;
    const rec = this.store ? this.store.load() : null;
    this.conversation = rec && rec.conversation;
    this.ended = !!(rec && rec.ended);
    this.lastSeq = rec ? rec.lastSeq : 0;
    this.readSeq = rec ? rec.readSeq : 0;
    this.events = [];
    this.pending = new Map();
    this.liveAfter = Infinity;
    this.agentName = "";
    this.unreadCount = -1;
    this.view.reset();
    if (this.conversation && this.ended) {
      // An ended chat is not shown again on the next page view.
      this.conversation = null;
      this.ended = false;
      this.lastSeq = this.readSeq = 0;
    } else if (this.conversation && rec.events && (rec.events.length === 0 || rec.events[0].seq === 1)) {
      for (const e of rec.events) this.show(e, false);
    } else {
      this.lastSeq = 0; // no copy of the thread: replay it all
    }
    for (const p of rec ? rec.pending : []) {
      this.pending.set(p.client_id, p);
      this.view.pending(p);
    }
    this.save();
    this.unread();
  }

  helloFrame() {
    const f = { type: "hello" };
    if (this.token) f.token = this.token;
    if (this.token && this.conversation) f.resume = { conversation: this.conversation, after: this.lastSeq };
    return f;
  }

  frame(f) {
    switch (f.type) {
      case "welcome":
        return this.welcomed(f);
      case "event":
        return this.event(f);
      case "ack":
        return this.acked(f);
      case "faq.answer":
        return this.view.faqAnswer(f);
      case "typing":
        if (f.from === "agent" && f.conversation === this.conversation) this.view.typing(this.agentName);
        return;
      case "error":
        return this.refused(f);
    }
  }

  welcomed(w) {
    this.welcome = w;
    const open = w.conversation;
    if (open && open.id !== this.conversation) {
      // A chat this browser has no copy of (started in another browser, or
      // storage was cleared): fetch its whole log.
      this.adopt(open.id);
      this.conn.restart();
      return;
    }
    this.liveAfter = open ? open.last_seq : Infinity;
    if (!open && this.conversation && !this.ended) {
      // It ended while this page was away (the resumed log brings its
      // ended event), or the server no longer has it: either way it takes
      // no more messages.
      this.ended = true;
      this.failAll("This chat has ended, so this message was not sent.");
    }
    this.view.welcome(w, { conversation: this.conversation, ended: this.ended });
    if (open) this.flush();
  }

  // adopt makes id the conversation shown, from an empty thread.
  adopt(id) {
    this.conversation = id;
    this.ended = false;
    this.lastSeq = 0;
    this.readSeq = 0;
    this.events = [];
    this.agentName = "";
    this.liveAfter = 0;
    this.view.reset();
    for (const p of this.pending.values()) this.view.pending(p);
    this.save();
  }

  event(f) {
    if (f.conversation !== this.conversation) {
      if (this.conversation && !this.ended) return; // an old conversation's replay
      // A new chat: this tab's chat.start, or one started in another tab.
      this.adopt(f.conversation);
      if (f.seq !== 1) {
        this.conn.restart(); // its beginning is missing: fetch the whole log
        return;
      }
    }
    if (f.seq <= this.lastSeq) return; // shown already
    if (f.seq !== this.lastSeq + 1) {
      this.conn.restart(); // a gap: resume from what was shown
      return;
    }
    this.show(f, f.seq > this.liveAfter);
    this.save();
  }

  // answersByEmail reports whether the chat was last handed to a helpdesk
  // that answers by e-mail (Zendesk, Gorgias), which ends it.
  answersByEmail() {
    let target = "";
    for (const e of this.events) if (e.event.kind === "handoff") target = e.event.target;
    return target === "zendesk" || target === "gorgias";
  }

  // show puts one event in the thread and moves lastSeq.
  show(f, live) {
    const ev = f.event || {};
    this.lastSeq = f.seq;
    this.events.push({ seq: f.seq, at: f.at, event: ev });
    if (ev.kind === "seen" && ev.by === "shopper" && ev.up_to > this.readSeq) this.readSeq = ev.up_to;
    if (ev.kind === "assigned") this.agentName = (ev.agent && ev.agent.name) || this.agentName;
    if (ev.kind === "message" && ev.from === "agent" && ev.author) this.agentName = ev.author;
    if (ev.kind === "ended") {
      this.ended = true;
      this.failAll("This chat has ended, so this message was not sent.");
    }
    const mine = ev.kind === "message" && ev.from === "shopper" && ev.client_id && this.pending.get(ev.client_id);
    if (mine) {
      this.pending.delete(ev.client_id);
      this.view.confirmed(ev.client_id, f);
    } else {
      this.view.event(f, live);
    }
    if (ev.kind === "message" && live) {
      this.emit("message", {
        conversation: this.conversation, seq: f.seq, at: f.at, from: ev.from, author: ev.author || "",
        text: ev.text || "", attachments: ev.attachments || [],
      });
    }
    this.unread();
  }

  acked(f) {
    const p = this.pending.get(f.client_id);
    if (p) {
      p.acked = true;
      this.view.sent(f.client_id);
    }
  }

  refused(f) {
    if (f.client_id && this.pending.has(f.client_id)) {
      const p = this.pending.get(f.client_id);
      if (f.code === "rate_limited") {
        setTimeout(() => this.conn.send(this.sendFrame(p)), 1000);
        return;
      }
      if (f.code === "unavailable" || f.code === "internal") return; // sent again after the reconnect
      this.pending.delete(f.client_id);
      const why = f.code === "closed" || f.code === "no_open_conversation"
        ? "This chat has ended, so this message was not sent."
        : "This message could not be sent" + (f.message ? ": " + f.message : ".");
      this.view.failed(f.client_id, why);
      this.save();
      return;
    }
    this.view.error(f);
  }

  // startChat asks for a live session (S4); the started event adopts it.
  startChat() {
    return this.conn.send({ type: "chat.start" });
  }

  // sendMessage shows the message at once and sends it when it can.
  sendMessage(text, attachments = []) {
    const p = { client_id: randomID(), text, attachments, at: new Date().toISOString(), conversation: this.conversation };
    this.pending.set(p.client_id, p);
    this.view.pending(p);
    this.save();
    this.conn.send(this.sendFrame(p));
    return p;
  }

  sendFrame(p) {
    const f = { type: "message.send", client_id: p.client_id, text: p.text, conversation: p.conversation };
    if (p.attachments.length) f.attachments = p.attachments;
    return f;
  }

  // flush sends again every message not yet acknowledged, in order.
  flush() {
    for (const p of this.pending.values()) this.conn.send(this.sendFrame(p));
  }

  failAll(why) {
    for (const id of this.pending.keys()) this.view.failed(id, why);
    this.pending.clear();
    this.save();
  }

  pickFAQ(id) {
    return this.conn.send({ type: "faq.pick", faq: id });
  }

  typing() {
    if (this.conversation && !this.ended) this.conn.send({ type: "typing", conversation: this.conversation });
  }

  endChat() {
    if (this.conversation && !this.ended) this.conn.send({ type: "chat.end", conversation: this.conversation });
  }

  // read reports that the shopper has seen the messages up to seq (S11).
  read(seq) {
    if (!this.conversation || seq <= this.readSeq) return;
    if (this.conn.send({ type: "read", conversation: this.conversation, seq })) {
      this.readSeq = seq;
      this.save();
      this.unread();
    }
  }

  // unread counts the others' messages after the read mark.
  unread() {
    let n = 0;
    for (const e of this.events) {
      if (e.seq > this.readSeq && e.event.kind === "message" && e.event.from !== "shopper") n++;
    }
    if (n !== this.unreadCount) {
      this.unreadCount = n;
      this.view.unread(n);
      this.emit("unread", { count: n });
    }
  }

  save() {
    if (!this.store) return;
    this.store.save({
      conversation: this.conversation, ended: this.ended, lastSeq: this.lastSeq, readSeq: this.readSeq,
      events: this.events.length <= MAX_CACHED_EVENTS ? this.events : null, pending: [...this.pending.values()],
    });
  }

  uploadURL() {
    return new URL("api/v1/uploads", this.base).href;
  }
}

function socketURL(base) {
  const u = new URL("ws", base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}
