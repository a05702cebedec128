// Tiny DOM helpers. Everything is built with createElement, setAttribute and text nodes: no string ever
// becomes markup (the console runs under Trusted Types with no policy, so an HTML sink would be a CSP
// violation anyway).

const BOOLEAN_ATTRIBUTES = new Set([
  'disabled', 'required', 'hidden', 'checked', 'selected', 'readonly', 'multiple', 'open', 'autofocus', 'novalidate',
]);

/** Attributes that would run or load something: refused outright. */
const FORBIDDEN = /^(on|style$|srcdoc$|formaction$)/i;

function append(parent, child) {
  if (child === null || child === undefined || child === false || child === true) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
    return;
  }
  if (child instanceof Node) {
    parent.append(child);
    return;
  }
  parent.append(document.createTextNode(String(child)));
}

/**
 * Creates an element: `h('button', {type: 'button', class: 'primary', on: {click: f}, testid: 'x'}, 'Text')`.
 * Attribute values are set with setAttribute (never parsed as markup); `on` adds listeners; `testid` sets
 * `data-testid`; `dataset` sets data attributes; children are nodes, strings (text nodes) or arrays.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null) continue;
      if (name === 'on') {
        for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
      } else if (name === 'testid') {
        el.setAttribute('data-testid', String(value));
      } else if (name === 'dataset') {
        for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
      } else if (name === 'class') {
        const list = Array.isArray(value) ? value.filter(Boolean) : String(value).split(/\s+/).filter(Boolean);
        if (list.length) el.classList.add(...list);
      } else if (name === 'value' && (tag === 'input' || tag === 'textarea' || tag === 'select')) {
        el.value = String(value);
      } else if (FORBIDDEN.test(name)) {
        throw new Error(`h(): the attribute '${name}' is not allowed`);
      } else if (BOOLEAN_ATTRIBUTES.has(name)) {
        if (value) el.setAttribute(name, '');
      } else {
        el.setAttribute(name, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

/** Replaces a node's children (nodes, strings as text, arrays; null, undefined and booleans are skipped). */
export function mount(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

/** Appends children to a node (same rules as mount). */
export function add(parent, ...children) {
  append(parent, children);
  return parent;
}

/** Sets a node's text (and nothing else). */
export function text(node, value) {
  node.textContent = value === null || value === undefined ? '' : String(value);
  return node;
}

let counter = 0;

/** A fresh element id (for label/for and aria-describedby pairs). */
export function uid(prefix = 'k') {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled form field: `<div class="field"><label for=id>…</label>control<p class="hint">…</p></div>`. */
export function field(labelText, control, { hint, testid, wide } = {}) {
  const id = control.id || uid('f');
  control.id = id;
  if (testid && !control.hasAttribute('data-testid')) control.setAttribute('data-testid', testid);
  const parts = [h('label', { for: id }, labelText), control];
  if (hint) {
    const hintId = uid('hint');
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: ['field', wide ? 'field-wide' : ''] }, parts);
}

/** A table with column headers (`<th scope="col">`) and rows of cells; a cell may be a node or text. The first
 * cell of a row is a row header (`<th scope="row">`) when `rowHeaders` is set. */
export function table(caption, headers, rows, { rowHeaders = false, testid, rowTestid, className } = {}) {
  const head = h('thead', null, h('tr', null, headers.map((c) => h('th', { scope: 'col' }, c))));
  const body = h(
    'tbody',
    null,
    rows.map((row, i) => {
      const cells = row.cells || row;
      return h(
        'tr',
        { testid: row.testid || (rowTestid ? rowTestid(i) : undefined), class: row.className },
        cells.map((c, j) => (rowHeaders && j === 0 ? h('th', { scope: 'row' }, c) : h('td', null, c))),
      );
    }),
  );
  const t = h('table', { class: ['data', className], testid }, caption ? h('caption', null, caption) : null, head, body);
  return h('div', { class: 'table-wrap' }, t);
}

/** A description list of [term, value, testid?] rows. */
export function dl(rows, className) {
  return h(
    'dl',
    { class: ['fields', className] },
    rows.filter(Boolean).map(([term, value, testid]) => h('div', { class: 'row' }, h('dt', null, term), h('dd', { testid }, value))),
  );
}
