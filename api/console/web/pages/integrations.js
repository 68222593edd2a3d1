// Integrations: each provider with its status, last sync and error count;
// connect (the OAuth authorization-code flow, or a token for providers
// without one), settings, a sync now, and the sync history. The providers
// come from the server (GET /v1/integrations/providers, the connectors'
// table), so a new connector shows here without a console change.
import { ApiError, del, get, post, put } from '../api.js';
import { badge, confirmDialog, errorBox, field, fill, fmtAgo, fmtTime, h, openDialog, proCard, showFieldErrors, toast, uid } from '../ui.js';

const PENDING = 'busline.oauth.pending';
const enc = encodeURIComponent;

/** Whether the provider just sent the browser back here (?code or ?error). */
export function oauthReturnPending() {
  const q = new URLSearchParams(location.search);
  return !!sessionStorage.getItem(PENDING) && (q.has('code') || q.has('error'));
}

/** Finishes an OAuth round trip: the provider sent the browser back with ?code&state. */
async function finishOAuth() {
  const q = new URLSearchParams(location.search);
  const provider = sessionStorage.getItem(PENDING);
  if (!provider || !(q.get('code') || q.get('error'))) return;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', `${location.pathname}#/integrations`);
  try {
    const body = q.get('error') ? { error: q.get('error') } : { code: q.get('code'), state: q.get('state') };
    await post(`/v1/integrations/${enc(provider)}/callback`, body);
    toast(`${provider} connected`);
  } catch (err) {
    toast(`Connecting ${provider} failed: ${err.message}`, 'error');
  }
}

export async function renderIntegrations(view, claims) {
  fill(view, h('header', { class: 'page-head' }, h('h1', {}, 'Integrations')));
  const list = h('div', { class: 'grid cards providers', 'aria-busy': 'true' });
  view.append(h('p', { class: 'muted lead' }, 'Connect the tools busline turns events into issues, messages and meetings for.'), list);
  await finishOAuth();
  let connected, providers;
  try {
    [connected, providers] = await Promise.all([get('/v1/integrations'), get('/v1/integrations/providers')])
      .then((answers) => answers.map((a) => a.data));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'not_found') {
      fill(list, h('p', { class: 'card empty' }, 'Integrations are not available on this server yet.'));
    } else {
      fill(list, errorBox(err));
    }
    list.setAttribute('aria-busy', 'false');
    return null;
  }
  const canManage = claims.perm === 'admin' && claims.plan !== 'demo';
  const reload = () => renderIntegrations(view, claims);
  fill(list, providers.map((p) => providerCard(p, connected.find((c) => c.provider === p.name), canManage, reload)));
  list.setAttribute('aria-busy', 'false');
  if (claims.plan === 'demo') view.append(proCard('Integration changes'));
  return null;
}

/** "issue_tracker" -> "Issue tracker". */
function sentenceCase(word) {
  const text = word.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function statusBadge(i) {
  if (!i) return badge('Not connected', 'off');
  const kind = i.status === 'connected' ? 'ok' : i.status === 'error' || i.error_count > 0 ? 'bad' : 'warn';
  return badge(sentenceCase(i.status), kind);
}

function providerCard(p, i, canManage, reload) {
  const titleId = uid('prov');
  const actions = [];
  if (canManage && !i) actions.push(h('button', { type: 'button', class: 'btn small primary', onclick: () => connect(p) }, `Connect ${p.label}`));
  if (i) {
    actions.push(h('button', { type: 'button', class: 'btn small', onclick: () => showHistory(p, i) }, 'Sync history'));
    if (canManage) {
      actions.push(
        h('button', { type: 'button', class: 'btn small', onclick: () => syncNow(p, i, reload) }, 'Sync now'),
        h('button', { type: 'button', class: 'btn small', onclick: () => settings(p, i, reload) }, 'Settings'),
        h('button', { type: 'button', class: 'btn small danger', onclick: () => disconnect(p, i, reload) }, 'Disconnect'));
    }
  }
  return h('article', { class: 'card provider', 'aria-labelledby': titleId, dataset: { provider: p.name } },
    h('header', { class: 'card-head' }, h('div', {}, h('h3', { id: titleId }, p.label), h('p', { class: 'muted' }, sentenceCase(p.type))), statusBadge(i)),
    i ? h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Account'), h('dd', {}, i.account_name || '—')),
      h('div', {}, h('dt', {}, 'Last sync'), h('dd', { title: fmtTime(i.last_sync_at) }, fmtAgo(i.last_sync_at))),
      h('div', {}, h('dt', {}, 'Errors'), h('dd', { class: i.error_count ? 'bad' : '' }, String(i.error_count || 0))),
      h('div', {}, h('dt', {}, 'Connected'), h('dd', {}, fmtTime(i.created_at)))) : h('p', { class: 'muted' }, 'Not connected yet.'),
    i && i.last_error ? h('p', { class: 'disabled-reason' }, h('strong', {}, `${i.last_error.code}: `), i.last_error.message) : null,
    actions.length ? h('footer', { class: 'card-foot' }, actions) : null);
}

function settingsFields(p, current = {}) {
  return (p.settings || []).map((name) => {
    const f = field(name.replace(/_/g, ' '), h('input', { name, value: current[name] || '' }));
    f.wrap.dataset.field = name;
    return f;
  });
}

function readSettings(fields) {
  const out = {};
  for (const f of fields) if (f.input.value.trim()) out[f.input.name] = f.input.value.trim();
  return out;
}

function connect(p) {
  const fields = settingsFields(p);
  const pat = p.flow === 'pat' ? field('Personal access token', h('input', { name: 'pat', type: 'password', autocomplete: 'off', required: true })) : null;
  const formId = uid('connect');
  const form = h('form', { id: formId }, fields.map((f) => f.wrap), pat ? pat.wrap : null,
    h('p', { class: 'muted' }, p.flow === 'oauth' ? `You will be sent to ${p.label} to allow access, then back here.` : ''),
    h('p', { class: 'form-error', role: 'alert', hidden: true }));
  const dlg = openDialog(`Connect ${p.label}`, [form], [{ label: 'Cancel' }, { label: 'Continue', kind: 'primary', submit: formId }]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { redirectUri: `${location.origin}/console/` };
    const s = readSettings(fields);
    if (Object.keys(s).length) body.settings = s;
    if (pat) body.pat = pat.input.value;
    try {
      const out = await post(`/v1/integrations/${enc(p.name)}/connect`, body);
      if (out.authorizationUrl) {
        sessionStorage.setItem(PENDING, p.name);
        location.assign(out.authorizationUrl);
        return;
      }
      dlg.close();
      toast(`${p.label} connected`);
      location.hash = '#/integrations';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err);
    }
  });
}

function settings(p, i, reload) {
  const current = i.settings || {};
  const names = new Set([...(p.settings || []), ...Object.keys(current)]);
  const fields = [...names].map((name) => {
    const f = field(name.replace(/_/g, ' '), h('input', { name, value: current[name] ?? '' }));
    f.wrap.dataset.field = name;
    return f;
  });
  const formId = uid('settings');
  const form = h('form', { id: formId }, fields.length ? fields.map((f) => f.wrap) : h('p', { class: 'muted' }, 'This provider has no settings.'),
    h('p', { class: 'form-error', role: 'alert', hidden: true }));
  const dlg = openDialog(`${p.label} settings`, [form], [{ label: 'Cancel' }, { label: 'Save', kind: 'primary', submit: formId }]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await put(`/v1/integrations/${enc(i.id)}/settings`, { settings: readSettings(fields) });
      dlg.close();
      toast(`${p.label} settings saved`);
      reload();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showFieldErrors(form, err);
    }
  });
}

async function syncNow(p, i, reload) {
  try {
    const out = await post(`/v1/integrations/${enc(i.id)}/sync`, {});
    toast(`${p.label} sync ${out.status || 'started'}`);
    reload();
  } catch (err) {
    toast(err.message, 'error');
  }
}

async function disconnect(p, i, reload) {
  if (!(await confirmDialog(`Disconnect ${p.label}?`, 'busline stops using this account and revokes its tokens.', 'Disconnect'))) return;
  try {
    await del(`/v1/integrations/${enc(i.id)}`);
    toast(`${p.label} disconnected`);
    reload();
  } catch (err) {
    toast(err.message, 'error');
  }
}

async function showHistory(p, i) {
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  openDialog(`${p.label} sync history`, [body], [{ label: 'Close' }], { wide: true });
  try {
    const { data } = await get(`/v1/integrations/${enc(i.id)}/history`);
    fill(body, data.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Started', 'Status', 'Direction', 'Items', 'Duration', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, data.map((r) => h('tr', {},
        h('td', {}, fmtTime(r.started_at)),
        h('td', {}, badge(r.status, r.status === 'completed' ? 'ok' : r.status === 'failed' ? 'bad' : '')),
        h('td', {}, r.direction || '—'),
        h('td', {}, String(r.items_synced ?? '—')),
        h('td', {}, r.duration_ms != null ? `${r.duration_ms} ms` : '—'),
        h('td', {}, r.error ? `${r.error.code}: ${r.error.message}` : '—')))))) : h('p', { class: 'muted' }, 'No syncs yet.'));
  } catch (err) {
    fill(body, errorBox(err));
  }
  body.setAttribute('aria-busy', 'false');
}
