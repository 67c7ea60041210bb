// Signing in and out (PROTOCOL §3 sessions). An agent pastes their API
// token once; the server keeps it in an HttpOnly cookie that script never
// sees, GET /api/v1/session says who is signed in when a page loads, and
// DELETE signs out. A link may carry the token in its fragment
// (#token=…, as the demo page's does): it fills the field, never signs in
// by itself, and is wiped from the address bar and history at once.

import { ApiError, del, get, onSignedOut, post } from './api.js';
import { h, replace } from './dom.js';
import { icon } from './icons.js';

// tokenFromFragment takes #token=… out of the address, returning it.
function tokenFromFragment() {
  const frag = new URLSearchParams(location.hash.slice(1));
  const tok = frag.get('token');
  if (tok === null) return '';
  history.replaceState(history.state, '', location.pathname + location.search);
  return tok;
}

// who is the signed-in agent, or null.
async function who() {
  try {
    return (await get('/api/v1/session', { quiet: true })).agent;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

// startSession shows the sign-in form until someone is signed in, then
// calls enter(agent); after a sign-out (or an expired session) it calls
// leave() and shows the form again.
export async function startSession({ page, enter, leave }) {
  const gate = document.getElementById('signin');
  const app = document.getElementById('app');
  const prefill = tokenFromFragment();
  let current = null;

  const show = (agent) => {
    current = agent;
    gate.hidden = !!agent;
    app.hidden = !agent;
    if (agent) enter(agent);
  };

  const signOut = async () => {
    try {
      await del('/api/v1/session');
    } catch { /* the cookie is gone either way once the server answers */ }
    if (current) leave();
    current = null;
    renderForm(gate, '', 'You are signed out.', show, page);
    show(null);
  };

  onSignedOut(() => {
    if (!current) return;
    leave();
    current = null;
    renderForm(gate, '', 'Your session has ended. Sign in again to go on.', show, page);
    show(null);
  });

  let agent = null;
  try {
    agent = await who();
  } catch (e) {
    renderForm(gate, prefill, e.message, show, page);
    show(null);
    return { signOut };
  }
  if (!agent || prefill) {
    renderForm(gate, prefill, '', show, page);
    if (prefill && agent) {
      // A link with a token while signed in: offer to switch, don't.
      const note = gate.querySelector('.signin-note');
      note.textContent = `You are signed in as ${agent.name}. Sign in with this token to switch.`;
      note.hidden = false;
    }
    gate.hidden = false;
    app.hidden = true;
    return { signOut };
  }
  show(agent);
  return { signOut };
}

function renderForm(gate, prefill, notice, show, page) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, value: prefill, 'aria-describedby': 'token-hint token-error',
  });
  const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h('form', { class: 'signin-card', novalidate: true },
    h('div', { class: 'brand brand-lg' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('chat')), 'Parley'),
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, page === 'settings' ? 'Settings are for admins. Sign in with your token.' : 'Sign in to your team’s inbox with your agent token.'),
    h('p', { class: 'signin-note notice', hidden: !notice, role: 'status' }, notice),
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'Token'),
      input,
      h('p', { id: 'token-hint', class: 'hint' }, 'An admin gives you a token when they add you. It stays in this browser only as a secure cookie.'),
      error),
    button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!token) {
      error.textContent = 'Paste your token to sign in.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      const res = await post('/api/v1/session', { token }, { quiet: true });
      input.value = '';
      show(res.agent);
    } catch (e) {
      error.textContent = e.status === 401 ? 'That token is not valid. Check it and try again.' : e.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
      button.textContent = 'Sign in';
    }
  });
  replace(gate, form);
  queueMicrotask(() => input.focus());
}
