// Macros (C5, H5): saved replies with placeholders that the server fills in
// for each customer. A body with a placeholder the server does not know is
// refused, and the refusal is shown at the body.

import { del, get, path, post, put } from './api.js';
import { h, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { card, clearErrors, confirmButton, field, input, showError, textarea } from './settings-form.js';

const placeholders = ['first_name', 'last_name', 'name', 'email', 'agent_name', 'ticket_id'];

export function macrosCard() {
  const list = h('ul', { class: 'items', 'aria-label': 'Macros' });
  const formBox = h('div', { class: 'item-form-box' });
  const addButton = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => edit(null) } }, icon('plus'), 'Add a macro');
  let macros = [];

  const load = async () => {
    try {
      macros = (await get('/api/v1/macros')).macros || [];
      draw();
    } catch (e) {
      replace(list, h('li', { class: 'error-text' }, e.message));
    }
  };

  const draw = () => {
    const sorted = [...macros].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    if (!sorted.length) return replace(list, h('li', { class: 'items-empty muted' }, 'No macros yet.'));
    replace(list, sorted.map((m) => h('li', { class: 'item', dataset: { id: m.id } },
      h('div', { class: 'item-main' }, h('div', { class: 'item-title' }, m.name), h('div', { class: 'item-text' }, m.body)),
      h('div', { class: 'item-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Edit ${m.name}`, on: { click: () => edit(m) } }, 'Edit'),
        confirmButton('Delete', 'Delete it?', async () => {
          try {
            await del(path('/api/v1/macros', m.id));
            macros = macros.filter((x) => x.id !== m.id);
            draw();
            toast('Macro deleted');
          } catch (e) {
            toast(e.message, 'error');
          }
        })))));
  };

  const edit = (m) => {
    const name = input({ value: m?.name || '', maxlength: '200', placeholder: 'Shipping times' });
    const body = textarea({ value: m?.body || '', rows: '4', placeholder: 'Hi {{first_name}}, your order ships within 1–2 business days.' });
    const chips = h('div', { class: 'placeholders' }, h('span', { class: 'small muted' }, 'Insert:'), placeholders.map((p) => h('button', {
      type: 'button', class: 'placeholder-chip', 'aria-label': `Insert {{${p}}}`,
      on: { click: () => { body.setRangeText(`{{${p}}}`, body.selectionStart, body.selectionEnd, 'end'); body.focus(); } },
    }, `{{${p}}}`)));
    const error = h('p', { class: 'form-error field-error', role: 'alert' });
    const form = h('form', { class: 'item-form', novalidate: true, 'aria-label': m ? 'Edit macro' : 'New macro' },
      h('h3', {}, m ? 'Edit macro' : 'New macro'),
      field('Name', name, { name: 'name' }),
      field('Reply', body, { name: 'body', hint: 'Placeholders are filled in for the customer when the macro is sent; a reply whose placeholder has no value for a customer is not sent.' }),
      chips,
      error,
      h('div', { class: 'card-foot' },
        h('button', { type: 'button', class: 'btn btn-ghost', on: { click: () => close() } }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, m ? 'Save macro' : 'Add macro')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const saved = m ? await put(path('/api/v1/macros', m.id), { name: name.value, body: body.value })
          : await post('/api/v1/macros', { name: name.value, body: body.value });
        macros = [...macros.filter((x) => x.id !== saved.id), saved];
        close();
        draw();
        toast(m ? 'Macro saved' : 'Macro added');
      } catch (e) {
        showError(form, e, error);
      }
    });
    replace(formBox, form);
    addButton.hidden = true;
    name.focus();
  };
  const close = () => {
    formBox.replaceChildren();
    addButton.hidden = false;
    addButton.focus();
  };

  load();
  return card({
    id: 'macros', title: 'Macros', intro: 'Saved replies agents send from the reply box, filled in for each customer.',
    body: [list, formBox, h('div', { class: 'card-foot card-foot-start' }, addButton)],
  });
}
