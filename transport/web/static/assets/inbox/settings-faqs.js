// FAQs and knowledge articles (C4, S3): the list in the order shoppers see
// it, and a form to add or edit one (question, answer, published, position,
// kind); deleting asks first.

import { del, get, path, post, put } from './api.js';
import { h, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { card, check, checkbox, clearErrors, confirmButton, field, input, select, showError, textarea } from './settings-form.js';

export function faqsCard() {
  const list = h('ul', { class: 'items', 'aria-label': 'FAQs' });
  const formBox = h('div', { class: 'item-form-box' });
  const addButton = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => edit(null) } }, icon('plus'), 'Add an FAQ');
  let faqs = [];

  const load = async () => {
    try {
      faqs = (await get('/api/v1/faqs')).faqs || [];
      draw();
    } catch (e) {
      replace(list, h('li', { class: 'error-text' }, e.message));
    }
  };

  const draw = () => {
    const sorted = [...faqs].sort((a, b) => a.position - b.position || a.question.localeCompare(b.question));
    if (!sorted.length) return replace(list, h('li', { class: 'items-empty muted' }, 'No FAQs yet. Shoppers go straight to a live chat.'));
    replace(list, sorted.map((f) => h('li', { class: 'item', dataset: { id: f.id } },
      h('div', { class: 'item-main' },
        h('div', { class: 'item-title' }, f.question),
        h('div', { class: 'item-text' }, f.answer),
        h('div', { class: 'item-meta' },
          h('span', { class: ['chip', f.published ? 'chip-open' : 'chip-closed'] }, f.published ? 'Published' : 'Draft'),
          h('span', { class: 'chip chip-closed' }, f.kind === 'article' ? 'Article' : 'FAQ'),
          h('span', { class: 'small muted' }, `Position ${f.position}`))),
      h('div', { class: 'item-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Edit ${f.question}`, on: { click: () => edit(f) } }, 'Edit'),
        confirmButton('Delete', 'Delete it?', async () => {
          try {
            await del(path('/api/v1/faqs', f.id));
            faqs = faqs.filter((x) => x.id !== f.id);
            draw();
            toast('FAQ deleted');
          } catch (e) {
            toast(e.message, 'error');
          }
        })))));
  };

  // edit opens the form for f, or for a new FAQ.
  const edit = (f) => {
    const question = input({ value: f?.question || '', maxlength: '500' });
    const answer = textarea({ value: f?.answer || '', rows: '4' });
    const published = checkbox({ checked: f ? f.published : true });
    const position = input({ type: 'number', min: '0', step: '1', value: String(f?.position ?? (faqs.length ? Math.max(...faqs.map((x) => x.position)) + 1 : 1)), class: 'input input-narrow' });
    const kind = select([['faq', 'FAQ — shown to shoppers'], ['article', 'Article — knowledge for the AI agent']]);
    kind.value = f?.kind || 'faq';
    const error = h('p', { class: 'form-error field-error', role: 'alert' });
    const form = h('form', { class: 'item-form', novalidate: true, 'aria-label': f ? 'Edit FAQ' : 'New FAQ' },
      h('h3', {}, f ? 'Edit FAQ' : 'New FAQ'),
      field('Question', question, { name: 'question' }),
      field('Answer', answer, { name: 'answer' }),
      h('div', { class: 'grid-3' }, field('Kind', kind, { name: 'kind' }), field('Position', position, { name: 'position', hint: 'Lower comes first.' }),
        check('Published', published, { name: 'published' })),
      error,
      h('div', { class: 'card-foot' },
        h('button', { type: 'button', class: 'btn btn-ghost', on: { click: () => close() } }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, f ? 'Save FAQ' : 'Add FAQ')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const body = { question: question.value, answer: answer.value, published: published.checked, position: Number(position.value || 0), kind: kind.value };
      try {
        const saved = f ? await put(path('/api/v1/faqs', f.id), body) : await post('/api/v1/faqs', body);
        faqs = [...faqs.filter((x) => x.id !== saved.id), saved];
        close();
        draw();
        toast(f ? 'FAQ saved' : 'FAQ added');
      } catch (e) {
        showError(form, e, error);
      }
    });
    replace(formBox, form);
    addButton.hidden = true;
    question.focus();
  };
  const close = () => {
    formBox.replaceChildren();
    addButton.hidden = false;
    addButton.focus();
  };

  load();
  return card({
    id: 'faqs', title: 'FAQs',
    intro: 'Published FAQs are the first thing shoppers see in the chat; picking one answers at once, without a ticket.',
    body: [list, formBox, h('div', { class: 'card-foot card-foot-start' }, addButton)],
  });
}
