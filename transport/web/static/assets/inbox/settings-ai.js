// The AI agent (S10, C4, C6): whether it answers new chats first, how sure
// its built-in answers must be, where it hands a chat it cannot answer, and
// an optional model. The section is saved whole (a PUT replaces all of
// "ai"): a helpdesk not chosen keeps what is stored for it. The model's API
// key, the Zendesk token and the Gorgias key are write-only: the server
// shows them masked, and the mask sent back keeps them.

import { put } from './api.js';
import { h } from './dom.js';
import { card, check, checkbox, field, input, select, textarea } from './settings-form.js';

// The server's words when the store has written no handoff message.
const defaultMessage = 'I can’t answer that myself. Please contact our customer service.';

const targets = [
  ['helpdesk', 'Our Helpdesk (this inbox)'],
  ['zendesk', 'Zendesk'],
  ['gorgias', 'Gorgias'],
  ['message', 'A message to the shopper'],
];

const consequences = {
  helpdesk: 'The chat becomes a ticket in the inbox with its whole transcript, and a person answers in the chat.',
  zendesk: 'A Zendesk ticket is made with the transcript and the chat ends: your team answers by e-mail. If Zendesk cannot be reached, the chat comes to this inbox instead.',
  gorgias: 'A Gorgias ticket is made with the transcript and the chat ends: your team answers by e-mail. If Gorgias cannot be reached, the chat comes to this inbox instead.',
  message: 'The shopper reads your message below. No ticket is made, and the AI goes on answering their next questions.',
};

const secretHint = 'Stored and never shown; leave it as it is to keep it.';

export function aiCard(settings, saved) {
  let stored = settings.ai;
  const enabled = checkbox();
  const confidence = input({ type: 'number', min: '0', max: '1', step: '0.05', inputmode: 'decimal', class: 'input input-narrow' });
  const target = select(targets);
  const message = textarea({ rows: '2', maxlength: '1000', placeholder: defaultMessage });
  const llm = { base_url: url('https://api.openai.com/v1'), model: input({ placeholder: 'gpt-4o-mini', spellcheck: 'false', autocomplete: 'off' }), api_key: secret() };
  const zendesk = { base_url: url('https://yourstore.zendesk.com'), email: input({ type: 'email', placeholder: 'support@yourstore.com', autocomplete: 'off' }), api_token: secret() };
  const gorgias = { base_url: url('https://yourstore.gorgias.com'), username: input({ type: 'email', placeholder: 'support@yourstore.com', autocomplete: 'off' }), api_key: secret() };

  // fill shows what the server has stored.
  const fill = (ai) => {
    enabled.checked = ai.enabled;
    confidence.value = String(ai.min_confidence);
    target.value = ai.handoff;
    message.value = ai.handoff_message || '';
    for (const [inputs, values] of [[llm, ai.llm], [zendesk, ai.zendesk], [gorgias, ai.gorgias]]) {
      for (const [k, el] of Object.entries(inputs)) el.value = values?.[k] || '';
    }
  };

  const targetField = field('Hand off to', target, { name: 'ai.handoff', hint: ' ' });
  const targetHint = targetField.querySelector('.hint');
  const messageField = field('Handoff message', message, {
    name: 'ai.handoff_message', wide: true,
    hint: `What the shopper reads when the AI cannot help. Left empty: “${defaultMessage}”`,
  });
  const zendeskBox = group('ai.zendesk', 'Zendesk',
    'Tickets are made with this Zendesk user’s API token, with the shopper as the requester. The token is made in Admin Center → Apps and integrations → APIs → Zendesk API.',
    field('Zendesk URL', zendesk.base_url, { name: 'ai.zendesk.base_url' }),
    field('Zendesk user’s e-mail', zendesk.email, { name: 'ai.zendesk.email' }),
    field('Zendesk API token', zendesk.api_token, { name: 'ai.zendesk.api_token', hint: secretHint }));
  const gorgiasBox = group('ai.gorgias', 'Gorgias',
    'Tickets are made with your REST API credentials, with the shopper as the customer. Find them in Gorgias under Settings → REST API.',
    field('Gorgias URL', gorgias.base_url, { name: 'ai.gorgias.base_url' }),
    field('Gorgias username', gorgias.username, { name: 'ai.gorgias.username', hint: 'The e-mail you sign in with.' }),
    field('Gorgias API key', gorgias.api_key, { name: 'ai.gorgias.api_key', hint: secretHint }));
  const modelBox = group('ai.llm', 'Model (optional)',
    'Without a model, the AI answers with your published FAQs word for word. With one, it writes each answer from your three most relevant published FAQs and articles, in the shopper’s language, and hands off when they do not cover the question. Any OpenAI-compatible Chat Completions API will do; leave the base URL empty to use none.',
    field('Model API base URL', llm.base_url, { name: 'ai.llm.base_url' }),
    field('Model', llm.model, { name: 'ai.llm.model' }),
    field('Model API key', llm.api_key, { name: 'ai.llm.api_key', hint: secretHint }));

  // show reveals what the chosen target needs.
  const show = () => {
    targetHint.textContent = `When the AI cannot answer, or the shopper asks for a person. ${consequences[target.value] || ''}`;
    messageField.hidden = target.value !== 'message';
    zendeskBox.hidden = target.value !== 'zendesk';
    gorgiasBox.hidden = target.value !== 'gorgias';
  };
  target.addEventListener('change', show);
  fill(stored);
  show();

  // section is the "ai" the server is sent: every field of it, since a PUT
  // replaces it whole. The helpdesk in use is sent as shown, so that the
  // server checks it; the other keeps what is stored.
  const section = () => {
    const min = confidence.valueAsNumber;
    if (!Number.isFinite(min)) throw Object.assign(new Error('Enter a number from 0 to 1, such as 0.6.'), { field: 'ai.min_confidence' });
    const ai = { enabled: enabled.checked, handoff: target.value, min_confidence: min, handoff_message: message.value.trim() };
    if (llm.base_url.value.trim()) ai.llm = values(llm);
    ai.zendesk = target.value === 'zendesk' ? values(zendesk) : stored.zendesk;
    ai.gorgias = target.value === 'gorgias' ? values(gorgias) : stored.gorgias;
    return ai;
  };

  return card({
    id: 'ai', title: 'AI agent',
    intro: 'An AI assistant answers shoppers first, at any hour, from your published FAQs and articles, and hands the chat on when it cannot help.',
    body: [
      check('AI agent answers first', enabled, {
        name: 'ai.enabled',
        hint: 'Turned on, it answers the chats started from then on. When off, your team answers every chat; turning it off sends each chat the AI has to the inbox with the shopper’s next message.',
      }),
      field('Minimum confidence', confidence, {
        name: 'ai.min_confidence',
        hint: 'From 0 to 1: how sure the built-in answers must be that an FAQ answers the question. Below it, the AI hands off instead. Higher means fewer wrong answers and more handoffs; 0.6 is a good start. A model decides for itself.',
      }),
      targetField, messageField, zendeskBox, gorgiasBox, modelBox,
    ],
    save: async () => {
      const s = await put('/api/v1/settings', { ai: section() });
      saved(s);
      stored = s.ai;
      fill(stored);
      show();
    },
  });
}

// group is a titled set of fields that the server may name as a whole
// ("ai.zendesk"), with its own place for that error.
function group(name, title, hint, ...fields) {
  const id = `group-${name.replaceAll('.', '-')}`;
  return h('fieldset', { class: 'subsection', id, dataset: { field: name }, 'aria-describedby': `${id}-hint ${id}-error` },
    h('legend', {}, title),
    h('p', { class: 'hint', id: `${id}-hint` }, hint),
    h('div', { class: 'grid-3' }, fields),
    h('p', { class: 'field-error', id: `${id}-error` }));
}

function url(placeholder) {
  return input({ type: 'url', placeholder, spellcheck: 'false', autocomplete: 'off' });
}

// secret is a write-only field: focused, its mask is selected, so that
// what is typed replaces it rather than adding to it.
function secret() {
  return input({ type: 'password', autocomplete: 'new-password', spellcheck: 'false', on: { focus: (e) => e.target.select() } });
}

// values reads a sub-section's inputs: trimmed, the secret as typed.
function values(inputs) {
  return Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.type === 'password' ? el.value : el.value.trim()]));
}
