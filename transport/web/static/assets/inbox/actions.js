// What an agent does to a ticket besides replying (H3, H6): assign it (to
// themselves, or — admins — to anyone on the team), unassign it, snooze it
// until a time, and close it for good.

import { get, path, post } from './api.js';
import { h, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { popover } from './popover.js';

let team = null; // the admin's list of agents, fetched once a page

async function agents(me) {
  if (me.role !== 'admin') return [];
  if (!team) {
    team = get('/api/v1/agents').then((r) => (r.agents || []).filter((a) => !a.disabled && a.role !== 'store'))
      .catch(() => { team = null; return []; });
  }
  return team;
}

// snoozePresets are the usual snoozes, in the agent's own time zone.
export function snoozePresets(now = new Date()) {
  const at = (d, hh) => { const x = new Date(d); x.setHours(hh, 0, 0, 0); return x; };
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  const monday = new Date(now);
  monday.setDate(now.getDate() + ((8 - now.getDay()) % 7 || 7));
  return [
    { label: '1 hour', until: new Date(now.getTime() + 3600e3) },
    { label: 'Tomorrow 9:00', until: at(tomorrow, 9) },
    { label: 'Next week', detail: 'Monday 9:00', until: at(monday, 9) },
  ];
}

// localInput is a time as a datetime-local input's value.
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// ticketActions builds the controls for row; onChange gets the row each
// change answers.
export function ticketActions(row, me, onChange) {
  const closed = row.status === 'closed';
  const act = async (what, body, done) => {
    try {
      const r = await post(path('/api/v1/tickets', row.id, what), body);
      onChange(r);
      done?.(r);
    } catch (e) {
      toast(e.message, 'error');
      onChange(row, true); // draw the controls as they were
    }
  };

  const select = h('select', { class: 'select select-sm', id: 'assignee', disabled: closed, 'aria-label': 'Assignee' });
  const fillAssignees = (list) => {
    const opts = [h('option', { value: '' }, 'Unassigned'), h('option', { value: me.id }, `${me.name} (you)`)];
    for (const a of list) if (a.id !== me.id) opts.push(h('option', { value: a.id }, a.name));
    if (row.assignee && !opts.some((o) => o.value === row.assignee.id)) opts.push(h('option', { value: row.assignee.id }, row.assignee.name));
    replace(select, opts);
    select.value = row.assignee ? row.assignee.id : '';
  };
  fillAssignees([]);
  agents(me).then(fillAssignees);
  select.addEventListener('change', () => {
    select.disabled = true;
    act('assign', { agent: select.value || null });
  });
  const assign = h('div', { class: 'assign' }, icon('user'), select);

  const snooze = popover({
    label: 'Snooze', content: [icon('clock'), h('span', { class: 'btn-text' }, 'Snooze')], className: 'btn-ghost btn-sm', align: 'end',
    fill: (panel, pop) => {
      const custom = h('input', { type: 'datetime-local', class: 'input input-sm', id: 'snooze-until', min: localInput(new Date()), value: localInput(snoozePresets()[1].until) });
      const err = h('p', { class: 'field-error', role: 'alert' });
      const go = (until) => {
        if (!(until > new Date())) {
          err.textContent = 'Choose a time in the future.';
          return;
        }
        pop.close(true);
        act('snooze', { until: until.toISOString() }, (r) => toast(`Snoozed until ${new Date(r.snoozed_until || until).toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit', month: 'short', day: 'numeric' })}`));
      };
      replace(panel,
        h('p', { class: 'popover-title' }, 'Snooze until…'),
        h('ul', { class: 'menu' }, snoozePresets().map((p) => h('li', {},
          h('button', { type: 'button', class: 'menu-item', on: { click: () => go(p.until) } },
            h('span', {}, p.label), h('span', { class: 'muted small' }, p.detail || p.until.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' })))))),
        h('form', { class: 'snooze-custom', on: { submit: (e) => { e.preventDefault(); go(new Date(custom.value)); } } },
          h('label', { for: 'snooze-until', class: 'small' }, 'Pick a date and time'),
          h('div', { class: 'inline' }, custom, h('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Snooze'))),
        err);
    },
  });
  snooze.button.disabled = closed;

  const close = popover({
    label: 'Close', content: [icon('archive'), h('span', { class: 'btn-text' }, 'Close')], className: 'btn-ghost btn-sm', align: 'end',
    fill: (panel, pop) => replace(panel,
      h('p', { class: 'popover-title' }, 'Close this ticket?'),
      h('p', { class: 'small muted' }, 'The chat ends for the customer, and a closed ticket cannot be reopened. If they write again, a new ticket starts.'),
      h('div', { class: 'inline inline-end' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => pop.close(true) } }, 'Cancel'),
        h('button', { type: 'button', class: 'btn btn-danger btn-sm', on: { click: () => { pop.close(false); act('close', undefined, () => toast('Ticket closed')); } } }, 'Close ticket'))),
  });
  close.button.disabled = closed;

  return h('div', { class: 'ticket-actions' }, assign, snooze.wrap, close.wrap);
}
