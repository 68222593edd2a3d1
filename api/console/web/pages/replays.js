// Webhook replays (POST/GET /v1/webhooks/replays): start a replay of a time
// window to one endpoint or to all, follow its progress (refreshed with the
// webhooks page's polling), cancel it while it is queued or running.
import { ApiError, get, post } from '../api.js';
import { badge, errorBox, field, fill, fmtTime, h, localInput, openDialog, showFieldErrors, toast } from '../ui.js';

const enc = encodeURIComponent;
const LIMIT = 10;
const LIVE = new Set(['queued', 'running']);
const STATUS_KIND = { completed: 'ok', failed: 'bad', cancelled: 'off', running: 'warn' };

/** The section; endpoints() gives the page's current endpoints. Returns {el, load}. */
export function replaysSection(canManage, endpoints) {
  const body = h('div', { class: 'replays', 'aria-busy': 'true', 'aria-live': 'polite' });
  const startBtn = h('button', { type: 'button', class: 'btn', disabled: !canManage }, 'Replay a time window…');
  const el = h('section', { 'aria-labelledby': 'replays-title' },
    h('div', { class: 'section-head' }, h('h2', { id: 'replays-title' }, 'Replays'), startBtn),
    h('p', { class: 'muted' }, 'Redeliver the events of a window, with their original webhook-id, to one endpoint or to every active one.'),
    body);

  const nameOf = (id) => (endpoints().find((e) => e.id === id) || {}).name || id;

  function row(j) {
    const p = j.progress || {};
    const cancel = canManage && LIVE.has(j.status)
      ? h('button', { type: 'button', class: 'btn small danger', onclick: () => cancelJob(j) }, 'Cancel')
      : null;
    return h('tr', { class: 'replay', dataset: { replayId: j.id, status: j.status } },
      h('td', {}, fmtTime(j.created_at)),
      h('td', {}, `${fmtTime(j.since)} → ${fmtTime(j.until)}`),
      h('td', {}, j.endpoint_id ? nameOf(j.endpoint_id) : 'All endpoints'),
      h('td', {}, badge(j.status, STATUS_KIND[j.status] || ''), j.error ? h('p', { class: 'field-error' }, j.error) : null),
      h('td', { class: 'progress' },
        h('span', { dataset: { count: 'scanned' } }, String(p.events_scanned)), ' scanned · ',
        h('span', { dataset: { count: 'matched' } }, String(p.events_matched)), ' matched · ',
        h('span', { dataset: { count: 'enqueued' } }, String(p.deliveries_enqueued)), ' enqueued'),
      h('td', {}, cancel));
  }

  async function load() {
    try {
      const { data } = await get(`/v1/webhooks/replays?limit=${LIMIT}`);
      fill(body, data.length
        ? h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Latest replays' },
          h('thead', {}, h('tr', {}, ['Asked at', 'Window', 'Endpoint', 'Status', 'Progress', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, data.map(row))))
        : h('p', { class: 'muted' }, 'No replays yet.'));
    } catch (err) {
      fill(body, errorBox(err));
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  async function cancelJob(j) {
    try {
      await post(`/v1/webhooks/replays/${enc(j.id)}/cancel`);
      toast(`Replay ${j.id} cancelled`);
    } catch (err) {
      toast(err.message, 'error');
    }
    await load();
  }

  function startDialog() {
    const now = new Date();
    const since = field('From', h('input', { type: 'datetime-local', name: 'since', required: true, max: localInput(now),
      value: localInput(new Date(now.getTime() - 3600 * 1000)) }), 'Your local time.');
    const until = field('Until', h('input', { type: 'datetime-local', name: 'until', required: true,
      value: localInput(new Date(now.getTime() + 60 * 1000)) }), 'Later than now means now.');
    const target = field('Endpoint', h('select', { name: 'endpoint_id' },
      h('option', { value: '' }, 'All active endpoints'),
      endpoints().map((e) => h('option', { value: e.id, disabled: !e.active }, e.active ? e.name : `${e.name} (disabled)`))));
    const form = h('form', { id: 'replay-window-form' }, since.wrap, until.wrap, target.wrap,
      h('p', { class: 'form-error', role: 'alert', hidden: true }));
    const dlg = openDialog('Replay a time window', [form],
      [{ label: 'Cancel' }, { label: 'Start replay', kind: 'primary', submit: 'replay-window-form' }]);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const req = { since: new Date(since.input.value).toISOString(), until: new Date(until.input.value).toISOString(),
        endpoint_id: target.input.value || null };
      try {
        const { data } = await post('/v1/webhooks/replays', req);
        dlg.close();
        toast(`Replay ${data.id} queued`);
        await load();
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        showFieldErrors(form, err);
      }
    });
    since.input.focus();
  }

  startBtn.addEventListener('click', startDialog);
  return { el, load };
}
