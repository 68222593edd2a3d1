// The event catalog in the webhook dialog: what a chosen event type's body
// holds (its fields from the JSON Schema GET /v1/event-types/:type serves)
// and an example body, so a subscriber sees the payload before choosing.
import { get } from '../api.js';
import { fill, h } from '../ui.js';

const cache = new Map();

/** The catalog entry of type in domain (fetched once per page). */
function entry(type, domain) {
  const key = `${domain}/${type}`;
  if (!cache.has(key)) {
    const p = get(`/v1/event-types/${encodeURIComponent(type)}?domain=${encodeURIComponent(domain)}`).then((r) => r.data);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return cache.get(key);
}

/** "string", "date-time", "one of LOW, HIGH", "integer or null" ... for a property schema. */
function typeText(s) {
  if (!s) return 'any';
  if (s.anyOf) return s.anyOf.map(typeText).sort((a, b) => (a === 'null') - (b === 'null')).join(' or '); // null last
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.format) return s.format;
  if (s.type === 'array') return `list of ${typeText(s.items)}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `map of ${typeText(s.additionalProperties)}`;
  return s.type || 'any';
}

/** The description of a property, looking into a nullable union's branch. */
function describe(s) {
  return s.description || (s.anyOf || []).map((b) => b.description).find(Boolean) || '';
}

/** The panel that shows one type at a time; show(type, domain) fills it. */
export function catalogPanel() {
  const panel = h('section', { class: 'event-catalog', 'aria-live': 'polite', 'aria-label': 'Event type details', hidden: true });
  async function show(type, domain) {
    panel.hidden = false;
    fill(panel, h('p', { class: 'muted' }, `Loading ${type}…`));
    try {
      const e = await entry(type, domain);
      const data = e.schema.properties.data;
      const rows = Object.entries(data.properties || {}).map(([name, s]) =>
        h('tr', { dataset: { field: name } }, h('td', { class: 'mono' }, name), h('td', {}, typeText(s)), h('td', {}, describe(s))));
      fill(panel,
        h('h3', {}, h('span', { class: 'mono' }, e.type), ` (${e.domain}, topic ${e.topic})`),
        h('p', {}, e.description),
        h('table', { class: 'fields' }, h('caption', {}, 'Fields of data'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Description'))),
          h('tbody', {}, rows)),
        h('h4', {}, 'Example body'),
        h('pre', { tabindex: '0', class: 'example-body' }, h('code', {}, JSON.stringify(e.example, null, 2))),
        h('p', { class: 'muted' }, 'The JSON Schema of the body: ', h('code', {}, `GET /v1/event-types/${e.type}?domain=${e.domain}`)));
    } catch (err) {
      fill(panel, h('p', { class: 'field-error' }, `${type}: ${err.message}`));
    }
  }
  return { panel, show };
}

/** The small button beside an event type that opens its details in the panel. */
export function detailsButton(catalog, type, domain) {
  return h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Payload of ${type}`,
    onclick: () => catalog.show(type, domain) }, 'payload');
}
