// The agent API from a page signed in with the session cookie (PROTOCOL §3):
// JSON in and out, and on every request that changes something the header
// X-Parley-CSRF: 1, which the server requires alongside the cookie. A
// refusal becomes an ApiError carrying the server's code, message and the
// field it names, so that a form can show it next to the right input.

export class ApiError extends Error {
  constructor(status, code, message, field = '') {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  // about is the message told about the field it names, without the
  // field's name the server starts it with ("body: unknown placeholder
  // {{order_id}}" → "Unknown placeholder {{order_id}}"; "question: is
  // required" → "Question is required", with label "Question").
  about(label = '') {
    let m = this.message;
    if (this.field && m.startsWith(`${this.field}: `)) m = m.slice(this.field.length + 2);
    else return m;
    if (label && /^(is|are|must|has|have)\b/.test(m)) return `${label} ${m}`;
    return m.charAt(0).toUpperCase() + m.slice(1);
  }
}

const signedOut = new Set();

// onSignedOut registers what to do when the server no longer knows the
// session (it expired, or the agent was disabled).
export function onSignedOut(fn) {
  signedOut.add(fn);
}

// request calls the API; body is a JSON value or a FormData.
export async function request(method, path, body, { quiet = false } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-Parley-CSRF'] = '1';
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');
  }
  let data = null;
  if ((res.headers.get('Content-Type') || '').startsWith('application/json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  const e = (data && data.error) || {};
  let message = e.message || `The server answered ${res.status} ${res.statusText}.`;
  if (res.status === 429) {
    const wait = res.headers.get('Retry-After');
    message = `Too many requests at once${wait ? `; try again in ${wait} s` : ''}.`;
  }
  const err = new ApiError(res.status, e.code || 'http', message, e.field || '');
  if (res.status === 401 && !quiet) for (const fn of signedOut) fn(err);
  throw err;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body, opts);
export const put = (path, body, opts) => request('PUT', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

// path joins a route and escaped ids: path('/api/v1/tickets', id, 'read').
export function path(base, ...parts) {
  return [base, ...parts.map((p) => encodeURIComponent(p))].join('/');
}

// query is "?a=1&b=2" of the set values, or "".
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
