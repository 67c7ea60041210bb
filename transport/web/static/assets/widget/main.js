// The widget: one script tag (widget.js) loads this module, which puts a
// chat launcher on the store's page, inside a shadow root so that the
// store's CSS cannot reach it, and serves window.Parley (docs/widget.md).

import { el } from "./dom.js";
import { Session } from "./session.js";
import { Thread } from "./thread.js";
import { Composer } from "./composer.js";
import { Home } from "./home.js";
import { Panel } from "./panel.js";
import { uploadImage } from "./upload.js";
import { rememberOpen, wasOpen } from "./storage.js";

const EVENTS = ["open", "close", "message", "unread", "unauthorized", "ready"];

// boot mounts the widget. config is what widget.js read from its tag; api
// is window.Parley, whose calls made before now wait in queue.
export function boot(config, api, queue) {
  const listeners = Object.fromEntries(EVENTS.map((e) => [e, new Set()]));
  const emit = (name, detail) => {
    for (const fn of listeners[name] || []) {
      try {
        fn(detail);
      } catch (err) {
        console.error("Parley: a " + name + " listener failed", err);
      }
    }
  };
  const widget = new Widget(config, emit);
  Object.assign(api, {
    open: () => (widget.panel.open(), api),
    close: () => (widget.panel.close(), api),
    toggle: () => (widget.panel.isOpen() ? widget.panel.close() : widget.panel.open(), api),
    identify: (token) => (widget.session.identify(typeof token === "string" ? token : null), api),
    on: (name, fn) => (listeners[name] && typeof fn === "function" && listeners[name].add(fn), api),
    off: (name, fn) => (listeners[name] && listeners[name].delete(fn), api),
    isOpen: () => widget.panel.isOpen(),
  });
  for (const [method, args] of queue.splice(0)) {
    if (typeof api[method] === "function") api[method](...args);
  }
  const mount = () => widget.mount().then(() => emit("ready", {}));
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
}

class Widget {
  constructor(config, emit) {
    this.config = config;
    this.emit = emit;
    this.welcome = null;
    this.startPending = false;
    const title = config.title || "Chat with us";

    this.thread = new Thread({
      base: config.base,
      team: title === "Chat with us" ? "Support" : title,
      onRead: (seq) => this.session.read(seq),
      isOpen: () => this.panel.isOpen() && this.panel.current === "chat",
    });
    this.composer = new Composer({
      send: (text, attachments) => this.session.sendMessage(text, attachments),
      typing: () => this.session.typing(),
      upload: (file) => uploadImage(this.session.uploadURL(), this.session.token, file),
    });
    this.endedBlock = el("div", { class: "ended", hidden: true });
    this.chatView = el("div", { class: "view chat", hidden: true }, this.thread.node, this.composer.node, this.endedBlock);
    this.home = new Home({
      pick: (id) => this.session.pickFAQ(id),
      start: () => this.startChat(),
      resume: () => this.showChat(),
    });
    this.panel = new Panel({
      title,
      views: { home: this.home.node, answer: this.home.answer, chat: this.chatView },
      onOpen: () => this.opened(),
      onClose: () => {
        rememberOpen(false);
        emit("close", {});
      },
      onBack: () => this.showHome(),
      onEnd: () => this.session.endChat(),
      onEscape: () => this.composer.closePopups(),
    });
    this.session = new Session({ base: config.base, token: config.token || null, view: this.view(), emit });
  }

  // mount puts the widget on the page once its stylesheet has loaded (so
  // that it never shows unstyled), then connects.
  mount() {
    if (document.getElementById("parley-widget")) return Promise.resolve();
    // A custom element, not a div: the store's rules for div, section …
    // do not match it (rules for * still would, on the host alone).
    const host = el("parley-widget", { id: "parley-widget" });
    const accent = this.config.accent;
    if (accent && CSS.supports("color", accent)) host.style.setProperty("--parley-accent", accent);
    const root = host.attachShadow({ mode: "open" });
    const css = el("link", { rel: "stylesheet", href: new URL("widget.css", this.config.base).href });
    const loaded = new Promise((resolve) => {
      css.addEventListener("load", resolve, { once: true });
      css.addEventListener("error", resolve, { once: true });
    });
    root.append(css);
    document.body.append(host);
    return loaded.then(() => {
      root.append(this.panel.node);
      this.session.start();
    });
  }

  // view is what the session tells the page.
  view() {
    return {
      reset: () => {
        this.thread.reset();
        if (this.welcome) this.thread.setLinks(this.welcome.links);
        this.chatState();
      },
      welcome: (w, chat) => this.welcomed(w, chat),
      status: (s) => {
        if (s === "online") this.known = true;
        this.panel.status(s, this.known);
        this.header();
        if (s === "online") this.thread.checkRead();
      },
      event: (f, live) => this.event(f, live),
      pending: (p) => this.thread.pending(p),
      sent: (id) => this.thread.sent(id),
      confirmed: (id, f) => this.thread.confirmed(id, f),
      failed: (id, why) => this.thread.failed(id, why),
      typing: (name) => this.thread.showTyping(name),
      faqAnswer: (f) => {
        this.home.showAnswer(f);
        this.panel.show("answer");
        this.panel.focusFirst(this.home.answerQuestion);
      },
      error: (f) => {
        if (this.startPending) {
          this.startPending = false;
          this.home.say(f.message || "The chat could not be started.");
        }
      },
      unread: (n) => this.panel.unread(n),
    };
  }

  welcomed(w, chat) {
    this.welcome = w;
    this.thread.setLinks(w.links);
    this.home.render(w, chat);
    this.panel.available(!!(w.chat && w.chat.enabled) || !!(chat.conversation && !chat.ended));
    this.header();
    this.chatState();
    if (!this.shownOnce) {
      this.shownOnce = true;
      if (wasOpen()) this.panel.open();
    } else if (this.panel.isOpen() && this.panel.current === "chat" && !this.session.conversation) {
      this.showHome();
    }
  }

  event(f, live) {
    this.thread.add(f);
    const kind = f.event && f.event.kind;
    if (kind === "started" && this.startPending) {
      this.startPending = false;
      this.showChat();
    }
    if (kind === "ended" || kind === "started") {
      this.chatState();
      if (this.welcome) this.home.render(this.welcome, { conversation: this.session.conversation, ended: this.session.ended });
    }
  }

  // chatState shows the composer in an open chat, and a way to start a new
  // one in an ended chat.
  chatState() {
    const ended = !!this.session?.ended;
    this.composer.node.hidden = ended;
    this.endedBlock.hidden = !ended;
    if (ended) {
      const again = el("button", { type: "button", class: "primary" }, "Start a new chat");
      again.addEventListener("click", () => this.startChat());
      const canStart = this.welcome && this.welcome.chat && this.welcome.chat.can_start;
      const said = this.session.answersByEmail()
        ? "This chat has ended. Our team will answer you by e-mail."
        : "This chat has ended. Thanks for talking to us!";
      this.endedBlock.replaceChildren(el("p", {}, said), canStart ? again : null);
    }
    if (this.panel.current === "chat") this.panel.show("chat", { endable: this.canEnd() });
  }

  canEnd() {
    return !!(this.session && this.session.conversation && !this.session.ended);
  }

  header() {
    const w = this.welcome;
    let sub = "We reply in a few minutes";
    if (w && w.office && !w.office.open) sub = "We're away right now";
    this.panel.setSub(sub);
  }

  startChat() {
    this.home.say("");
    this.startPending = true;
    if (!this.session.startChat()) {
      this.startPending = false;
      this.home.say("You're offline. Try again when you're back online.");
    }
  }

  opened() {
    rememberOpen(true);
    if (this.session.conversation && !this.session.ended) this.showChat();
    else this.showHome();
    this.emit("open", {});
  }

  showHome() {
    this.panel.show("home");
    this.panel.focusFirst();
  }

  showChat() {
    this.panel.show("chat", { endable: this.canEnd() });
    this.thread.scroll(true);
    if (this.session.ended) this.panel.focusFirst();
    else this.composer.focus();
    requestAnimationFrame(() => this.thread.checkRead());
  }
}
