// The thread: the conversation's events as the shopper sees them, in a
// role="log" region that screen readers follow. The shopper's, agents', AI
// and system messages look different; assignments and the end are quiet
// notices (a hand-off is told by the system message after it). Messages
// not yet confirmed stay at the end, after every event with a seq.
//
// Everything written here by someone else goes in as text: el() and
// linkify() never parse HTML, and only http(s) links are made.

import { el, icon, initials, linkify, safeURL } from "./dom.js";

export class Thread {
  // base is the Parley server's URL (its uploads are shown inline);
  // onRead(seq) is called with the seq of the latest message from the
  // others that is in view while the panel is open and the page visible.
  constructor({ base, team, onRead, isOpen }) {
    this.origin = new URL(base).origin;
    this.team = team || "Support";
    this.onRead = onRead;
    this.isOpen = isOpen;
    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
    this.typingNote = el("div", { class: "typing", role: "status", hidden: true });
    this.node = el("div", { class: "thread" }, this.log, this.typingNote);
    this.visible = new Set();
    // Whether the thread follows its end: true until the shopper scrolls up
    // to read back, true again once they are back at the end.
    this.stuck = true;
    this.log.addEventListener("scroll", () => {
      if (this.log.scrollTop !== this.autoTop) this.stuck = this.atBottom(); // the shopper scrolled
    }, { passive: true });
    // A smaller panel (a phone's keyboard opening) keeps the end in view.
    new ResizeObserver(() => this.scroll()).observe(this.log);
    this.observer = new IntersectionObserver((entries) => this.observed(entries), { root: this.log, threshold: 0.5 });
    document.addEventListener("visibilitychange", () => this.checkRead());
    this.reset();
  }

  reset() {
    this.log.replaceChildren();
    this.observer.disconnect();
    this.visible.clear();
    this.bySeq = new Map(); // seq → message element
    this.byClient = new Map(); // client_id → the shopper's message element
    this.stuck = true;
    this.seenUpTo = 0;
    this.spoke = new Set(); // agents who wrote in this thread
    this.links = null;
    this.terms = null;
    this.hideTyping();
  }

  // setLinks shows the terms and privacy links under the welcome (S5).
  setLinks(links) {
    this.links = links && (safeURL(links.terms) || safeURL(links.privacy)) ? links : null;
    this.placeTerms();
  }

  placeTerms() {
    if (this.terms) this.terms.remove();
    this.terms = null;
    const started = this.log.querySelector(".welcome");
    if (!this.links || !started) return;
    const terms = safeURL(this.links.terms), privacy = safeURL(this.links.privacy);
    const parts = ["By chatting with us you agree to our "];
    const link = (href, text) => el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
    if (terms) parts.push(link(terms, "Terms of Service"));
    if (terms && privacy) parts.push(" and ");
    if (privacy) parts.push(link(privacy, "Privacy Policy"));
    parts.push(".");
    this.terms = el("p", { class: "terms" }, parts);
    started.after(this.terms);
  }

  // add shows one event of the log.
  add(f) {
    const ev = f.event || {};
    switch (ev.kind) {
      case "started":
        this.place(this.message({ from: "welcome", text: ev.welcome || "" }, f));
        this.placeTerms();
        break;
      case "message":
        if (ev.from === "agent" || ev.from === "ai") this.hideTyping();
        if (ev.from === "agent" && ev.author) this.spoke.add(ev.author);
        this.place(ev.from === "system" ? this.notice(ev.text || "", f, "system") : this.message(ev, f));
        break;
      case "seen":
        if (ev.by === "agent") this.seen(ev.up_to);
        break;
      case "assigned":
        // Replying assigns (H6): an agent already in the thread needs no
        // introduction.
        if (ev.agent && ev.agent.name && !this.spoke.has(ev.agent.name)) {
          this.place(this.notice(ev.agent.name + " joined the chat", f));
        }
        break;
      case "handoff":
        // The server tells the shopper what happens next in a system
        // message right after it: a notice of our own would say it twice.
        break;
      case "ended":
        this.hideTyping();
        this.place(this.notice(ev.by === "shopper" ? "You ended the chat" : "The chat has ended", f, "ended"));
        break;
    }
  }

  // pending shows a message of the shopper's that the server does not
  // have yet, at the end of the thread.
  pending(p) {
    if (this.byClient.has(p.client_id)) return;
    const node = this.message({ from: "shopper", text: p.text, attachments: p.attachments }, null);
    node.classList.add("pending");
    this.status(node, "Sending…");
    this.byClient.set(p.client_id, node);
    this.log.append(node);
    this.scroll(true);
  }

  sent(clientID) {
    const node = this.byClient.get(clientID);
    if (node && node.classList.contains("pending")) this.status(node, "Sent");
  }

  // confirmed puts a pending message in its place: its echo arrived.
  confirmed(clientID, f) {
    const node = this.byClient.get(clientID);
    if (!node) return this.add(f);
    node.classList.remove("pending");
    node.dataset.seq = String(f.seq);
    this.bySeq.set(f.seq, node);
    this.status(node, f.seq <= this.seenUpTo ? "Seen" : "Sent");
    this.place(node);
  }

  failed(clientID, why) {
    const node = this.byClient.get(clientID);
    if (!node) return;
    node.classList.remove("pending");
    node.classList.add("failed");
    this.byClient.delete(clientID);
    this.status(node, why);
  }

  // place puts node after every confirmed event and before the pending.
  place(node) {
    const firstPending = this.log.querySelector(":scope > .pending");
    if (firstPending && firstPending !== node) this.log.insertBefore(node, firstPending);
    else this.log.append(node);
    this.scroll();
  }

  message(ev, f) {
    const from = ev.from === "welcome" ? "agent" : ev.from;
    // The AI speaks for the store's team, under a badge that says it is
    // an AI; people under their own names.
    const who = ev.from === "shopper" ? "You" : ev.from === "ai" ? this.team : ev.author || this.team;
    const node = el("div", { class: "msg msg-" + from + (ev.from === "welcome" ? " welcome" : "") });
    if (f) {
      node.dataset.seq = String(f.seq);
      this.bySeq.set(f.seq, node);
    }
    // Consecutive messages of one author share one header, by where they
    // show (a message waiting to be sent shows last until it is stored).
    const group = from + ":" + (ev.from === "shopper" ? "" : who);
    node.dataset.group = group;
    const prev = this.lastShown();
    if (from !== "shopper" && (!prev || prev.dataset.group !== group)) {
      node.classList.add("first");
      node.append(el("div", { class: "author" },
        el("span", { class: "avatar", "aria-hidden": "true" }, from === "ai" ? "AI" : initials(who)),
        el("span", { class: "name" }, who),
        from === "ai" ? el("span", { class: "badge" }, "AI assistant") : null,
        f && f.at ? el("time", { datetime: f.at }, clock(f.at)) : null));
    }
    if (ev.text) {
      const bubble = el("div", { class: "bubble" }, el("span", { class: "sr" }, who + (from === "ai" ? ", AI assistant" : "") + ": "));
      linkify(bubble, ev.text);
      node.append(bubble);
    }
    const files = (ev.attachments || []).map((a) => this.attachment(a, who)).filter(Boolean);
    if (files.length) node.append(el("div", { class: "files" }, files));
    if (from !== "shopper" && f) this.observer.observe(node);
    return node;
  }

  // attachment shows an image inline when it is one of this server's
  // uploads, and anything else as a link (an image from elsewhere would let
  // its sender see who opened the chat).
  attachment(a, who) {
    const href = safeURL(a && a.url);
    if (!href) return null;
    const u = new URL(href);
    const name = decodeURIComponent(u.pathname.split("/").pop() || "") || u.host;
    if (u.origin === this.origin && u.pathname.startsWith("/uploads/") && /^image\//.test(a.content_type || "")) {
      const img = el("img", { src: href, alt: "Image from " + who, loading: "lazy", decoding: "async" });
      img.addEventListener("load", () => this.scroll());
      return el("a", { class: "file image", href, target: "_blank", rel: "noopener noreferrer" }, img);
    }
    return el("a", { class: "file link", href, target: "_blank", rel: "noopener noreferrer nofollow ugc" },
      icon("image"), el("span", {}, name));
  }

  // lastShown is the log's last stored entry, which a new one follows.
  lastShown() {
    let e = this.log.lastElementChild;
    while (e && (e.classList.contains("pending") || e.classList.contains("typing"))) e = e.previousElementSibling;
    return e;
  }

  notice(text, f, kind) {
    const node = el("div", { class: "notice" + (kind ? " notice-" + kind : ""), role: kind === "system" ? "note" : null }, text);
    if (f) node.dataset.seq = String(f.seq);
    if (kind === "system" && f) {
      this.bySeq.set(f.seq, node);
      this.observer.observe(node);
    }
    return node;
  }

  status(node, text) {
    let s = node.querySelector(":scope > .status");
    if (!s) {
      s = el("div", { class: "status" });
      node.append(s);
    }
    s.textContent = text;
  }

  // seen marks the shopper's messages up to seq as seen by the team (H7):
  // the latest of them says so.
  seen(upTo) {
    if (upTo <= this.seenUpTo) return;
    this.seenUpTo = upTo;
    let latest = null;
    for (const node of this.log.querySelectorAll(":scope > .msg-shopper:not(.pending):not(.failed)")) {
      if (Number(node.dataset.seq) <= upTo) latest = node;
      const s = node.querySelector(":scope > .status");
      if (s) s.remove();
    }
    if (latest) this.status(latest, "Seen");
  }

  showTyping(name) {
    this.typingNote.replaceChildren(
      el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
      (name || "Someone from our team") + " is typing…");
    this.typingNote.hidden = false;
    this.scroll();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), 6000);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typingNote.hidden = true;
  }

  observed(entries) {
    for (const e of entries) {
      const seq = Number(e.target.dataset.seq);
      if (e.isIntersecting) this.visible.add(seq);
      else this.visible.delete(seq);
    }
    this.checkRead();
  }

  // checkRead reports the latest message in view, if the shopper can see it.
  checkRead() {
    if (!this.isOpen() || document.visibilityState !== "visible" || !this.visible.size) return;
    this.onRead(Math.max(...this.visible));
  }

  atBottom(slack = 80) {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < slack;
  }

  // scroll keeps the end of the thread in view, if it was (or if asked:
  // the shopper just sent something, or opened the chat).
  scroll(force = false) {
    if (force) this.stuck = true;
    if (!this.stuck) return;
    this.log.scrollTop = this.log.scrollHeight;
    this.autoTop = this.log.scrollTop;
  }
}

function clock(at) {
  const d = new Date(at);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
