// The team (C8) and notification e-mail (C7, H9). A new agent's token is
// shown once, right after it is made, with a button to copy it: the server
// keeps only its hash. The SMTP password is write-only: the server shows it
// masked, and the mask sent back keeps it.

import { del, get, path, post, put } from './api.js';
import { avatar, h, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { card, check, checkbox, clearErrors, confirmButton, copyButton, field, input, select, showError } from './settings-form.js';

const roles = { agent: 'Agent', admin: 'Admin', store: 'Store integration' };

export function agentsCard(me) {
  const list = h('ul', { class: 'items', 'aria-label': 'Agents' });
  const reveal = h('div', { class: 'token-box-wrap' });
  let agents = [];

  const load = async () => {
    try {
      agents = (await get('/api/v1/agents')).agents || [];
      draw();
    } catch (e) {
      replace(list, h('li', { class: 'error-text' }, e.message));
    }
  };

  const draw = () => {
    if (!agents.length) return replace(list, h('li', { class: 'items-empty muted' }, 'Only the admin token so far. Add the people who answer customers.'));
    replace(list, agents.map((a) => h('li', { class: ['item', a.disabled && 'is-disabled'], dataset: { id: a.id } },
      avatar(a.name, a.id),
      h('div', { class: 'item-main' },
        h('div', { class: 'item-title' }, a.name, a.id === me.id ? h('span', { class: 'muted small' }, ' (you)') : null),
        h('div', { class: 'item-text' }, a.email || '—'),
        h('div', { class: 'item-meta' },
          h('span', { class: ['chip', a.role === 'admin' ? 'chip-snoozed' : 'chip-closed'] }, roles[a.role] || a.role),
          a.disabled ? h('span', { class: 'chip chip-alert' }, 'Disabled') : null,
          a.created_at ? h('span', { class: 'small muted' }, `Added ${new Date(a.created_at).toLocaleDateString()}`) : null)),
      h('div', { class: 'item-actions' }, a.disabled ? null : confirmButton('Disable', 'Their token stops working. Disable?', async () => {
        try {
          await del(path('/api/v1/agents', a.id));
          agents = agents.map((x) => (x.id === a.id ? { ...x, disabled: true } : x));
          draw();
          toast(`${a.name} is disabled`);
        } catch (e) {
          toast(e.message, 'error');
        }
      })))));
  };

  const name = input({ maxlength: '200', placeholder: 'Ana Andersson', autocomplete: 'off' });
  const email = input({ type: 'email', placeholder: 'ana@example.com', autocomplete: 'off' });
  const role = h('select', { class: 'select' }, Object.entries(roles).map(([v, l]) => h('option', { value: v }, l)));
  const error = h('p', { class: 'form-error field-error', role: 'alert' });
  const form = h('form', { class: 'item-form', novalidate: true, 'aria-label': 'Add an agent' },
    h('h3', {}, 'Add an agent'),
    h('div', { class: 'grid-3' },
      field('Name', name, { name: 'name' }), field('E-mail', email, { name: 'email' }),
      field('Role', role, { name: 'role' })),
    error,
    h('div', { class: 'card-foot' }, h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Add agent')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const res = await post('/api/v1/agents', { name: name.value.trim(), email: email.value.trim(), role: role.value });
      agents = [...agents, res.agent];
      draw();
      showToken(res.agent, res.token);
      name.value = '';
      email.value = '';
    } catch (e) {
      showError(form, e, error);
    }
  });

  // showToken shows the new token until dismissed; it is never shown again.
  const showToken = (agent, token) => {
    const value = h('input', { class: 'input token-value', readOnly: true, value: token, 'aria-label': `${agent.name}’s token`, spellcheck: 'false' });
    replace(reveal, h('div', { class: 'token-box', role: 'region', 'aria-label': 'New token' },
      h('p', {}, h('strong', {}, `${agent.name}’s token.`), ' Copy it now and give it to them: it is not shown again. They sign in to the inbox with it.'),
      h('div', { class: 'inline' }, value, copyButton(() => token, value)),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => reveal.replaceChildren() } }, 'Done')));
    value.focus();
    value.select();
  };

  load();
  return card({
    id: 'agents', title: 'Agents', intro: 'The people who answer customers, and the store’s integration tokens. Each signs in with their own token.',
    body: [list, reveal, form],
  });
}

export function notificationsCard(settings, saved) {
  const e = settings.notifications.email;
  const enabled = checkbox({ checked: e.enabled });
  const to = input({ value: (e.to || []).join(', '), placeholder: 'team@example.com, lead@example.com' });
  const from = input({ type: 'email', value: e.from, placeholder: 'parley@example.com' });
  const addr = input({ value: e.smtp.addr, placeholder: 'smtp.example.com:587', spellcheck: 'false' });
  const user = input({ value: e.smtp.username, autocomplete: 'off', spellcheck: 'false' });
  const password = input({ type: 'password', value: e.smtp.password, autocomplete: 'new-password' });
  return card({
    id: 'notifications', title: 'Notification e-mail',
    intro: 'An e-mail for each new ticket, with the first message and a link to it.',
    body: [
      check('Send an e-mail for each new ticket', enabled, { name: 'notifications.email.enabled' }),
      h('div', { class: 'grid-2' },
        field('Send to', to, { name: 'notifications.email.to', hint: 'One or more addresses, separated by commas.' }),
        field('From', from, { name: 'notifications.email.from' })),
      h('div', { class: 'grid-3' },
        field('SMTP server', addr, { name: 'notifications.email.smtp.addr', hint: 'host:port' }),
        field('Username', user, { name: 'notifications.email.smtp.username', hint: 'Optional.' }),
        field('Password', password, { name: 'notifications.email.smtp.password', hint: 'Stored and never shown; leave it as it is to keep it.' })),
    ],
    save: async () => saved(await put('/api/v1/settings', {
      notifications: {
        email: {
          enabled: enabled.checked,
          to: to.value.split(/[,;\s]+/).map((x) => x.trim()).filter(Boolean),
          from: from.value.trim(),
          smtp: { addr: addr.value.trim(), username: user.value.trim(), password: password.value },
        },
      },
    })),
  });
}
