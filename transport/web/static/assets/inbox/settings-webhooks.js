// Webhooks (I3): the store's endpoints that hear about tickets as they
// happen. Each is listed with the events it hears; its details say how its
// deliveries are going and show the latest ones given up on, with the
// receiver's last answer. A new endpoint's signing secret is shown once,
// right after it is made: the server never shows it again.

import { del, get, path, post } from './api.js';
import { fullTime, h, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { card, clearErrors, confirmButton, copyButton, field, input, showError } from './settings-form.js';

// events are the notices an endpoint may hear, in the order they are
// delivered when one change makes several.
const events = [
  ['ticket.created', 'A conversation becomes a ticket'],
  ['message.created', 'A message is added to a ticket'],
  ['ticket.assigned', 'A ticket is assigned'],
  ['handoff', 'A conversation is handed off'],
  ['ticket.closed', 'A ticket is closed'],
];

export function webhooksCard() {
  const list = h('ul', { class: 'items', 'aria-label': 'Webhook endpoints' });
  const reveal = h('div', { class: 'token-box-wrap' });
  let hooks = [];

  const load = async () => {
    try {
      hooks = (await get('/api/v1/webhooks')).webhooks || [];
      draw();
    } catch (e) {
      replace(list, h('li', { class: 'error-text items-empty' }, e.message));
    }
  };

  const draw = () => {
    if (!hooks.length) return replace(list, h('li', { class: 'items-empty muted' }, 'No endpoints yet. Add one to have your systems hear about tickets as they happen.'));
    replace(list, hooks.map((w) => item(w, async () => {
      try {
        await del(path('/api/v1/webhooks', w.id));
        hooks = hooks.filter((x) => x.id !== w.id);
        draw();
        toast('Endpoint deleted');
      } catch (e) {
        toast(e.message, 'error');
      }
    })));
  };

  const url = input({ type: 'url', placeholder: 'https://crm.example.com/parley/webhooks', spellcheck: 'false', autocomplete: 'off', maxlength: '2048' });
  const boxes = events.map(([name]) => h('input', { type: 'checkbox', value: name, checked: true }));
  const chooser = h('fieldset', {
    class: 'subsection event-choice', id: 'webhook-events', dataset: { field: 'events' },
    'aria-describedby': 'webhook-events-hint webhook-events-error',
  },
  h('legend', {}, 'Events'),
  h('p', { class: 'hint', id: 'webhook-events-hint' }, 'The endpoint hears these, each as it happens.'),
  h('div', { class: 'event-list' }, events.map(([name, what], i) => h('label', { class: 'event-option' }, boxes[i],
    h('span', {}, h('code', {}, name), h('span', { class: 'muted' }, ` · ${what}`))))),
  h('p', { class: 'field-error', id: 'webhook-events-error' }));
  const error = h('p', { class: 'form-error field-error', role: 'alert' });
  const form = h('form', { class: 'item-form', novalidate: true, 'aria-label': 'Add an endpoint' },
    h('h3', {}, 'Add an endpoint'),
    field('Endpoint URL', url, { name: 'url', hint: 'Where Parley posts the notices: an address of your own system, https:// at best.' }),
    chooser,
    error,
    h('div', { class: 'card-foot' }, h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Add endpoint')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const res = await post('/api/v1/webhooks', { url: url.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value) });
      const { secret, ...hook } = res;
      hooks = [...hooks, hook];
      draw();
      showSecret(hook, secret);
      url.value = '';
    } catch (e) {
      showError(form, e, error);
    }
  });

  // showSecret shows the new endpoint's secret until dismissed; it is
  // never shown again.
  const showSecret = (hook, secret) => {
    const value = h('input', { class: 'input token-value', readOnly: true, value: secret, 'aria-label': `Signing secret of ${hook.url}`, spellcheck: 'false' });
    replace(reveal, h('div', { class: 'token-box', role: 'region', 'aria-label': 'New signing secret' },
      h('p', {}, h('strong', {}, 'The endpoint’s signing secret.'), ' Copy it now and keep it with your receiver: it is not shown again.'),
      h('div', { class: 'inline' }, value, copyButton(() => secret, value, { name: 'Copy the secret' })),
      h('p', { class: 'hint' }, 'Verify each delivery’s webhook-signature with this secret (Standard Webhooks).'),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => reveal.replaceChildren() } }, 'Done')));
    value.focus();
    value.select();
  };

  load();
  return card({
    id: 'webhooks', title: 'Webhooks',
    intro: 'Your own systems (a CRM, an order system) hear what happens in the chats as it happens: Parley posts a signed JSON notice to each endpoint for the events it chose, in order for each ticket, and retries a delivery for a day before it gives up.',
    body: [list, reveal, form],
  });
}

// item is one endpoint's row, with its details to open and a way to
// delete it.
function item(w, remove) {
  const details = h('div', { class: 'hook-details', id: `hook-${w.id}`, hidden: true });
  const toggle = h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', 'aria-expanded': 'false', 'aria-controls': details.id,
    'aria-label': `Details of ${w.url}`,
    on: {
      click: () => {
        const open = toggle.getAttribute('aria-expanded') !== 'true';
        toggle.setAttribute('aria-expanded', String(open));
        details.hidden = !open;
        if (open) loadDetails(w, details);
      },
    },
  }, 'Details', icon('chevron'));
  return h('li', { class: 'item hook', dataset: { id: w.id } },
    h('span', { class: 'item-icon', 'aria-hidden': 'true' }, icon('send')),
    h('div', { class: 'item-main' },
      h('div', { class: 'item-title hook-url' }, w.url),
      h('div', { class: 'item-meta' },
        (w.events || []).map((e) => h('span', { class: 'chip chip-closed chip-code' }, e)),
        w.created_at ? h('span', { class: 'small muted' }, `Added ${new Date(w.created_at).toLocaleDateString()}`) : null)),
    h('div', { class: 'item-actions' }, toggle,
      confirmButton('Delete', 'Deliveries to it stop. Delete?', remove, { name: `Delete ${w.url}` })),
    details);
}

// loadDetails fills box with how the endpoint's deliveries are going.
async function loadDetails(w, box) {
  replace(box, h('p', { class: 'small muted', role: 'status' }, 'Loading…'));
  let st;
  try {
    st = await get(path('/api/v1/webhooks', w.id));
  } catch (e) {
    replace(box, h('p', { class: 'small error-text', role: 'alert' }, e.message));
    return;
  }
  const deliveries = st.deliveries || [];
  replace(box,
    h('div', { class: 'hook-stats' },
      stat(st.pending, st.pending === 1 ? 'delivery waiting' : 'deliveries waiting', 'Not made yet, or being retried.'),
      stat(st.failed, 'failed', 'Given up on after a day of retries.', st.failed > 0),
      h('button', { type: 'button', class: 'btn btn-ghost btn-xs', 'aria-label': `Refresh the details of ${w.url}`, on: { click: () => loadDetails(w, box) } }, 'Refresh')),
    deliveries.length ? failures(deliveries) : h('p', { class: 'small muted' }, 'No failed deliveries.'));
}

function stat(n, label, hint, bad = false) {
  return h('div', { class: ['hook-stat', bad && 'is-bad'], title: hint },
    h('strong', {}, String(n ?? 0)), ' ', label);
}

// failures is the table of the latest deliveries given up on.
function failures(list) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'deliveries' },
    h('caption', {}, 'Latest failed deliveries'),
    h('thead', {}, h('tr', {}, ['Event', 'Ticket', 'Attempts', 'Last error', 'Made'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, list.map((d) => h('tr', {},
      h('td', {}, h('code', {}, d.type)),
      h('td', {}, d.ticket ? h('a', { href: `/inbox?ticket=${encodeURIComponent(d.ticket)}` }, 'Open') : '—'),
      h('td', { class: 'num' }, String(d.attempts)),
      h('td', { class: 'last-error' }, d.last_error || '—'),
      h('td', { class: 'nowrap' }, d.created_at ? fullTime(d.created_at) : '—'))))));
}
