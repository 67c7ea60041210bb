// Building the page from data. Every string that comes from a person (a
// customer's name, a message, a profile property, an FAQ, a macro) reaches
// the page as a text node: nothing here parses HTML, and h() refuses the
// properties that would (innerHTML and friends) and links that are not
// http(s) or this server's own.

const refused = new Set(['innerHTML', 'outerHTML', 'srcdoc', 'style']);

// h builds an element. props: class, text, dataset, on (event handlers),
// hidden/disabled/checked/value/… as properties, any other key as an
// attribute; children: strings (text nodes), nodes, arrays, or nothing.
export function h(tag, props, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false && !isProp(k)) continue;
    if (refused.has(k) || k.startsWith('on') && k !== 'on') throw new Error(`h: ${k} is not allowed`);
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (isProp(k) && !svg) el[k] = v;
    else if (k === 'href' || k === 'src') {
      const safe = safeURL(String(v));
      if (safe) el.setAttribute(k, safe);
    } else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function isProp(k) {
  return k === 'hidden' || k === 'disabled' || k === 'checked' || k === 'value' ||
    k === 'selected' || k === 'readOnly' || k === 'required' || k === 'multiple';
}

// append adds children (text, nodes, arrays; null and false are skipped).
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// safeURL is url when it is http(s), a path on this server, a fragment or
// a blob: of the page's own making; otherwise null.
export function safeURL(url) {
  if (/^(\/(?!\/)|\?|#)/.test(url)) return url;
  try {
    const u = new URL(url, location.href);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
    if (u.protocol === 'blob:' && url.startsWith('blob:' + location.origin)) return url;
  } catch { /* not a URL */ }
  return null;
}

// httpURL is url when it is an absolute http(s) URL, else null: the only
// links the pages make from what someone typed.
export function httpURL(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

// ownUpload tells whether url is an image uploaded to this server, the
// only images shown inline: any other URL would let a customer make agents'
// browsers fetch from elsewhere (a tracking pixel).
export function ownUpload(url) {
  try {
    const u = new URL(url);
    return u.origin === location.origin && /^\/uploads\/[0-9a-z]+\.(png|jpg|gif|webp)$/.test(u.pathname) && !u.search;
  } catch {
    return false;
  }
}

// initials are up to two letters of a name, for an avatar; none for a
// name without letters (a customer known by their phone number).
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  if (!/\p{L}/u.test(name)) return '';
  const first = [...words[0]][0] || '';
  const last = words.length > 1 ? [...words[words.length - 1]][0] || '' : '';
  return (first + last).toUpperCase();
}

// avatar is a round badge with a name's initials, in a colour of its own.
export function avatar(name, seed, size = '') {
  let n = 0x811c9dc5; // FNV-1a: the colours spread evenly even for ids that differ by a letter
  for (const ch of String(seed || name || '')) n = Math.imul(n ^ ch.codePointAt(0), 0x01000193) >>> 0;
  n = (n ^ (n >>> 16)) >>> 0;
  const letters = initials(name);
  return h('span', { class: ['avatar', `avatar-c${n % 8}`, size && `avatar-${size}`, !letters && 'avatar-blank'], 'aria-hidden': 'true' }, letters);
}

const minute = 60e3, hour = 60 * minute, day = 24 * hour;

// ago is a short relative time: "now", "5m", "3h", "2d", then a date.
export function ago(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = Math.max(0, now - t);
  if (d < minute) return 'now';
  if (d < hour) return `${Math.floor(d / minute)}m`;
  if (d < day) return `${Math.floor(d / hour)}h`;
  if (d < 7 * day) return `${Math.floor(d / day)}d`;
  return new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

// waited is how long since iso, in words: "45 s", "4 min", "2 h 5 min".
export function waited(iso, now = Date.now()) {
  const d = Math.max(0, now - Date.parse(iso));
  if (d < minute) return `${Math.floor(d / 1000)} s`;
  if (d < hour) return `${Math.floor(d / minute)} min`;
  return `${Math.floor(d / hour)} h ${Math.floor(d % hour / minute)} min`;
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function fullTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// dayLabel is "Today", "Yesterday" or the date, for separators in a thread.
export function dayLabel(iso) {
  const d = new Date(iso), today = new Date();
  const start = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((start(today) - start(d)) / day);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
}

// announce says something to screen readers through the page's live region.
export function announce(text) {
  const live = document.getElementById('live');
  if (live) live.textContent = text;
}

// toast shows a short message at the bottom of the page for a few seconds
// (kind "error" stays until dismissed).
export function toast(text, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts' });
    document.body.append(box);
  }
  const close = () => item.remove();
  const item = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, text),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', on: { click: close } }, '×'));
  box.append(item);
  if (kind !== 'error') setTimeout(close, 4000);
  else setTimeout(close, 12000);
}
