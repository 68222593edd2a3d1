// Alerts: the organization's open alerts (acknowledge), the recently
// resolved ones, and the alert rules the evaluator reads (/v1/alert-rules),
// each with an enable/disable switch (admins). The lists refresh every 5 s.
import { ApiError, api, get, post } from '../api.js';
import { badge, errorBox, fill, fmtAgo, fmtTime, h, proCard, toast } from '../ui.js';

const REFRESH_MS = 5000;
const SEVERITY_KIND = { low: 'off', medium: 'warn', high: 'bad', critical: 'bad' };
const TYPE_LABEL = {
  'high-latency': 'High latency (p95)',
  'error-rate': 'Error rate',
  'rate-limit': 'Rate limited',
  downtime: 'Downtime',
  'webhook-failure': 'Webhook failures',
};
const UNIT = { 'high-latency': ' ms', 'error-rate': ' %', 'rate-limit': ' %', downtime: ' %', 'webhook-failure': '' };
const COMPARE = { gt: '>', gte: '≥', lt: '<', lte: '≤' };

const fmtNum = (v) => Number(v ?? 0).toLocaleString(undefined, { maximumFractionDigits: 1 });

function severityBadge(severity) {
  return badge(severity, `severity sev-${severity} ${SEVERITY_KIND[severity] || ''}`);
}

/** What an alert or rule watches, in words. */
function subjectText(item, endpoints) {
  const id = item.customAPIId;
  if (!id) return item.type === 'webhook-failure' ? 'Webhook deliveries' : 'Every custom endpoint';
  const e = endpoints.get(id);
  return e ? `${e.name} (${e.method} ${e.path})` : `Endpoint ${id}`;
}

function alertRow(a, endpoints, onAck) {
  const acked = a.acknowledgedAt
    ? h('span', { class: 'muted', title: fmtTime(a.acknowledgedAt) }, `Acknowledged ${fmtAgo(a.acknowledgedAt)}`)
    : null;
  const ack = !a.isResolved && !a.acknowledgedAt && onAck
    ? h('button', { type: 'button', class: 'btn small', onclick: () => onAck(a) }, 'Acknowledge')
    : null;
  return h('tr', { class: 'alert-row', dataset: { alertId: a.id, type: a.type, resolved: String(a.isResolved) } },
    h('td', {}, severityBadge(a.severity)),
    h('th', { scope: 'row' }, TYPE_LABEL[a.type] || a.type, h('div', { class: 'muted small' }, subjectText(a, endpoints))),
    h('td', { class: 'alert-message' }, a.message),
    h('td', { class: 'mono' }, `${fmtNum(a.currentValue)}${UNIT[a.type] || ''}`,
      h('div', { class: 'muted small' }, `threshold ${fmtNum(a.threshold)}${UNIT[a.type] || ''}`)),
    h('td', { title: fmtTime(a.createdAt) }, a.isResolved ? `Resolved ${fmtAgo(a.resolvedAt)}` : `Opened ${fmtAgo(a.createdAt)}`),
    h('td', {}, ack || acked));
}

function alertTable(caption, alerts, endpoints, onAck, empty) {
  if (!alerts.length) return h('p', { class: 'card empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ['Severity', 'Alert', 'Message', 'Value', 'When', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, alerts.map((a) => alertRow(a, endpoints, onAck)))));
}

function ruleRow(r, endpoints, canManage, onToggle) {
  const label = `Enabled: ${TYPE_LABEL[r.type] || r.type}, ${subjectText(r, endpoints)}`;
  const toggle = h('button', { type: 'button', role: 'switch', class: 'switch', 'aria-checked': String(r.enabled),
    'aria-label': label, disabled: !canManage }, h('span', { class: 'knob', 'aria-hidden': 'true' }),
  h('span', { class: 'switch-text' }, r.enabled ? 'On' : 'Off'));
  toggle.addEventListener('click', () => onToggle(r, !r.enabled));
  const channels = (r.channels || []).length ? h('div', { class: 'badges' }, r.channels.map((c) => badge(c, 'event'))) : h('span', { class: 'muted' }, '—');
  return h('tr', { class: 'rule-row', dataset: { ruleId: r.id, type: r.type, scope: r.scope, enabled: String(r.enabled) } },
    h('th', { scope: 'row' }, TYPE_LABEL[r.type] || r.type, r.isDefault ? h('div', { class: 'muted small' }, 'default rule') : null),
    h('td', {}, subjectText(r, endpoints)),
    h('td', { class: 'mono rule-condition' }, `${COMPARE[r.comparison] || r.comparison} ${fmtNum(r.threshold)}${UNIT[r.type] || ''}`,
      h('div', { class: 'muted small' }, `over ${Math.round(r.window / 60)} min, from ${r.minCalls} ${r.type === 'webhook-failure' ? 'deliveries' : 'calls'}`)),
    h('td', {}, severityBadge(r.severity)),
    h('td', {}, channels),
    h('td', {}, toggle));
}

export async function renderAlerts(view, claims) {
  fill(view, h('header', { class: 'page-head' }, h('h1', {}, 'Alerts')));
  if (claims.plan === 'demo') {
    view.append(proCard('Alerts'));
    return null;
  }
  const canManage = claims.perm === 'admin';
  const openSlot = h('div', { class: 'alerts-open', 'aria-live': 'polite', 'aria-busy': 'true' });
  const resolvedSlot = h('div', { class: 'alerts-resolved', 'aria-busy': 'true' });
  const rulesSlot = h('div', { class: 'alert-rules', 'aria-busy': 'true' });
  view.append(
    h('p', { class: 'muted lead' }, 'Alerts open when a rule’s condition holds for a custom endpoint or for your webhook deliveries, and resolve themselves when it clears. Each opening and resolution is also an alert.opened / alert.resolved event.'),
    h('section', { class: 'card', 'aria-labelledby': 'open-title' }, h('h2', { id: 'open-title' }, 'Open alerts'), openSlot),
    h('section', { class: 'card', 'aria-labelledby': 'rules-title' }, h('h2', { id: 'rules-title' }, 'Rules'),
      h('p', { class: 'muted' }, canManage ? 'Switch a rule off to stop it opening alerts; its open alert resolves at the next evaluation.'
        : 'Only admins can switch rules on and off.'),
      rulesSlot),
    h('section', { class: 'card', 'aria-labelledby': 'resolved-title' }, h('h2', { id: 'resolved-title' }, 'Recently resolved'), resolvedSlot));

  let endpoints = new Map();
  if (canManage) {
    try {
      const { data } = await get('/v1/custom-apis?limit=100');
      endpoints = new Map(data.map((e) => [e.id, e]));
    } catch {
      // names are a nicety: ids are shown instead
    }
  }

  async function acknowledge(a) {
    try {
      await post(`/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`);
      toast('Alert acknowledged');
      await loadAlerts();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  async function setEnabled(r, enabled) {
    try {
      await api('PATCH', `/v1/alert-rules/${encodeURIComponent(r.id)}`, { enabled });
      toast(`Rule ${TYPE_LABEL[r.type] || r.type} switched ${enabled ? 'on' : 'off'}`);
      await loadRules();
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), 'error');
    }
  }

  async function loadAlerts() {
    try {
      const [open, resolved] = await Promise.all([get('/v1/alerts?status=open&limit=100'), get('/v1/alerts?status=resolved&limit=20')]);
      fill(openSlot, alertTable('Open alerts', open.data, endpoints, claims.perm === 'read' ? null : acknowledge, 'No open alerts.'));
      fill(resolvedSlot, alertTable('Recently resolved alerts', resolved.data, endpoints, null, 'Nothing resolved yet.'));
    } catch (err) {
      fill(openSlot, errorBox(err));
    } finally {
      openSlot.setAttribute('aria-busy', 'false');
      resolvedSlot.setAttribute('aria-busy', 'false');
    }
  }

  async function loadRules() {
    try {
      const { data } = await get('/v1/alert-rules?limit=100&sort=type.asc');
      fill(rulesSlot, h('div', { class: 'table-wrap' },
        h('table', {},
          h('caption', { class: 'visually-hidden' }, 'Alert rules'),
          h('thead', {}, h('tr', {}, ['Rule', 'Watches', 'Condition', 'Severity', 'Channels', 'Enabled'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, data.map((r) => ruleRow(r, endpoints, canManage, setEnabled))))));
    } catch (err) {
      fill(rulesSlot, errorBox(err));
    } finally {
      rulesSlot.setAttribute('aria-busy', 'false');
    }
  }

  await Promise.all([loadAlerts(), loadRules()]);
  const timer = setInterval(loadAlerts, REFRESH_MS);
  return () => clearInterval(timer);
}
