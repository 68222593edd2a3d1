// API keys: the organization's keys as cards, a create dialog, the new token
// shown once, revoke with confirmation, and ready-to-paste examples.
import { ApiError, del, get, post } from '../api.js';
import { badge, codeTabs, confirmDialog, copyButton, errorBox, field, fill, fmtAgo, fmtTime, h, openDialog,
  proCard, showFieldErrors, toast } from '../ui.js';
import { keyExamples } from '../snippets.js';

const LEVELS = ['read', 'write', 'admin'];
const LEVEL_HELP = { read: 'GET requests', write: 'GET, POST and PUT', admin: 'everything, incl. DELETE and key and webhook management' };
const EXPIRIES = [['', 'Never'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days'], ['7776000', '90 days'], ['31536000', '1 year']];

function keyState(k) {
  if (!k.active) return ['Revoked', 'off'];
  if (k.expires_at && new Date(k.expires_at).getTime() <= Date.now()) return ['Expired', 'warn'];
  return ['Active', 'ok'];
}

function keyCard(k, onRevoke) {
  const [state, kind] = keyState(k);
  const perms = Array.isArray(k.permissions) ? k.permissions : [k.permissions];
  return h('article', { class: `card key-card ${kind}`, 'aria-labelledby': `key-${k.id}`, dataset: { keyId: k.id } },
    h('header', { class: 'card-head' },
      h('h3', { id: `key-${k.id}` }, k.name),
      badge(state, `state ${kind}`)),
    h('p', { class: 'mono muted' }, `${k.prefix || 'bl_live_'}…`),
    h('div', { class: 'badges', 'aria-label': 'Permissions' }, perms.map((p) => badge(p, `perm perm-${p}`))),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Created'), h('dd', {}, fmtTime(k.created_at))),
      h('div', {}, h('dt', {}, 'Last used'), h('dd', { title: fmtTime(k.last_used_at) }, fmtAgo(k.last_used_at))),
      h('div', {}, h('dt', {}, 'Requests'), h('dd', { class: 'usage-count' }, Number(k.usage_count || 0).toLocaleString())),
      h('div', {}, h('dt', {}, 'Expires'), h('dd', {}, k.expires_at ? fmtTime(k.expires_at) : 'Never'))),
    k.active ? h('footer', { class: 'card-foot' },
      h('button', { type: 'button', class: 'btn small danger', onclick: () => onRevoke(k) }, 'Revoke')) : null);
}

/** The once-only panel with the new token. */
function tokenPanel(created) {
  return h('section', { class: 'card token-panel', role: 'region', 'aria-labelledby': 'token-title', tabindex: '-1' },
    h('h2', { id: 'token-title' }, `Your new key “${created.name}”`),
    h('p', { class: 'warning' }, h('strong', {}, 'Copy it now: '), 'this token is shown only once and can never be shown again. busline stores only its hash.'),
    h('div', { class: 'token-row' },
      h('code', { class: 'token', id: 'new-token' }, created.token),
      copyButton(created.token, 'Copy token')),
    h('button', { type: 'button', class: 'btn small ghost', onclick: (e) => e.target.closest('.token-panel').remove() }, 'I have stored it'));
}

function createDialog(onCreated) {
  const name = field('Name', h('input', { name: 'name', required: true, maxlength: '200', placeholder: 'e.g. CI deploys' }));
  const boxes = LEVELS.map((level) => h('input', { type: 'checkbox', name: 'perm', value: level, id: `perm-${level}`, checked: level === 'read' }));
  // Levels include the lower ones: ticking admin ticks write and read.
  boxes.forEach((box, i) => box.addEventListener('change', () => {
    boxes.forEach((other, j) => {
      if (box.checked && j < i) other.checked = true;
      if (!box.checked && j > i) other.checked = false;
    });
  }));
  const perms = h('fieldset', { class: 'field checks', dataset: { field: 'permission' } },
    h('legend', {}, 'Permissions'),
    LEVELS.map((level, i) => h('div', { class: 'check' }, boxes[i],
      h('label', { for: `perm-${level}` }, h('strong', {}, level), ` — ${LEVEL_HELP[level]}`))),
    h('p', { class: 'field-error', hidden: true }));
  const expiry = field('Expires', h('select', { name: 'expires_in_seconds' }, EXPIRIES.map(([v, l]) => h('option', { value: v }, l))),
    'Optional. Expired keys stop working at once.');
  expiry.wrap.dataset.field = 'expires_in_seconds';
  const form = h('form', { id: 'create-key-form' }, name.wrap, perms, expiry.wrap, h('p', { class: 'form-error', role: 'alert', hidden: true }));
  const dlg = openDialog('Create an API key', [form], [
    { label: 'Cancel' },
    { label: 'Create key', kind: 'primary', submit: 'create-key-form' },
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const level = [...boxes].reverse().find((b) => b.checked);
    const body = { name: name.input.value.trim(), permission: level ? level.value : 'none' };
    if (expiry.input.value) body.expires_in_seconds = Number(expiry.input.value);
    try {
      const created = await post('/v1/api-keys', body);
      dlg.close();
      onCreated(created);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err);
    }
  });
  name.input.focus();
}

export async function renderKeys(view, claims) {
  fill(view, h('header', { class: 'page-head' }, h('h1', {}, 'API keys')));
  if (claims.plan === 'demo') {
    view.append(proCard('API keys'), docsPanel());
    return null;
  }
  const tokenSlot = h('div', { class: 'token-slot' });
  const list = h('div', { class: 'grid cards', 'aria-live': 'polite', 'aria-busy': 'true' });
  const createBtn = h('button', { type: 'button', class: 'btn primary' }, 'Create key');
  view.querySelector('.page-head').append(createBtn);
  view.append(h('p', { class: 'muted lead' }, 'Keys let programs call the busline API. Each key has a permission level and may expire.'),
    tokenSlot, list, docsPanel());

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const { data } = await get('/v1/api-keys');
      const keys = [...data].sort((a, b) => (b.active - a.active) || String(b.created_at).localeCompare(String(a.created_at)));
      fill(list, keys.length ? keys.map((k) => keyCard(k, revoke)) : h('p', { class: 'card empty' }, 'No keys yet. Create one to call the API.'));
    } catch (err) {
      fill(list, errorBox(err));
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  async function revoke(k) {
    const ok = await confirmDialog('Revoke this key?',
      `“${k.name}” stops working immediately. Programs using it will get 401 errors. This cannot be undone.`, 'Revoke key');
    if (!ok) return;
    try {
      await del(`/v1/api-keys/${encodeURIComponent(k.id)}`);
      toast(`Key “${k.name}” revoked`);
      await load();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  createBtn.addEventListener('click', () => createDialog(async (created) => {
    const panel = tokenPanel(created);
    fill(tokenSlot, panel);
    panel.focus();
    await load();
  }));
  await load();
  return null;
}

function docsPanel() {
  return h('section', { class: 'card docs', 'aria-labelledby': 'docs-title' },
    h('h2', { id: 'docs-title' }, 'Using a key'),
    h('p', {}, 'Send the key as a bearer token (or in the ', h('code', {}, 'X-API-Key'), ' header). Base URL: ',
      h('code', { class: 'base-url' }, location.origin), '.'),
    codeTabs(keyExamples(location.origin), 'Code examples'));
}
