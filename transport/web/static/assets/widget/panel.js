// The widget's shell: the launcher (a button named "Open chat"), and the
// panel, a dialog labelled by its title, with a header (back, title and
// status, end chat, close), a banner while the connection is down, and one
// view at a time: home (FAQs), an FAQ's answer, or the chat. Escape closes
// the panel (after any popup in it); focus goes into the panel when it
// opens and back to the launcher when it closes.

import { el, icon } from "./dom.js";

export class Panel {
  constructor({ title, views, onOpen, onClose, onBack, onEnd, onEscape }) {
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.onEscape = onEscape;
    this.views = views; // name → node
    this.current = "home";

    this.back = el("button", { type: "button", class: "icon-btn back", "aria-label": "Back", title: "Back", hidden: true }, icon("back"));
    this.title = el("h2", { id: "parley-title", class: "title" }, title);
    this.sub = el("p", { class: "sub" });
    this.end = el("button", { type: "button", class: "text-btn end", hidden: true }, "End chat");
    this.closeButton = el("button", { type: "button", class: "icon-btn", "aria-label": "Close chat", title: "Close" }, icon("down"));
    this.confirm = el("div", { class: "confirm", role: "alertdialog", "aria-label": "End this chat?", hidden: true });
    this.banner = el("div", { class: "banner", role: "status", hidden: true });
    this.body = el("div", { class: "body" }, Object.values(views));
    this.panel = el("div", { class: "panel", id: "parley-panel", role: "dialog", "aria-labelledby": "parley-title", hidden: true },
      el("header", { class: "head" },
        this.back,
        el("div", { class: "head-text" }, this.title, this.sub),
        this.end, this.closeButton),
      this.confirm, this.banner, this.body);

    this.badge = el("span", { class: "count", "aria-hidden": "true", hidden: true });
    this.launcher = el("button", {
      type: "button", class: "launcher", "aria-label": "Open chat", "aria-expanded": "false", "aria-controls": "parley-panel",
      hidden: true,
    }, icon("chat"), icon("down"), this.badge);
    this.node = el("div", { class: "root" }, this.panel, this.launcher);

    this.launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    this.closeButton.addEventListener("click", () => this.close());
    this.back.addEventListener("click", () => onBack());
    this.end.addEventListener("click", () => this.askEnd(onEnd));
    this.panel.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      if (!this.confirm.hidden) return this.hideConfirm();
      if (!this.onEscape()) this.close();
    });
  }

  isOpen() {
    return !this.panel.hidden;
  }

  // available shows or hides the launcher (S1: no tab when chat is off or
  // the visitor may not see it).
  available(yes) {
    this.launcher.hidden = !yes;
    if (!yes && this.isOpen()) this.close();
    if (yes && this.wantOpen) this.open();
  }

  // open opens the panel, or, while the launcher is not shown yet (before
  // the server has answered), as soon as it is.
  open() {
    if (this.isOpen()) return;
    this.wantOpen = this.launcher.hidden;
    if (this.wantOpen) return;
    this.panel.hidden = false;
    this.node.classList.add("open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat");
    this.onOpen();
  }

  close() {
    this.wantOpen = false;
    if (!this.isOpen()) return;
    const hadFocus = this.panel.contains(this.panel.getRootNode().activeElement);
    this.hideConfirm();
    this.panel.hidden = true;
    this.node.classList.remove("open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.unread(this.unreadCount || 0);
    if (hadFocus) this.launcher.focus();
    this.onClose();
  }

  // show switches the view: "home", "answer" or "chat".
  show(name, { endable = false } = {}) {
    this.current = name;
    for (const [n, node] of Object.entries(this.views)) node.hidden = n !== name;
    this.back.hidden = name === "home";
    this.end.hidden = !(name === "chat" && endable);
    if (name !== "chat") this.hideConfirm();
  }

  // focusFirst moves focus to the view's first control, or to what is given.
  focusFirst(target) {
    const node = target || this.views[this.current].querySelector("button:not([disabled]), [tabindex='-1'], textarea");
    (node || this.closeButton).focus();
  }

  setSub(text) {
    this.sub.textContent = text;
  }

  // status shows the connection's state: a banner while it is down.
  status(s, known) {
    const down = s === "offline" || (s === "connecting" && known);
    this.node.classList.toggle("offline", down);
    this.banner.hidden = !down;
    this.banner.replaceChildren(icon("offline"), el("span", {}, "You're offline. Reconnecting…"));
  }

  unread(n) {
    this.unreadCount = n;
    const show = n > 0 && !this.isOpen();
    this.badge.hidden = !show;
    this.badge.textContent = n > 9 ? "9+" : String(n);
    if (!this.isOpen()) this.launcher.setAttribute("aria-label", show ? `Open chat, ${n} unread message${n > 1 ? "s" : ""}` : "Open chat");
  }

  askEnd(onEnd) {
    const yes = el("button", { type: "button", class: "danger" }, "End chat");
    const no = el("button", { type: "button", class: "secondary" }, "Keep chatting");
    yes.addEventListener("click", () => {
      this.hideConfirm();
      onEnd();
    });
    no.addEventListener("click", () => this.hideConfirm());
    this.confirm.replaceChildren(el("p", {}, "End this chat? You can always start a new one."), el("div", { class: "confirm-actions" }, no, yes));
    this.confirm.hidden = false;
    no.focus();
  }

  hideConfirm() {
    if (this.confirm.hidden) return;
    this.confirm.hidden = true;
    if (this.isOpen()) this.end.focus();
  }
}
