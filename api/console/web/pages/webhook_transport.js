// The transport settings of webhooks in the console: an endpoint's mutual
// TLS (a client certificate and its key) and custom CA, as the card's facts
// and as a fieldset of the create/edit dialog (the key is write-only: the
// API shows a certificate's subject, expiry and fingerprint, never the key),
// and the organization's egress proxy (/v1/organizations/egress-proxy).
import { ApiError, del, get, put } from '../api.js';
import { errorBox, field, fill, fmtAgo, h, showFieldErrors, toast, uid } from '../ui.js';

/** The card's facts about e.tls (an array of <div>s, empty when none). */
export function tlsFacts(e) {
  const tls = e.tls || {};
  const fact = (label, cert) => h('div', { class: 'tls-fact' }, h('dt', {}, label),
    h('dd', { title: `SHA-256 ${cert.fingerprint_sha256}` }, cert.subject, ' ',
      h('span', { class: 'muted' }, `(expires ${String(cert.expires_at).slice(0, 10)})`)));
  return [tls.clientCertificate ? fact('Client certificate', tls.clientCertificate) : null,
    tls.caCertificate ? fact('Trusted CA', tls.caCertificate) : null].filter(Boolean);
}

function pemArea(name, placeholder) {
  return h('textarea', { name, rows: '3', class: 'mono', spellcheck: 'false', placeholder });
}

/**
 * The dialog's "Transport" fieldset for endpoint e (null: a new one):
 * { wrap, apply(body) } where apply adds body.tls when the user set or
 * removed the settings (nothing when the fields were left empty).
 */
export function tlsFields(e) {
  const has = Boolean(e && e.tls);
  const ids = { cert: uid('tls'), key: uid('tls'), ca: uid('tls'), clear: uid('tls') };
  const cert = pemArea('tls_client_certificate', '-----BEGIN CERTIFICATE-----');
  const key = pemArea('tls_client_key', '-----BEGIN PRIVATE KEY-----');
  const ca = pemArea('tls_ca_certificate', '-----BEGIN CERTIFICATE-----');
  cert.id = ids.cert;
  key.id = ids.key;
  ca.id = ids.ca;
  const clear = h('input', { type: 'checkbox', id: ids.clear, name: 'tls_clear' });
  const current = has ? h('dl', { class: 'facts' }, tlsFacts(e)) : null;
  const wrap = h('fieldset', { class: 'field transport', dataset: { field: 'tls' } },
    h('legend', {}, 'Transport: mutual TLS and CA (optional)'),
    current,
    h('label', { for: ids.cert }, 'Client certificate (PEM)'), cert,
    h('label', { for: ids.key }, 'Client key (PEM, unencrypted)'), key,
    h('label', { for: ids.ca }, 'CA certificates to trust instead of the public ones (PEM)'), ca,
    h('p', { class: 'hint' }, has
      ? 'Pasting any PEM replaces the current settings. The key is stored encrypted and never shown again.'
      : 'For receivers that require a client certificate or use a private CA. The key is stored encrypted and never shown again.'),
    has ? h('div', { class: 'check' }, clear, h('label', { for: ids.clear }, 'Remove the client certificate and CA')) : null,
    h('p', { class: 'field-error', hidden: true }));
  function apply(body) {
    if (has && clear.checked) {
      body.tls = null;
      return;
    }
    const tls = {};
    if (cert.value.trim()) tls.clientCertificate = cert.value.trim() + '\n';
    if (key.value.trim()) tls.clientKey = key.value.trim() + '\n';
    if (ca.value.trim()) tls.caCertificate = ca.value.trim() + '\n';
    if (Object.keys(tls).length) body.tls = tls;
  }
  return { wrap, apply };
}

/** The organization's egress proxy section: shown to all, changed by admins. Returns {el, load}. */
export function egressProxySection(canManage) {
  const body = h('div', { class: 'egress-proxy', 'aria-live': 'polite' });
  const el = h('section', { 'aria-labelledby': 'egress-title' },
    h('h2', { id: 'egress-title' }, 'Egress proxy'),
    h('p', { class: 'muted' }, 'Send this organization’s deliveries through an HTTP(S) proxy, so receivers can allow-list its fixed addresses. '
      + 'Every destination is still checked against private networks.'),
    body);

  function render(current) {
    const url = field('Proxy URL', h('input', { name: 'url', type: 'url', class: 'mono', placeholder: 'http://proxy.internal:3128',
      value: current.url || '', disabled: !canManage }), 'http:// or https://, without a user or password. Empty: deliver directly.');
    const form = h('form', { class: 'egress-form inline-form' }, url.wrap,
      canManage ? h('button', { type: 'submit', class: 'btn' }, 'Save proxy') : null,
      h('p', { class: 'form-error', role: 'alert', hidden: true }));
    const status = h('p', { class: 'egress-status', dataset: { state: current.url ? 'set' : 'direct' } },
      current.url ? ['Deliveries go through ', h('code', { class: 'mono' }, current.url), ` (set ${fmtAgo(current.updated_at)}).`]
        : 'Deliveries go directly to each endpoint.');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const value = url.input.value.trim();
      try {
        if (value) await put('/v1/organizations/egress-proxy', { url: value });
        else await del('/v1/organizations/egress-proxy');
        toast(value ? 'Egress proxy saved' : 'Egress proxy removed');
        await load();
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        showFieldErrors(form, err);
      }
    });
    fill(body, status, form);
  }

  async function load() {
    try {
      const res = await get('/v1/organizations/egress-proxy');
      render((res && res.data) || {});
    } catch (err) {
      fill(body, errorBox(err));
    }
  }
  return { el, load };
}
