// A button that opens a small panel below (or above) it: the snooze and
// close choices, the macro list, the emoji. Escape or a click elsewhere
// closes it, and the focus goes back to its button.

import { h } from './dom.js';

let open = null;

document.addEventListener('mousedown', (ev) => {
  if (open && !open.wrap.contains(ev.target)) open.close(false);
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && open) {
    ev.preventDefault();
    open.close(true);
  }
});

// popover returns { wrap, button, panel, close }. fill(panel) is called on
// each opening; up opens it above its button (by the composer).
export function popover({ label, content, className = '', up = false, align = 'start', fill, title }) {
  const id = `pop-${Math.random().toString(36).slice(2, 9)}`;
  const button = h('button', {
    type: 'button', class: ['btn', className], 'aria-expanded': 'false', 'aria-controls': id, title,
  }, content || label);
  if (content && label) button.setAttribute('aria-label', label);
  const panel = h('div', { id, class: ['popover', up && 'popover-up', `popover-${align}`], hidden: true, role: 'dialog', 'aria-label': label });
  const wrap = h('div', { class: 'popover-wrap' }, button, panel);
  const self = {
    wrap, button, panel,
    close(refocus) {
      panel.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      if (open === self) open = null;
      if (refocus) button.focus();
    },
    open() {
      if (open && open !== self) open.close(false);
      fill?.(panel, self);
      panel.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      open = self;
      panel.querySelector('input, select, textarea, button')?.focus();
    },
  };
  button.addEventListener('click', () => (panel.hidden ? self.open() : self.close(false)));
  return self;
}
