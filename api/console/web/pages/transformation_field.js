// The payload transformation of a webhook endpoint in its dialog: one
// TransformationRule as JSON (the API checks it on save: it compiles and its
// test cases pass) and, once the endpoint exists, a try-out of what is in
// the box on an event type's catalog example
// (POST /v1/webhooks/:id/transformation/test): the body it would sign and
// send, or why it fails.
import { ApiError, post } from '../api.js';
import { field, h } from '../ui.js';

const PLACEHOLDER = '{"type": "map", "rules": [{"operation": "set", "source": "$.data.title", "target": "$.text"}], "testCases": []}';

/** existing: the endpoint (or null); groups: the event types by domain. Returns {wrap, read(local, body)}. */
export function transformationField(existing, groups) {
  const f = field('Transformation (JSON)', h('textarea', { name: 'transformation', rows: '4', class: 'mono', spellcheck: 'false', placeholder: PLACEHOLDER }),
    `Optional. A TransformationRule (map, filter, aggregate, validate, custom) applied to the body before it is signed; its test cases must pass. Empty: the body as built.${existing ? '' : ' Once the endpoint is saved, Try it runs it on an event type’s example.'}`);
  f.input.value = existing && existing.transformation ? JSON.stringify(existing.transformation, null, 2) : '';
  const parse = () => {
    const text = f.input.value.trim();
    return text ? JSON.parse(text) : null;
  };
  if (existing) {
    const options = groups.flatMap((g) => g.event_types.map((t) => h('option', { value: `${g.domain} ${t.type}` }, t.type)));
    const type = h('select', { name: 'try_event_type', 'aria-label': 'Event type to try the transformation on' }, options);
    const result = h('pre', { class: 'transform-result', tabindex: '0', hidden: true, 'aria-live': 'polite' }, h('code'));
    const show = (text, failed) => {
      result.hidden = false;
      result.classList.toggle('error', failed);
      result.firstChild.textContent = text;
    };
    const tryBtn = h('button', { type: 'button', class: 'btn small', onclick: async () => {
      let rule;
      try {
        rule = parse();
      } catch (err) {
        show(`not JSON: ${err.message}`, true);
        return;
      }
      const [domain, eventType] = type.value.split(' ');
      const req = { event_type: eventType, domain };
      if (rule) req.transformation = rule;
      try {
        const r = await post(`/v1/webhooks/${encodeURIComponent(existing.id)}/transformation/test`, req);
        if (r.data.ok) show(JSON.stringify(r.data.output, null, 2), false);
        else show(r.data.error, true);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        show([err.message, ...Object.entries(err.fieldErrors).map(([k, v]) => `${k}: ${v}`)].join('\n'), true);
      }
    } }, 'Try it');
    f.wrap.append(h('div', { class: 'row try-transformation' }, type, tryBtn), result);
  }
  return {
    wrap: f.wrap,
    // Puts the transformation into body (null removes a saved one), or a problem into local.
    read(local, body) {
      try {
        const rule = parse();
        if (rule !== null && (typeof rule !== 'object' || Array.isArray(rule))) throw new Error('a JSON object');
        if (rule || (existing && existing.transformation)) body.transformation = rule;
      } catch (err) {
        local.transformation = `a TransformationRule as JSON: ${err.message}`;
      }
    },
  };
}
