// Office hours (C3, S9): the store's time zone, a weekly table of opening
// spans per day, and the message shoppers get while the team is away. The
// server checks the zone and the times and names the day at fault.

import { put } from './api.js';
import { h, replace } from './dom.js';
import { icon } from './icons.js';
import { card, check, checkbox, field, input, textarea } from './settings-form.js';

const days = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];

function zones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

export function hoursCard(settings, saved) {
  const o = settings.office_hours;
  const enabled = checkbox({ checked: o.enabled });
  const zone = input({ value: o.time_zone, list: 'time-zones', spellcheck: 'false', autocomplete: 'off', placeholder: 'Europe/Stockholm' });
  const zoneList = h('datalist', { id: 'time-zones' }, ['UTC', ...zones()].map((z) => h('option', { value: z })));
  const away = textarea({ value: o.away_message, rows: '2' });
  const weekly = structuredClone(o.weekly || {});
  const table = h('div', { class: 'week', role: 'group', 'aria-label': 'Weekly schedule' });

  const draw = () => replace(table, days.map(([key, name]) => {
    const spans = weekly[key] || [];
    const add = h('button', {
      type: 'button', class: 'btn btn-ghost btn-xs', 'aria-label': `Add hours on ${name}`,
      on: { click: () => { const last = spans[spans.length - 1]; (weekly[key] = spans).push(last ? [last[1], '24:00'] : ['09:00', '17:00']); draw(); focusLast(key); } },
    }, icon('plus'), 'Add hours');
    return h('div', { class: 'day', dataset: { field: `office_hours.weekly.${key}`, day: key } },
      h('div', { class: 'day-name' }, name),
      h('div', { class: 'day-spans' },
        spans.length ? spans.map((span, i) => h('div', { class: 'span' },
          time(span, 0, `${name} opens`), h('span', { class: 'muted' }, '–'), time(span, 1, `${name} closes`),
          h('button', {
            type: 'button', class: 'btn btn-icon btn-xs', 'aria-label': `Remove ${name} ${span[0]}–${span[1]}`,
            on: { click: () => { spans.splice(i, 1); if (!spans.length) delete weekly[key]; draw(); } },
          }, icon('x')))) : h('span', { class: 'day-closed' }, 'Closed'),
        add),
      h('p', { class: 'field-error day-error' }));
  }));
  const focusLast = (key) => table.querySelector(`[data-day="${key}"] .span:last-of-type input`)?.focus();
  draw();

  return card({
    id: 'hours', title: 'Office hours',
    intro: 'Outside these hours a shopper’s message is answered once with the away message and when you are back.',
    body: [
      check('Use office hours', enabled, { name: 'office_hours.enabled', hint: 'When off, the team counts as always in.' }),
      field('Time zone', zone, { name: 'office_hours.time_zone', hint: 'The store’s zone, as in the time zone database: Europe/Stockholm, America/New_York, UTC.' }),
      zoneList,
      h('div', { class: 'field field-wide' }, h('span', { class: 'label' }, 'Weekly hours'), table,
        h('p', { class: 'hint' }, 'Times are HH:MM in the store’s zone; 24:00 closes at midnight. A day without hours is closed.')),
      field('Away message', away, { name: 'office_hours.away_message' }),
    ],
    save: async () => saved(await put('/api/v1/settings', {
      office_hours: { enabled: enabled.checked, time_zone: zone.value.trim(), weekly, away_message: away.value },
    })),
  });
}

// time is the input of one end of a span; it writes into the span as typed.
function time(span, end, label) {
  return h('input', {
    type: 'text', class: 'input input-time', value: span[end], inputmode: 'numeric', maxlength: '5',
    placeholder: end ? '17:00' : '09:00', 'aria-label': label, pattern: '([01][0-9]|2[0-4]):[0-5][0-9]',
    on: { input: (e) => { span[end] = e.target.value.trim(); } },
  });
}
