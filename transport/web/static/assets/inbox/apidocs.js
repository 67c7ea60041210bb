// The API reference at /api/docs: the OpenAPI document the server serves
// at /api/v1/openapi.json, drawn tag by tag — each operation's method,
// path, summary, who may call it, its parameters, request body and
// answers — with the schemas after them, every one with an anchor to link
// to. Every string of the document reaches the page as text (h()).

import { h, replace } from './dom.js';

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

// refName is the last part of a $ref: "#/components/schemas/Row" → "Row".
const refName = (ref) => String(ref).split('/').pop();

// anchor ids: stable, from the document's names.
const opID = (op, method, path) => `op-${op.operationId || `${method}-${path}`}`;
const tagID = (name) => `tag-${name}`;
const schemaID = (name) => `schema-${name}`;

let doc = {};

// resolve follows a $ref inside the document (components only).
function resolve(obj) {
  let o = obj;
  for (let i = 0; o && o.$ref && i < 8; i++) {
    const parts = String(o.$ref).replace(/^#\//, '').split('/');
    let next = doc;
    for (const p of parts) next = next && next[p];
    if (!next) break;
    o = { ...next, ...Object.fromEntries(Object.entries(o).filter(([k]) => k !== '$ref')) };
  }
  return o || {};
}

// typeOf is a one-line description of a schema: its type, a link to the
// schema it refers to, or the choice it offers.
function typeOf(s) {
  if (!s || typeof s !== 'object') return h('span', { class: 'type' }, 'any');
  if (s.$ref) return h('span', { class: 'type' }, h('a', { href: `#${schemaID(refName(s.$ref))}` }, refName(s.$ref)));
  const parts = [];
  const alts = s.oneOf || s.anyOf;
  if (alts) alts.forEach((a, i) => parts.push(i ? ' | ' : '', typeOf(a)));
  else if ('const' in s) parts.push(JSON.stringify(s.const));
  else if (s.enum) parts.push(s.enum.map((v) => JSON.stringify(v)).join(' | '));
  else {
    const types = [].concat(s.type || (s.properties ? 'object' : 'any'));
    types.forEach((t, i) => {
      if (i) parts.push(' | ');
      if (t === 'array' && s.prefixItems) parts.push('[', ...s.prefixItems.flatMap((p, j) => [j ? ', ' : '', typeOf(p)]), ']');
      else if (t === 'array') parts.push('array of ', typeOf(s.items));
      else if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') parts.push('map of ', typeOf(s.additionalProperties));
      else parts.push(t);
    });
  }
  const facts = [];
  if (s.format) facts.push(s.format);
  if (s.pattern) facts.push(`pattern ${s.pattern}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) facts.push(`${s.minLength ?? 0}..${s.maxLength ?? ''} characters`);
  if (s.minimum !== undefined || s.maximum !== undefined) facts.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.maxItems !== undefined) facts.push(`at most ${s.maxItems}`);
  if (s.default !== undefined) facts.push(`default ${JSON.stringify(s.default)}`);
  if (facts.length) parts.push(` (${facts.join(', ')})`);
  return h('span', { class: 'type' }, parts);
}

// schemaView shows a schema: its type, and an object's properties one per
// line, inline objects unfolded (to depth).
function schemaView(s, depth = 0) {
  s = s || {};
  const out = h('div', { class: 'schema' });
  if (s.description && depth === 0 && !s.$ref) out.append(h('p', { class: 'prose', text: s.description }));
  const props = !s.$ref && s.properties;
  if (!props) {
    out.append(typeOf(s));
    if (s.examples) out.append(h('pre', { class: 'example', text: JSON.stringify(s.examples[0], null, 2) }));
    return out;
  }
  const required = new Set(s.required || []);
  for (const [name, p] of Object.entries(props)) {
    const about = h('div', { class: 'prop-about' }, typeOf(p), p.description && h('span', { class: 'muted', text: p.description }));
    const row = h('div', { class: 'prop' },
      h('span', { class: 'prop-name' }, name, required.has(name) && h('span', { class: 'req', title: 'required', text: '*' })),
      about);
    if (!p.$ref && p.properties && depth < 3) row.append(h('div', { class: 'prop-nested' }, schemaView(p, depth + 1)));
    out.append(row);
  }
  if (s.additionalProperties === false) out.append(h('span', { class: 'muted small', text: 'No other fields.' }));
  return out;
}

function methodChip(method) {
  return h('span', { class: ['method', `method-${method}`] }, method.toUpperCase());
}

function securityView(op) {
  const reqs = op.security || doc.security || [];
  if (!reqs.length) return h('p', { class: 'small muted', text: 'No token needed.' });
  const alts = reqs.map((r) => Object.keys(r).join(' + ') || 'none');
  return h('p', { class: 'small' }, 'Authentication: ', alts.flatMap((a, i) => [i ? ' or ' : '', h('code', { text: a })]));
}

function paramsView(params) {
  if (!params.length) return null;
  return h('div', { class: 'op-part' }, h('h4', { text: 'Parameters' }), h('div', { class: 'table-wrap' },
    h('table', { class: 'params' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Name' }), h('th', { text: 'In' }), h('th', { text: 'Type' }), h('th', { text: 'About' }))),
      h('tbody', {}, params.map((p) => h('tr', {},
        h('td', {}, h('code', { text: p.name }), p.required && h('span', { class: 'req', title: 'required', text: '*' })),
        h('td', { text: p.in }),
        h('td', {}, typeOf(p.schema)),
        h('td', { class: 'muted', text: p.description || '' })))))));
}

// contentView shows a body by media type; a schema it refers to is
// unfolded one level, so that the fields are there to read.
function contentView(content) {
  return Object.entries(content || {}).map(([type, media]) => h('div', { class: 'op-part' },
    h('span', { class: 'code muted' }, type, media.schema?.$ref && [' · ', typeOf(media.schema)]),
    media.schema && schemaView(media.schema.$ref ? resolve(media.schema) : media.schema),
    media.example !== undefined && h('pre', { class: 'example', text: typeof media.example === 'string' ? media.example : JSON.stringify(media.example, null, 2) })));
}

function responsesView(responses) {
  return h('div', { class: 'op-part' }, h('h4', { text: 'Responses' }),
    h('div', { class: 'responses' }, Object.entries(responses || {}).map(([code, r0]) => {
      const r = resolve(r0);
      const headers = Object.entries(r.headers || {}).map(([name, hd]) => h('div', { class: 'small' },
        'Header ', h('code', { text: name }), ': ', typeOf(resolve(hd).schema), resolve(hd).description && h('span', { class: 'muted', text: ` — ${resolve(hd).description}` })));
      const events = r['x-parley-events'] && h('div', { class: 'small' }, 'Events: ',
        Object.entries(r['x-parley-events']).flatMap(([name, ref], i) => [i ? ', ' : '', h('code', { text: name }), ' ', typeOf({ $ref: ref })]));
      // Errors are all the one Error body: a line each, with its meaning.
      const failure = code >= '4';
      return h('div', { class: 'response', dataset: { status: code } },
        h('div', { class: 'response-head' }, h('span', { class: ['status', `status-${code[0]}`], text: code }),
          r0.$ref && h('span', { class: 'code', text: refName(r0.$ref) }), h('span', { text: r.description || '' }),
          failure && r.content && typeOf(Object.values(r.content)[0].schema)),
        headers, events, !failure && contentView(r.content));
    })));
}

function operationView(path, method, op, shared) {
  const id = opID(op, method, path);
  const params = [...(shared || []), ...(op.parameters || [])].map(resolve);
  const body = op.requestBody && resolve(op.requestBody);
  return h('article', { class: 'op', id, 'aria-labelledby': `${id}-title` },
    h('div', { class: 'op-head' },
      h('h3', { id: `${id}-title` }, methodChip(method), h('span', { class: 'op-path', text: path }), h('span', { class: 'op-summary', text: op.summary || '' })),
      h('a', { class: 'op-anchor', href: `#${id}`, title: 'Link to this operation', text: '#' })),
    op.description && h('p', { class: 'prose', text: op.description }),
    securityView(op),
    paramsView(params),
    body && h('div', { class: 'op-part' }, h('h4', { text: body.required ? 'Request body (required)' : 'Request body' }), contentView(body.content)),
    responsesView(op.responses));
}

// operations lists [path, method, op, shared parameters] of a map of path
// items, in the document's order.
function operations(items) {
  const out = [];
  for (const [path, item] of Object.entries(items || {})) {
    for (const m of methods) if (item[m]) out.push([path, m, item[m], item.parameters]);
  }
  return out;
}

function render(content, toc) {
  const ops = operations(doc.paths);
  const tags = [...(doc.tags || [])];
  for (const [, , op] of ops) for (const t of op.tags || ['Other']) if (!tags.some((x) => x.name === t)) tags.push({ name: t });
  const info = doc.info || {};
  const parts = [h('header', { class: 'docs-head' },
    h('h1', {}, info.title || 'API', h('span', { class: 'version', text: `v${info.version || ''} · OpenAPI ${doc.openapi || ''}` })),
    info.summary && h('p', { text: info.summary }),
    info.description && h('p', { class: 'prose', text: info.description }))];
  const tocParts = [];
  for (const tag of tags) {
    const mine = ops.filter(([, , op]) => (op.tags || ['Other']).includes(tag.name));
    if (!mine.length) continue;
    parts.push(h('section', { class: 'tag', id: tagID(tag.name), 'aria-labelledby': `${tagID(tag.name)}-title` },
      h('h2', { id: `${tagID(tag.name)}-title`, text: tag.name }),
      tag.description && h('p', { class: 'prose', text: tag.description }),
      mine.map(([path, m, op, shared]) => operationView(path, m, op, shared))));
    tocParts.push(h('h2', {}, h('a', { href: `#${tagID(tag.name)}`, text: tag.name })),
      h('ul', {}, mine.map(([path, m, op]) => h('li', {}, h('a', { href: `#${opID(op, m, path)}` }, methodChip(m), path)))));
  }
  const hooks = operations(doc.webhooks);
  if (hooks.length) {
    parts.push(h('section', { class: 'tag', id: 'tag-webhooks-sent', 'aria-labelledby': 'webhooks-sent-title' },
      h('h2', { id: 'webhooks-sent-title', text: 'Webhooks Parley sends' }),
      hooks.map(([name, m, op, shared]) => operationView(name, m, op, shared))));
    tocParts.push(h('h2', {}, h('a', { href: '#tag-webhooks-sent', text: 'Webhooks Parley sends' })));
  }
  const schemes = Object.entries(doc.components?.securitySchemes || {});
  parts.push(h('section', { class: 'tag', id: 'tag-authentication' }, h('h2', { text: 'Authentication' }),
    schemes.map(([name, s]) => h('article', { class: 'op', id: `security-${name}` },
      h('div', { class: 'op-head' }, h('h3', {}, h('code', { text: name }), h('span', { class: 'op-summary', text: s.scheme ? `${s.type} ${s.scheme}` : `${s.type}: ${s.in} ${s.name}` }))),
      s.description && h('p', { class: 'prose', text: s.description })))));
  const schemas = Object.entries(doc.components?.schemas || {});
  parts.push(h('section', { class: 'tag', id: 'tag-schemas' }, h('h2', { text: 'Schemas' }),
    schemas.map(([name, s]) => h('article', { class: 'op', id: schemaID(name) },
      h('div', { class: 'op-head' }, h('h3', {}, h('span', { class: 'op-path', text: name })), h('a', { class: 'op-anchor', href: `#${schemaID(name)}`, text: '#' })),
      schemaView(s)))));
  tocParts.push(h('h2', {}, h('a', { href: '#tag-authentication', text: 'Authentication' })), h('h2', {}, h('a', { href: '#tag-schemas', text: 'Schemas' })));
  replace(content, parts);
  replace(toc, tocParts);
}

async function main() {
  const content = document.getElementById('content');
  const toc = document.getElementById('toc');
  try {
    const res = await fetch('/api/v1/openapi.json', { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    doc = await res.json();
  } catch (e) {
    replace(content, h('p', { class: 'error-text', role: 'alert', text: `The API's document could not be loaded: ${e.message}.` }));
    return;
  }
  render(content, toc);
  document.title = `${doc.info?.title || 'API'} reference · Parley`;
  const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) target.scrollIntoView();
}

main();
