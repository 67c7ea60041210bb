// A small emoji picker: a button that opens a grid of common emoji, each a
// button named for assistive technology; arrow keys move in the grid,
// Escape closes it.

import { el, icon } from "./dom.js";

const EMOJI = [
  ["😀", "grinning face"], ["😊", "smiling face"], ["😂", "face with tears of joy"], ["😍", "heart eyes"],
  ["🤔", "thinking face"], ["😅", "sweat smile"], ["😢", "crying face"], ["😮", "surprised face"],
  ["👍", "thumbs up"], ["👎", "thumbs down"], ["👏", "clapping hands"], ["🙏", "folded hands"],
  ["👋", "waving hand"], ["🙌", "raised hands"], ["💪", "flexed biceps"], ["✌️", "victory hand"],
  ["❤️", "red heart"], ["🎉", "party popper"], ["✨", "sparkles"], ["🔥", "fire"],
  ["✅", "check mark"], ["❌", "cross mark"], ["📦", "package"], ["🚚", "delivery truck"],
];
const COLUMNS = 8;

export class EmojiPicker {
  constructor(pick) {
    this.button = el("button", {
      type: "button", class: "tool", "aria-label": "Insert emoji", title: "Insert emoji", "aria-expanded": "false",
      "aria-haspopup": "true",
    }, icon("smile"));
    this.grid = EMOJI.map(([e, name]) => el("button", { type: "button", class: "emoji", "aria-label": name, title: name }, e));
    this.node = el("div", { class: "emoji-picker", role: "group", "aria-label": "Emoji", hidden: true }, this.grid);
    this.button.addEventListener("click", () => (this.node.hidden ? this.open() : this.close()));
    this.node.addEventListener("click", (e) => {
      const b = e.target.closest("button.emoji");
      if (!b) return;
      this.close(false);
      pick(b.textContent);
    });
    this.node.addEventListener("keydown", (e) => this.key(e));
  }

  open() {
    this.node.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.grid[0].focus();
  }

  // close hides the picker; true if it was open.
  close(refocus = true) {
    if (this.node.hidden) return false;
    this.node.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (refocus) this.button.focus();
    return true;
  }

  key(e) {
    const i = this.grid.indexOf(e.target);
    if (i < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const next = this.grid[(i + step + this.grid.length) % this.grid.length];
    next.focus();
  }
}
