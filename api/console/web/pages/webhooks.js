// Webhooks: delivery stats for a period, endpoints as cards with their last
// deliveries (polled while the page is open), the create/edit dialog, test
// events, secret rotation, replay (since a time here, any window in
// replays.js), and how to verify a signature.
import { ApiError, del, get, post, put } from '../api.js';
import { badge, codeTabs, confirmDialog, copyButton, errorBox, field, fill, fmtAgo, fmtTime, h, localInput, openDialog,
  proCard, showFieldErrors, toast, uid } from '../ui.js';
import { replaysSection } from './replays.js';
import { examplePayload, exampleHeaders, verifySnippets } from '../snippets.js';
import { catalogPanel, detailsButton } from './event_catalog.js';
import { egressProxySection, tlsFacts, tlsFields } from './webhook_transport.js';
import { transformationField } from './transformation_field.js';

const POLL_MS = 3000;
const PERIODS = [['1', 'Last 24 hours'], ['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days']];
const LOG_LIMIT = 10;

const enc = encodeURIComponent;

export async function renderWebhooks(view, claims) {
  fill(view, h('header', { class: 'page-head' }, h('h1', {}, 'Webhooks')));
  if (claims.plan === 'demo') {
    view.append(proCard('Webhooks'), verifyPanel(claims));
    return null;
  }
  const state = { days: '7', endpoints: [], open: new Set(), timer: null, eventTypes: null, stopped: false };
  const canManage = claims.perm === 'admin';
  const replays = replaysSection(canManage, () => state.endpoints);
  const egress = egressProxySection(canManage);

  const period = h('select', { id: 'stats-period' }, PERIODS.map(([v, l]) => h('option', { value: v, selected: v === state.days }, l)));
  const stats = h('div', { class: 'grid stats', 'aria-live': 'polite' });
  const secretSlot = h('div');
  const list = h('div', { class: 'endpoints', 'aria-busy': 'true' });
  const createBtn = h('button', { type: 'button', class: 'btn primary', disabled: !canManage }, 'Add endpoint');
  view.querySelector('.page-head').append(createBtn);
  view.append(
    h('section', { class: 'stats-section', 'aria-labelledby': 'stats-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'stats-title' }, 'Deliveries'),
        h('div', { class: 'inline-field' }, h('label', { for: 'stats-period' }, 'Period'), period)),
      stats),
    secretSlot,
    h('section', { 'aria-labelledby': 'endpoints-title' }, h('h2', { id: 'endpoints-title' }, 'Endpoints'), list),
    replays.el,
    egress.el,
    verifyPanel(claims));

  async function loadStats() {
    try {
      // get_webhook_stats of the Powalyze document: success_rate is already a percentage
      const s = await get(`/v1/webhooks/stats?period_days=${state.days}`);
      fill(stats,
        statCard('Total deliveries', s.total_triggers.toLocaleString(), 'total'),
        statCard('Succeeded', s.successful_triggers.toLocaleString(), 'succeeded', 'ok'),
        statCard('Failed', s.failed_triggers.toLocaleString(), 'failed', s.failed_triggers ? 'bad' : ''),
        statCard('Success rate', s.total_triggers ? `${s.success_rate.toFixed(1)} %` : '—', 'rate'),
        statCard('Average duration', s.total_triggers ? `${Math.round(s.avg_duration_ms)} ms` : '—', 'duration'));
    } catch (err) {
      fill(stats, errorBox(err));
    }
  }

  async function loadEndpoints() {
    try {
      const { data } = await get('/v1/webhooks?limit=100');
      state.endpoints = data;
      fill(list, data.length ? data.map((e) => endpointCard(e)) : h('p', { class: 'card empty' }, 'No endpoints yet. Add one to receive events.'));
      await Promise.all([...state.open].map((id) => loadLogs(id)));
    } catch (err) {
      fill(list, errorBox(err));
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  async function loadLogs(id) {
    const slot = list.querySelector(`[data-endpoint-id="${CSS.escape(id)}"] .deliveries`);
    if (!slot) return;
    try {
      const { data, pagination } = await get(`/v1/webhooks/${enc(id)}/logs?limit=${LOG_LIMIT}`);
      const endpoint = state.endpoints.find((e) => e.id === id);
      fill(slot, data.length ? deliveriesTable(data, endpoint, pagination.total) : h('p', { class: 'muted' }, 'No deliveries yet.'));
    } catch (err) {
      fill(slot, errorBox(err));
    }
  }

  function endpointCard(e) {
    const titleId = `ep-${e.id}`;
    const toggle = h('button', { type: 'button', role: 'switch', class: 'switch', 'aria-checked': String(e.active),
      'aria-label': `Active: ${e.name}`, disabled: !canManage }, h('span', { class: 'knob', 'aria-hidden': 'true' }),
    h('span', { class: 'switch-text' }, e.active ? 'Active' : 'Inactive'));
    toggle.addEventListener('click', () => setActive(e, !e.active));
    const streak = e.consecutive_failures > 0
      ? h('p', { class: 'streak bad' }, `${e.consecutive_failures} failed in a row`, e.failing_since ? ` since ${fmtTime(e.failing_since)}` : '')
      : null;
    const deliveries = h('div', { class: 'deliveries', id: uid('dl') });
    const expanded = state.open.has(e.id);
    const showBtn = h('button', { type: 'button', class: 'btn small', 'aria-expanded': String(expanded), 'aria-controls': deliveries.id },
      expanded ? 'Hide deliveries' : 'Show deliveries');
    deliveries.hidden = !expanded;
    showBtn.addEventListener('click', () => {
      const open = !state.open.has(e.id);
      if (open) state.open.add(e.id);
      else state.open.delete(e.id);
      deliveries.hidden = !open;
      showBtn.setAttribute('aria-expanded', String(open));
      showBtn.textContent = open ? 'Hide deliveries' : 'Show deliveries';
      if (open) {
        fill(deliveries, h('p', { class: 'muted' }, 'Loading…'));
        loadLogs(e.id);
      }
    });
    const actions = canManage ? [
      h('button', { type: 'button', class: 'btn small', onclick: () => sendTest(e) }, 'Send test event'),
      h('button', { type: 'button', class: 'btn small', onclick: () => editDialog(e) }, 'Edit'),
      h('button', { type: 'button', class: 'btn small', onclick: () => rotate(e) }, 'Rotate secret'),
      h('button', { type: 'button', class: 'btn small', onclick: () => replay(e) }, 'Replay failed since…'),
      h('button', { type: 'button', class: 'btn small danger', onclick: () => remove(e) }, 'Delete'),
    ] : [];
    return h('article', { class: `card endpoint ${e.active ? '' : 'inactive'}`, 'aria-labelledby': titleId, dataset: { endpointId: e.id } },
      h('header', { class: 'card-head' },
        h('div', {}, h('h3', { id: titleId }, e.name), h('p', { class: 'mono url' }, e.url)),
        toggle),
      h('div', { class: 'badges', 'aria-label': 'Event types' }, e.event_types.map((t) => badge(t, 'event'))),
      e.disabled_reason && !e.active ? h('p', { class: 'disabled-reason' }, h('strong', {}, 'Disabled: '), e.disabled_reason) : null,
      streak,
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, 'Retries'), h('dd', {}, `${e.retry_count} after the first attempt`)),
        h('div', {}, h('dt', {}, 'Signature'), h('dd', { class: 'mono' }, e.signature_header || 'Standard Webhooks only')),
        h('div', {}, h('dt', {}, 'Scheme'), h('dd', { class: 'mono' }, schemeLabel(e.signature_scheme))),
        e.public_key ? h('div', { class: 'public-key' }, h('dt', {}, 'Public key (v1a)'),
          h('dd', {}, h('code', { class: 'mono' }, e.public_key), ' ', copyButton(e.public_key, 'Copy public key'))) : null,
        h('div', {}, h('dt', {}, 'Timeout'), h('dd', {}, `${(e.timeout_ms / 1000).toLocaleString()} s`)),
        h('div', { class: 'ordering' }, h('dt', {}, 'Order'), h('dd', {}, e.ordering === 'fifo' ? 'FIFO (one at a time)' : 'parallel')),
        h('div', {}, h('dt', {}, 'Conditions'), h('dd', {}, (e.conditions || []).length || 'none')),
        h('div', {}, h('dt', {}, 'Updated'), h('dd', {}, fmtAgo(e.updated_at))),
        tlsFacts(e)),
      h('footer', { class: 'card-foot' }, showBtn, actions),
      deliveries);
  }

  function schemeLabel(scheme) {
    return { v1a: 'v1a (ed25519)', both: 'v1 + v1a' }[scheme] || 'v1 (HMAC-SHA256)';
  }

  function deliveriesTable(rows, endpoint, total) {
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'deliveries-table' },
        h('caption', {}, `Last ${rows.length} of ${total} deliveries — updates every ${POLL_MS / 1000} s. Select a row for details.`),
        h('thead', {}, h('tr', {}, ['Event', 'Status', 'Duration', 'Attempt', 'Time'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.map((d) => {
          const open = () => deliveryDialog(d, endpoint);
          return h('tr', { class: `delivery ${d.success ? 'ok' : 'bad'}`, tabindex: '0', dataset: { status: d.status_code ?? '' },
            onclick: open, onkeydown: (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); open(); } } },
          h('td', {}, h('span', { class: 'mono' }, d.event_type)),
          h('td', {}, badge(d.status_code ? String(d.status_code) : 'no answer', d.success ? 'ok' : 'bad')),
          h('td', {}, `${d.duration_ms} ms`),
          h('td', {}, String(d.attempt)),
          h('td', {}, h('time', { datetime: d.delivered_at, title: fmtTime(d.delivered_at) }, fmtAgo(d.delivered_at))));
        }))));
  }

  function deliveryDialog(d, endpoint) {
    const request = [`POST ${endpoint ? endpoint.url : ''}`, `webhook-id: ${d.event_id}`, 'content-type: application/json', '',
      `{"event":"${d.event_type}", …}`].join('\n');
    openDialog(`Delivery of ${d.event_type}`, [
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, 'Status'), h('dd', {}, d.status_code ? String(d.status_code) : 'no answer')),
        h('div', {}, h('dt', {}, 'Result'), h('dd', {}, d.success ? 'Succeeded' : 'Failed')),
        h('div', {}, h('dt', {}, 'Duration'), h('dd', {}, `${d.duration_ms} ms`)),
        h('div', {}, h('dt', {}, 'Attempt'), h('dd', {}, String(d.attempt))),
        h('div', {}, h('dt', {}, 'Delivered'), h('dd', {}, fmtTime(d.delivered_at)))),
      h('h3', {}, 'Request'), h('pre', { class: 'excerpt', tabindex: '0' }, request),
      h('h3', {}, 'Response excerpt'), h('pre', { class: 'excerpt response-excerpt', tabindex: '0' }, d.response_excerpt || '(empty)'),
      d.error ? [h('h3', {}, 'Error'), h('p', { class: 'bad' }, d.error)] : null,
    ], [{ label: 'Close' }], { wide: true });
  }

  async function setActive(e, active) {
    try {
      await post(`/v1/webhooks/${enc(e.id)}/${active ? 'enable' : 'disable'}`, active ? undefined : { reason: 'disabled from the console' });
      toast(`${e.name} ${active ? 'enabled' : 'disabled'}`);
      await loadEndpoints();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  async function sendTest(e) {
    try {
      const t = await post(`/v1/webhooks/${enc(e.id)}/test`);
      toast(t.success ? `Test event delivered: ${t.status_code} in ${t.duration_ms} ms` : `Test event failed: ${t.status_code || t.error}`,
        t.success ? 'ok' : 'error');
      state.open.add(e.id);
      await loadEndpoints();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  async function rotate(e) {
    const ok = await confirmDialog('Rotate the signing secret?',
      `A new secret${e.public_key ? ' and a new ed25519 key pair (a new public key)' : ''} sign deliveries to ${e.name} from now on. The old ones keep signing too for 24 hours, so you can update your receiver.`,
      'Rotate secret', 'primary');
    if (!ok) return;
    try {
      const out = await post(`/v1/webhooks/${enc(e.id)}/rotate-secret`, { overlap: '24h' });
      showSecret(out.name, out.secret, 'Secret rotated');
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  function replay(e) {
    const input = h('input', { type: 'datetime-local', name: 'replay_since', required: true,
      max: localInput(new Date()), value: localInput(new Date(Date.now() - 3600 * 1000)) });
    const f = field('Replay what failed or was missed since', input, 'Your local time. The endpoint is enabled if it was not.');
    f.wrap.dataset.field = 'replay_since';
    const form = h('form', { id: 'replay-form' }, f.wrap, h('p', { class: 'form-error', role: 'alert', hidden: true }));
    const dlg = openDialog(`Replay deliveries to ${e.name}`, [form], [{ label: 'Cancel' }, { label: 'Replay', kind: 'primary', submit: 'replay-form' }]);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const out = await post(`/v1/webhooks/${enc(e.id)}/enable`, { replay_since: new Date(input.value).toISOString() });
        dlg.close();
        toast(out.replay ? `Replay since ${fmtTime(out.replay.since)} queued` : 'Replay queued');
        await loadEndpoints();
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        showFieldErrors(form, err);
      }
    });
    input.focus();
  }

  async function remove(e) {
    if (!(await confirmDialog('Delete this endpoint?', `${e.name} (${e.url}) stops receiving events and its settings are removed.`, 'Delete endpoint'))) return;
    try {
      await del(`/v1/webhooks/${enc(e.id)}`);
      state.open.delete(e.id);
      toast(`${e.name} deleted`);
      await loadEndpoints();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  function showSecret(name, secret, title) {
    const panel = h('section', { class: 'card token-panel', tabindex: '-1', 'aria-labelledby': 'secret-title' },
      h('h2', { id: 'secret-title' }, `${title}: ${name}`),
      h('p', { class: 'warning' }, h('strong', {}, 'Copy it now: '), 'this signing secret is shown only once and can never be shown again.'),
      h('div', { class: 'token-row' }, h('code', { class: 'token', id: 'new-secret' }, secret), copyButton(secret, 'Copy secret')),
      h('button', { type: 'button', class: 'btn small ghost', onclick: () => panel.remove() }, 'I have stored it'));
    fill(secretSlot, panel);
    panel.focus();
  }

  async function eventTypes() {
    if (!state.eventTypes) state.eventTypes = (await get('/v1/webhooks/event-types')).data;
    return state.eventTypes;
  }

  async function editDialog(existing) {
    let groups;
    try {
      groups = await eventTypes();
    } catch (err) {
      toast(err.message, 'error');
      return;
    }
    // new endpoints start from the Powalyze document's defaults
    const e = existing || { name: '', url: '', event_types: [], conditions: [], headers: {}, retry_count: 3, timeout_ms: 10000,
      signature_header: 'X-Powalyze-Signature' };
    const chosen = new Set(e.event_types);
    const name = field('Name', h('input', { name: 'name', required: true, maxlength: '200', value: e.name }));
    const url = field('URL', h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/hooks/busline', value: e.url }),
      'HTTPS to a public address. Deliveries are signed with the endpoint’s secret.');
    const typeBoxes = [];
    const catalog = catalogPanel();
    const types = h('fieldset', { class: 'field event-types', dataset: { field: 'events' } },
      h('legend', {}, 'Event types'),
      h('div', { class: 'check' }, (() => { const b = h('input', { type: 'checkbox', value: '*', id: 'et-all', checked: chosen.has('*') }); typeBoxes.push(b); return b; })(),
        h('label', { for: 'et-all' }, h('strong', {}, 'Every event'), ' (*)')),
      groups.map((g) => {
        const id = uid('grp');
        const all = h('input', { type: 'checkbox', value: `${g.domain}.*`, id: `${id}-all`, checked: chosen.has(`${g.domain}.*`) });
        typeBoxes.push(all);
        return h('fieldset', { class: 'type-group' }, h('legend', {}, g.domain),
          h('div', { class: 'check' }, all, h('label', { for: `${id}-all` }, `All ${g.domain} events (${g.domain}.*)`)),
          g.event_types.map((t, i) => {
            const box = h('input', { type: 'checkbox', value: t.type, id: `${id}-${i}`, checked: chosen.has(t.type) });
            typeBoxes.push(box);
            return h('div', { class: 'check' }, box, h('label', { for: `${id}-${i}`, class: 'mono' }, t.type),
              detailsButton(catalog, t.type, g.domain));
          }));
      }),
      h('p', { class: 'field-error', hidden: true }), catalog.panel);
    const conditions = field('Conditions (JSON)', h('textarea', { name: 'conditions', rows: '3', class: 'mono', spellcheck: 'false',
      placeholder: '[{"field": "data.severity", "operator": "in", "value": ["high", "critical"]}]' }),
    'Optional. All must hold. Operators: equals, not_equals, in, gt, lt, contains, exists.');
    conditions.input.value = (e.conditions || []).length ? JSON.stringify(e.conditions, null, 2) : '';
    const headers = field('Custom headers', h('textarea', { name: 'headers', rows: '2', class: 'mono', spellcheck: 'false', placeholder: 'X-Tenant: acme' }),
      'Optional. One “Name: value” per line, sent with every delivery.');
    headers.input.value = Object.entries(e.headers || {}).map(([k, v]) => `${k}: ${v}`).join('\n');
    const attempts = field('Retries', h('input', { name: 'retry_count', type: 'number', min: '0', max: '99', value: e.retry_count }),
      'After the first attempt, at 1, 2, 4 s… on a 5xx, a timeout or a network error.');
    const timeout = field('Timeout (seconds)', h('input', { name: 'timeout_seconds', type: 'number', min: '1', max: '300', step: '1', value: Math.round(e.timeout_ms / 1000) }));
    const sigHeader = field('Signature header', h('input', { name: 'signature_header', class: 'mono', maxlength: '64', value: e.signature_header || '' }),
      'Optional. Carries sha256=<hex HMAC of the body> keyed with the secret as shown; empty: only the Standard Webhooks headers.');
    const scheme = field('Signature scheme', h('select', { name: 'signature_scheme' },
      [['v1', 'v1: HMAC-SHA256 with the secret'], ['v1a', 'v1a: ed25519, verified with a public key'], ['both', 'both (v1 and v1a)']]
        .map(([v, label]) => h('option', { value: v, selected: (e.signature_scheme || 'v1') === v }, label))),
      'v1a lets receivers verify with a whpk_ public key that cannot sign; busline makes the key pair.');
    const ordering = field('Delivery order', h('select', { name: 'ordering' },
      [['none', 'Parallel: fastest, no order promised'], ['fifo', 'FIFO: one at a time, in order']]
        .map(([v, label]) => h('option', { value: v, selected: (e.ordering || 'none') === v }, label))),
      'FIFO sends one delivery at a time in the order events came; a failing one is retried and holds the rest back until it succeeds or goes to the dead letters.');
    const transport = tlsFields(existing);
    const transformation = transformationField(existing, groups);
    const dest = kafkaDestination(e);
    url.input.required = !dest.isKafka();
    url.wrap.hidden = dest.isKafka();
    dest.onChange((kafka) => { url.wrap.hidden = kafka; url.input.required = !kafka; });
    const formId = uid('webhook-form');
    const form = h('form', { id: formId, class: 'webhook-form' }, name.wrap, dest.select.wrap, url.wrap, dest.panel, types, conditions.wrap, headers.wrap,
      h('div', { class: 'row' }, attempts.wrap, timeout.wrap), sigHeader.wrap, scheme.wrap, ordering.wrap, transport.wrap, transformation.wrap, h('p', { class: 'form-error', role: 'alert', hidden: true }));
    const dlg = openDialog(existing ? `Edit ${e.name}` : 'Add a webhook endpoint', [form],
      [{ label: 'Cancel' }, { label: existing ? 'Save changes' : 'Add endpoint', kind: 'primary', submit: formId }], { wide: true });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const local = {};
      const body = {
        name: name.input.value.trim(),
        url: url.input.value.trim(),
        events: typeBoxes.filter((b) => b.checked).map((b) => b.value),
        retry_count: Number(attempts.input.value),
        timeout_seconds: Math.round(Number(timeout.input.value)),
        signature_header: sigHeader.input.value.trim() || null,
      };
      if (!existing || scheme.input.value !== (e.signature_scheme || 'v1')) body.signature_scheme = scheme.input.value;
      if (!existing || ordering.input.value !== (e.ordering || 'none')) body.ordering = ordering.input.value;
      transport.apply(body);
      body.type = dest.isKafka() ? 'kafka' : 'http';
      if (dest.isKafka()) {
        delete body.url;
        body.kafka = dest.settings();
      }
      if (!body.events.length) local.events = 'choose at least one event type';
      const condText = conditions.input.value.trim();
      try {
        body.conditions = condText ? JSON.parse(condText) : [];
        if (!Array.isArray(body.conditions)) throw new Error();
      } catch {
        local.conditions = 'a JSON array of {field, operator, value}';
      }
      body.headers = {};
      for (const line of headers.input.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const at = line.indexOf(':');
        if (at < 1) local.headers = `“${line}” is not “Name: value”`;
        else body.headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      transformation.read(local, body);
      if (Object.keys(local).length) {
        showFieldErrors(form, { message: 'Please correct the marked fields.', fieldErrors: local });
        return;
      }
      try {
        const saved = existing ? await put(`/v1/webhooks/${enc(e.id)}`, body) : await post('/v1/webhooks', body);
        dlg.close();
        toast(existing ? `${saved.name} saved` : `${saved.name} added`);
        if (saved.secret) showSecret(saved.name, saved.secret, 'Endpoint added');
        await loadEndpoints();
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        showFieldErrors(form, err);
      }
    });
    name.input.focus();
  }

  createBtn.addEventListener('click', () => editDialog(null));
  period.addEventListener('change', () => {
    state.days = period.value;
    loadStats();
  });

  await Promise.all([loadStats(), loadEndpoints(), replays.load(), egress.load()]);
  // Live updates: the open delivery lists and the stats, while the tab is visible.
  const tick = async () => {
    if (state.stopped) return;
    if (!document.hidden && !document.querySelector('dialog[open]')) {
      await Promise.all([loadStats(), replays.load(), ...[...state.open].map((id) => loadLogs(id))]);
    }
    if (!state.stopped) state.timer = setTimeout(tick, POLL_MS);
  };
  state.timer = setTimeout(tick, POLL_MS);
  return () => {
    state.stopped = true;
    clearTimeout(state.timer);
  };
}

// The destination of an endpoint: an HTTP URL, or a topic on the
// organization's own Kafka cluster (type "kafka"; its SASL password is never
// shown: left empty, the stored one is kept).
function kafkaDestination(e) {
  const k = e.kafka || {};
  const select = field('Destination', h('select', { name: 'type' },
    [['http', 'HTTP: POST to a URL'], ['kafka', 'Kafka: produce to a topic of your cluster']]
      .map(([v, label]) => h('option', { value: v, selected: (e.type || 'http') === v }, label))),
  'Kafka destinations get the same events, conditions, retries and delivery log; the message key is the event’s key.');
  const brokers = field('Brokers', h('input', { name: 'kafka_brokers', class: 'mono', placeholder: 'kafka-1.example.com:9093,kafka-2.example.com:9093',
    value: (k.brokers || []).join(',') }), 'host:port, comma-separated; the same address rules as URLs.');
  const topic = field('Topic', h('input', { name: 'kafka_topic', class: 'mono', maxlength: '249', value: k.topic || '' }));
  const protocol = field('Security protocol', h('select', { name: 'kafka_protocol' },
    ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'].map((v) => h('option', { value: v, selected: (k.securityProtocol || 'plaintext') === v }, v))));
  const mechanism = field('SASL mechanism', h('select', { name: 'kafka_mechanism' },
    ['', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].map((v) => h('option', { value: v, selected: (k.saslMechanism || '') === v }, v || '(none)'))));
  const user = field('SASL user', h('input', { name: 'kafka_username', value: k.saslUsername || '' }));
  const password = field('SASL password', h('input', { name: 'kafka_password', type: 'password', autocomplete: 'new-password',
    placeholder: k.saslPasswordSet ? 'unchanged' : '' }), 'Stored encrypted and never shown again.');
  const ca = field('CA certificate (PEM)', h('textarea', { name: 'kafka_ca', rows: '2', class: 'mono', spellcheck: 'false',
    placeholder: '-----BEGIN CERTIFICATE-----' }), 'Optional, with ssl or sasl_ssl.');
  ca.input.value = k.sslCaCertificate || '';
  const panel = h('fieldset', { class: 'field kafka-destination', dataset: { field: 'kafka' } }, h('legend', {}, 'Kafka destination'),
    brokers.wrap, topic.wrap, h('div', { class: 'row' }, protocol.wrap, mechanism.wrap), h('div', { class: 'row' }, user.wrap, password.wrap), ca.wrap,
    h('p', { class: 'field-error', hidden: true }));
  const isKafka = () => select.input.value === 'kafka';
  panel.hidden = !isKafka();
  const listeners = [];
  select.input.addEventListener('change', () => { panel.hidden = !isKafka(); listeners.forEach((f) => f(isKafka())); });
  return {
    select, panel, isKafka,
    onChange: (f) => listeners.push(f),
    settings() {
      const out = { brokers: brokers.input.value.trim(), topic: topic.input.value.trim(), securityProtocol: protocol.input.value };
      if (mechanism.input.value) out.saslMechanism = mechanism.input.value;
      if (user.input.value.trim()) out.saslUsername = user.input.value.trim();
      if (password.input.value) out.saslPassword = password.input.value;
      if (ca.input.value.trim()) out.sslCaCertificate = ca.input.value.trim();
      return out;
    },
  };
}

function statCard(label, value, name, kind = '') {
  return h('div', { class: `card stat ${kind}`, dataset: { stat: name } }, h('p', { class: 'stat-label' }, label), h('p', { class: 'stat-value' }, value));
}

function verifyPanel(claims) {
  return h('section', { class: 'card docs', 'aria-labelledby': 'verify-title' },
    h('h2', { id: 'verify-title' }, 'Receiving deliveries'),
    h('p', {}, 'Each delivery is a POST with a JSON body like this one, signed per the Standard Webhooks spec. Answer 2xx within the timeout; anything else is retried with backoff.'),
    h('div', { class: 'two-col' },
      h('div', {}, h('h3', {}, 'Example payload'), h('pre', { tabindex: '0' }, h('code', {}, examplePayload('risk.escalated', claims.org)))),
      h('div', {}, h('h3', {}, 'Headers'), h('pre', { tabindex: '0' }, h('code', {}, exampleHeaders)))),
    h('h3', {}, 'Verifying the signature'),
    codeTabs(verifySnippets, 'Signature verification'));
}
