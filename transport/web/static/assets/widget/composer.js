// The composer: where the shopper writes (Enter sends, Shift+Enter breaks
// the line), picks an emoji or attaches an image. Typing is reported at
// most every 2 s; an image is uploaded first (POST /api/v1/uploads with the
// shopper's identity token) and then sent as the message's attachment.

import { el, icon } from "./dom.js";
import { EmojiPicker } from "./emoji.js";

const MAX_TEXT = 4000; // docs/protocol.md §5: a message holds at most 4,000 characters
const TYPING_EVERY = 2000;
const IMAGE_TYPES = "image/png,image/jpeg,image/gif,image/webp";

export class Composer {
  // send(text, attachments) sends a message; typing() reports typing;
  // upload(file) resolves to {url, content_type} or throws an Error whose
  // message can be shown.
  constructor({ send, typing, upload }) {
    this.sendMessage = send;
    this.typing = typing;
    this.upload = upload;
    this.typedAt = 0;
    this.input = el("textarea", {
      class: "input", rows: "1", maxlength: String(MAX_TEXT), "aria-label": "Message", placeholder: "Write a message…",
      enterkeyhint: "send",
    });
    this.file = el("input", { type: "file", accept: IMAGE_TYPES, class: "file-input", tabindex: "-1", "aria-hidden": "true" });
    this.attachButton = el("button", { type: "button", class: "tool", "aria-label": "Attach an image", title: "Attach an image" }, icon("image"));
    this.picker = new EmojiPicker((emoji) => this.insert(emoji));
    this.sendButton = el("button", { type: "submit", class: "send", "aria-label": "Send message", title: "Send" }, icon("send"));
    this.note = el("p", { class: "composer-note", role: "status" });
    this.form = el("form", { class: "composer", "aria-label": "Write a message" },
      this.note,
      el("div", { class: "composer-row" },
        this.input,
        el("div", { class: "tools" }, this.picker.button, this.attachButton, this.sendButton)),
      this.picker.node, this.file);
    this.node = this.form;

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.enterSent = true;
        this.submit();
      }
    });
    // The line break of an Enter that sent the message, should it still
    // come as input of its own (as some input methods send it).
    this.input.addEventListener("beforeinput", (e) => {
      if (this.enterSent && (e.inputType === "insertLineBreak" || e.inputType === "insertParagraph")) e.preventDefault();
      this.enterSent = false;
    });
    this.input.addEventListener("keyup", () => (this.enterSent = false));
    this.input.addEventListener("input", () => this.typed());
    this.attachButton.addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => this.attach());
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.sendMessage(text, []);
    this.input.value = "";
    this.typedAt = 0;
    this.input.focus();
  }

  typed() {
    const now = Date.now();
    if (this.input.value && now - this.typedAt >= TYPING_EVERY) {
      this.typedAt = now;
      this.typing();
    }
  }

  insert(emoji) {
    const { selectionStart: a, selectionEnd: b, value } = this.input;
    this.input.value = value.slice(0, a) + emoji + value.slice(b);
    this.input.focus();
    this.input.selectionStart = this.input.selectionEnd = a + emoji.length;
    this.typed();
  }

  async attach() {
    const file = this.file.files && this.file.files[0];
    this.file.value = "";
    if (!file) return;
    this.say("Uploading " + file.name + "…");
    this.attachButton.disabled = true;
    try {
      const up = await this.upload(file);
      const text = this.input.value.trim();
      this.input.value = "";
      this.sendMessage(text, [{ url: up.url, content_type: up.content_type }]);
      this.say("");
    } catch (err) {
      this.say(err.message || "The image could not be sent.");
    } finally {
      this.attachButton.disabled = false;
      this.input.focus();
    }
  }

  say(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  focus() {
    this.input.focus();
  }

  // closePopups closes the emoji picker; true if it was open (Escape
  // closes it before it closes the panel).
  closePopups() {
    return this.picker.close();
  }
}
