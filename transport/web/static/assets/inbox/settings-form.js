// What the settings sections share: labelled fields, a card with its own
// Save, and the server's refusals shown next to the input they name (the
// error's `field`, such as "webchat.welcome_message" or "question").

import { h, replace } from './dom.js';
import { icon } from './icons.js';

let seq = 0;

// field is a labelled control. The control carries data-field, the name
// the server gives it in an error, and is described by its hint and error.
export function field(label, control, { hint, name, wide } = {}) {
  const id = control.id || `f${++seq}`;
  control.id = id;
  if (name) control.dataset.field = name;
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  return h('div', { class: ['field', wide && 'field-wide'] }, h('label', { for: id }, label), control, hintEl, error);
}

// check is a labelled checkbox (a switch in looks).
export function check(label, input, { hint, name } = {}) {
  if (name) input.dataset.field = name;
  input.id = input.id || `f${++seq}`;
  const error = h('p', { class: 'field-error', id: `${input.id}-error` });
  return h('div', { class: 'field field-check' },
    h('label', { class: 'switch', for: input.id }, input, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', {}, label)),
    hint ? h('p', { class: 'hint' }, hint) : null, error);
}

export const input = (props = {}) => h('input', { type: 'text', class: 'input', ...props });
export const textarea = (props = {}) => h('textarea', { class: 'input', rows: '3', ...props });
export const select = (options, props = {}) => h('select', { class: 'select', ...props },
  options.map(([value, label]) => h('option', { value }, label)));
export const checkbox = (props = {}) => h('input', { type: 'checkbox', role: 'switch', ...props });

// clearErrors takes the error marks off every field of root.
export function clearErrors(root) {
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of root.querySelectorAll('.field-error')) el.textContent = '';
}

// showError puts the server's refusal next to the input it names, or the
// closest one that holds it ("office_hours.weekly.mon" → the Monday row),
// or else on the form as a whole.
export function showError(root, err, fallback) {
  clearErrors(root);
  let name = err.field || '';
  while (name) {
    const el = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (el) {
      const box = document.getElementById(`${el.id}-error`) || el.closest('.field, .day')?.querySelector('.field-error');
      if (box) {
        el.setAttribute('aria-invalid', 'true');
        const label = el.id && root.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent;
        box.textContent = err.about ? err.about(label || '') : err.message;
        (el.matches('input, select, textarea') ? el : el.querySelector('input, select, textarea, button'))?.focus();
        return;
      }
    }
    name = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
  }
  fallback.textContent = err.message;
}

// card is a settings section: a titled form whose Save calls save() and
// says how it went.
export function card({ id, title, intro, body, save, saveLabel = 'Save', extra }) {
  const status = h('span', { class: 'save-status', role: 'status' });
  const error = h('p', { class: 'form-error field-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, saveLabel);
  const form = h(save ? 'form' : 'div', { class: 'card-body', novalidate: !!save }, body, error,
    save ? h('div', { class: 'card-foot' }, status, button) : null);
  if (save) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      status.textContent = '';
      button.disabled = true;
      try {
        await save();
        status.textContent = 'Saved';
        setTimeout(() => { status.textContent = ''; }, 3000);
      } catch (e) {
        showError(form, e, error);
      } finally {
        button.disabled = false;
      }
    });
  }
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` },
    h('header', { class: 'card-head' }, h('h2', { id: `${id}-title` }, title), intro ? h('p', { class: 'muted' }, intro) : null),
    form, extra);
}

// copyButton copies text() to the clipboard and says so; where the page
// may not write to the clipboard, it selects the text in input and copies
// it the older way. name is the button's accessible name when "Copy"
// alone would not say what it copies.
export function copyButton(text, input, { name } = {}) {
  const done = h('span', { class: 'small copy-status', role: 'status' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text());
    } catch {
      input.select();
      document.execCommand('copy');
    }
    done.textContent = 'Copied';
  };
  return [h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'aria-label': name, on: { click: copy } }, icon('copy'), 'Copy'), done];
}

// confirmButton is a button that asks once more before it acts. name is
// its accessible name when the label alone would not say what it acts on.
export function confirmButton(label, question, act, { className = 'btn btn-ghost btn-sm', name } = {}) {
  const wrap = h('span', { class: 'confirm' });
  const ask = () => replace(wrap,
    h('span', { class: 'small muted' }, question),
    h('button', { type: 'button', class: 'btn btn-danger btn-xs', on: { click: () => act() } }, 'Yes'),
    h('button', { type: 'button', class: 'btn btn-ghost btn-xs', on: { click: () => { idle(); wrap.querySelector('button')?.focus(); } } }, 'No'));
  const idle = () => replace(wrap, h('button', { type: 'button', class: className, 'aria-label': name, on: { click: () => { ask(); wrap.querySelector('.btn-danger').focus(); } } }, label));
  idle();
  return wrap;
}
