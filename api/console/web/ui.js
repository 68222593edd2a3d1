// Small DOM helpers shared by the pages. Text always goes in through
// textContent (never innerHTML), so data from the API cannot become markup.

/** Makes an element: h('button', {class: 'btn', onclick: fn}, 'Save'). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces el's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
export const uid = (prefix) => `${prefix}-${++idCounter}`;

/** "12 Mar 2026, 14:05" in the reader's locale, or a dash. */
export function fmtTime(value) {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "3 min ago" / "in 2 days". */
export function fmtAgo(value) {
  if (!value) return 'never';
  const secs = (new Date(value).getTime() - Date.now()) / 1000;
  const units = [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60]];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of units) if (Math.abs(secs) >= size) return rtf.format(Math.round(secs / size), unit);
  return rtf.format(Math.round(secs), 'second');
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim() }, text);
}

/** A polite live region for short notes ("Key revoked"). */
export function toast(message, kind = 'ok') {
  const region = document.getElementById('toasts');
  const note = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  region.append(note);
  setTimeout(() => note.remove(), 6000);
}

/** d as a datetime-local input's value (local time, minutes). */
export function localInput(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A labelled form field; returns {wrap, input}. */
export function field(label, input, hint) {
  const id = input.id || uid('f');
  input.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const wrap = h('div', { class: 'field', dataset: { field: input.name || '' } }, h('label', { for: id }, label), input, hintEl, error);
  return { wrap, input };
}

/** Shows the API's field_errors next to the fields of form (by name). */
export function showFieldErrors(form, err) {
  form.querySelectorAll('.field-error').forEach((e) => {
    e.hidden = true;
    e.textContent = '';
  });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const general = form.querySelector('.form-error');
  const fields = (err && err.fieldErrors) || {};
  const unplaced = [];
  for (const [name, message] of Object.entries(fields)) {
    const wrap = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const slot = wrap && wrap.querySelector('.field-error');
    if (!slot) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    slot.textContent = message;
    slot.hidden = false;
    const input = wrap.querySelector('input, textarea, select');
    if (input) input.setAttribute('aria-invalid', 'true');
  }
  if (general) {
    const text = [err ? err.message : '', ...unplaced].filter(Boolean).join(' — ');
    general.textContent = text;
    general.hidden = !text;
  }
}

/**
 * Opens a modal dialog (native <dialog>: focus stays inside, Esc closes).
 * content: nodes of the body; actions: [{label, kind, onclick}] — an
 * onclick returning false keeps the dialog open. Returns {dialog, close}.
 */
export function openDialog(title, content, actions = [], opts = {}) {
  const titleId = uid('dlg');
  const dialog = h('dialog', { class: `dialog ${opts.wide ? 'wide' : ''}`, 'aria-labelledby': titleId });
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const buttons = actions.map((a) =>
    h('button', {
      type: a.submit ? 'submit' : 'button',
      class: `btn ${a.kind || ''}`,
      form: a.submit ? a.submit : undefined,
      onclick: a.submit
        ? undefined
        : async () => {
            if ((await a.onclick?.()) !== false) close();
          },
    }, a.label));
  fill(dialog,
    h('header', { class: 'dialog-head' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', onclick: close }, '×')),
    h('div', { class: 'dialog-body' }, content),
    buttons.length ? h('footer', { class: 'dialog-foot' }, buttons) : null);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel, kind = 'danger') {
  return new Promise((resolve) => {
    let answered = false;
    const { dialog } = openDialog(title, [h('p', {}, message)], [
      { label: 'Cancel', onclick: () => { answered = true; resolve(false); } },
      { label: confirmLabel, kind, onclick: () => { answered = true; resolve(true); } },
    ]);
    dialog.addEventListener('close', () => { if (!answered) resolve(false); });
  });
}

/** A button that copies text() to the clipboard and says so. */
export function copyButton(text, label = 'Copy') {
  const btn = h('button', { type: 'button', class: 'btn small' }, label);
  btn.addEventListener('click', async () => {
    const value = typeof text === 'function' ? text() : text;
    try {
      await navigator.clipboard.writeText(value);
      btn.textContent = 'Copied';
    } catch {
      btn.textContent = 'Select and copy';
    }
    setTimeout(() => { btn.textContent = label; }, 2000);
  });
  return btn;
}

/** Tabs over code samples: {label: code}; arrow keys move between tabs. */
export function codeTabs(samples, name = 'Examples') {
  const labels = Object.keys(samples);
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': name });
  const panels = [];
  const tabs = labels.map((label, i) => {
    const tabId = uid('tab');
    const panelId = uid('panel');
    const code = samples[label];
    const panel = h('div', { class: 'code-panel', role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, hidden: i !== 0 },
      h('pre', { tabindex: '0' }, h('code', {}, code)),
      copyButton(code, `Copy ${label}`));
    panels.push(panel);
    return h('button', { type: 'button', role: 'tab', id: tabId, class: 'tab', 'aria-controls': panelId,
      'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? '0' : '-1' }, label);
  });
  const select = (i) => {
    tabs.forEach((t, j) => {
      t.setAttribute('aria-selected', String(i === j));
      t.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    tabs[i].focus();
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(i));
    t.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight') select((i + 1) % tabs.length);
      if (e.key === 'ArrowLeft') select((i + tabs.length - 1) % tabs.length);
    });
  });
  tablist.append(...tabs);
  return h('div', { class: 'code-tabs' }, tablist, panels);
}

/** The card shown to demo organizations instead of a feature's forms. */
export function proCard(feature) {
  return h('section', { class: 'card pro-card', 'aria-labelledby': 'pro-title' },
    h('h2', { id: 'pro-title' }, `${feature} are available on Pro`),
    h('p', {}, `Your organization is on the demo plan, which is read-only. Upgrade to the Pro plan to create and manage ${feature.toLowerCase()}.`),
    h('p', { class: 'muted' }, 'Ask your busline operator to move the organization to Pro or Enterprise.'));
}

/** A page-level error box for a failed load. */
export function errorBox(err) {
  return h('div', { class: 'card error-box', role: 'alert' },
    h('strong', {}, 'Could not load this page. '), err.message,
    err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null);
}
