// End-to-end test of the web console in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against a live bus on
// loopback: `busline registry`, `busline api`, the PMO service, the outbox
// relay, `busline webhooks fanout` and `deliver`, and a local sink. Run by
// tests/integration/test_console_e2e.c, which makes a fresh migrated
// database and topics of the test's own and passes:
//   BUSLINE_BIN            the busline binary (normal or sanitizer build)
//   BUSLINE_PG_URL         the fresh database
//   BUSLINE_KAFKA_BROKERS  the broker
//   BUSLINE_SOURCE_DIR     the source tree (console files)
//   CONSOLE_BUS            the topics' prefix (without the dot), also the
//                          webhook connector's name
//   CONSOLE_SHOTS          where the screenshots go (build/console-screenshots)
// Prints "console e2e: N checks passed" and exits 0, or names the failed
// check and exits 1.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = need('BUSLINE_BIN');
const PG_URL = need('BUSLINE_PG_URL');
const SRC = need('BUSLINE_SOURCE_DIR');
const BUS = need('CONSOLE_BUS');
const SHOTS = process.env.CONSOLE_SHOTS || path.join(process.cwd(), 'console-screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const WAIT = 20000; // generous: the API may run under AddressSanitizer
const WIDTHS = [360, 1440];
const PASSWORD = 'correct horse battery staple';

function need(name) {
  if (!process.env[name]) {
    console.error(`console e2e: ${name} is not set`);
    process.exit(2);
  }
  return process.env[name];
}

let checks = 0;
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  checks++;
  console.log(`  ok ${what}`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'busline-console-'));
const baseEnv = {
  ...process.env,
  BUSLINE_PG_URL: PG_URL,
  BUSLINE_LOG_LEVEL: 'warn',
  BUSLINE_ENCRYPTION_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}`,
  BUSLINE_WEBHOOK_ALLOW: '127.0.0.0/8',
  BUSLINE_CONSOLE_DIR: path.join(SRC, 'api/console/web'),
  BUSLINE_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
  NO_PROXY: '*',
};

function cli(...args) {
  return execFileSync(BIN, args, { env: baseEnv, encoding: 'utf8' }).trim();
}

/** An organization with one admin user; returns {org, email}. */
function bootstrap(name, plan) {
  const org = cli('api', 'create-org', '--name', name, '--plan', plan);
  const email = `${plan}-${crypto.randomBytes(4).toString('hex')}@example.test`;
  const pwFile = path.join(tmp, `${plan}.pw`);
  fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  cli('api', 'create-user', '--org', org, '--email', email, '--password-file', pwFile, '--permission', 'admin');
  return { org, email };
}

const roles = []; // every process started, for the clean-up

/** A free loopback port (for the roles' metrics servers). */
function freePort() {
  return new Promise((resolve) => {
    const srv = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `busline <args>`; its log lines are kept (and printed if the test
 * fails). With listening set, resolves the port of that log message.
 */
function startRole(name, args, listening) {
  const proc = spawn(BIN, args, { env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const role = { name, proc, log: [] };
  roles.push(role);
  let partial = '';
  const keep = (d) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      role.log.push(line);
      if (role.log.length > 200) role.log.shift();
      if (listening && line.includes(`"${listening}"`)) role.onListening?.(JSON.parse(line).port);
    }
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  if (!listening) return Promise.resolve(role);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), WAIT);
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${role.log.slice(-5).join(' | ')}`)));
    role.onListening = (port) => {
      clearTimeout(timer);
      role.port = port;
      resolve(role);
    };
  });
}

/** A throwaway CA and a client certificate it issued (CN busline-console), and an unrelated key, as PEM texts. */
function makeClientCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busline-console-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=busline-console-ca');
  run('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=busline-console');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem');
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'other.key');
  const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
  const out = { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key'), otherKey: read('other.key') };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Stops a role with SIGTERM; resolves its exit code (or signal name). */
function stopRole(role) {
  return new Promise((resolve) => {
    const { proc } = role;
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode ?? proc.signalCode);
    proc.removeAllListeners('exit');
    proc.on('exit', (code, signal) => resolve(code ?? signal));
    proc.kill('SIGTERM');
  });
}

/** The delivery pipeline: PMO service, relay, fan-out and delivery worker. */
async function startPipeline(registryUrl) {
  const common = ['--log-level', 'info'];
  const metrics = async () => ['--metrics-port', String(await freePort())];
  return Promise.all([
    startRole('pmo', ['pmo', ...common, ...(await metrics()), '--registry-url', registryUrl,
      '--commands-topic', `${BUS}.commands.pmo`, '--dlq-topic', `${BUS}.commands.pmo.dlq`,
      '--events-topic-prefix', `${BUS}.`, '--group', `${BUS}-pmo`]),
    startRole('relay', ['relay', ...common, ...(await metrics()), '--poll-interval', '200ms']),
    startRole('fanout', ['webhooks', 'fanout', ...common, ...(await metrics()), '--registry-url', registryUrl,
      '--topics', `${BUS}.events.pmo.project,${BUS}.events.pmo.risk`, '--deliveries-topic', `${BUS}.deliveries`,
      '--group', `${BUS}-fanout`]),
    startRole('deliver', ['webhooks', 'deliver', ...common, ...(await metrics()), '--deliveries-topic', `${BUS}.deliveries`,
      '--connector', BUS, '--retry-tiers', '1s', '--group', `${BUS}-deliver`]),
  ]);
}

const GOOGLE = { clientId: 'console-e2e.apps.googleusercontent.com', clientSecret: 'console-e2e-secret' };

/**
 * One loopback server for what the bus calls out to: the webhook receiver
 * (/hook: 200 "sink ok") and a fake of Google's OAuth endpoints, whose
 * consent page approves at once and sends the browser back with a code.
 */
function startSink() {
  const received = [];
  const oauth = { challenge: '', redirectUri: '', tokens: 0, badRequests: [] };
  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (url.pathname === '/o/oauth2/v2/auth') {
        const q = url.searchParams;
        if (q.get('client_id') !== GOOGLE.clientId || q.get('code_challenge_method') !== 'S256') oauth.badRequests.push(req.url);
        oauth.challenge = q.get('code_challenge');
        oauth.redirectUri = q.get('redirect_uri');
        const back = new URL(oauth.redirectUri);
        back.searchParams.set('code', '4/good-code');
        back.searchParams.set('state', q.get('state'));
        res.writeHead(302, { location: back.toString() });
        return res.end();
      }
      if (url.pathname === '/token') {
        const f = new URLSearchParams(body);
        const challenge = crypto.createHash('sha256').update(f.get('code_verifier') || '').digest('base64url');
        if (f.get('client_secret') !== GOOGLE.clientSecret || f.get('code') !== '4/good-code' || challenge !== oauth.challenge
          || f.get('redirect_uri') !== oauth.redirectUri) {
          oauth.badRequests.push(`token: ${body}`);
          return json(res, 400, { error: 'invalid_grant' });
        }
        oauth.tokens++;
        return json(res, 200, { access_token: 'ya29.console', refresh_token: '1//console', expires_in: 3599, token_type: 'Bearer',
          scope: 'openid email https://www.googleapis.com/auth/calendar.events' });
      }
      if (url.pathname === '/oauth2/v3/userinfo') return json(res, 200, { sub: '1234', email: 'planner@example.com', email_verified: true });
      if (url.pathname === '/revoke') return json(res, 200, {});
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('sink ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    resolve({ server, received, oauth, base, url: `${base}/hook` });
  }));
}

async function callApi(base, method, p, token, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Standard Webhooks v1 check of a received delivery with the endpoint's secret. */
function signatureValid(secret, delivery) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const h = delivery.headers;
  const mac = crypto.createHmac('sha256', key).update(`${h['webhook-id']}.${h['webhook-timestamp']}.${delivery.body}`).digest('base64');
  return (h['webhook-signature'] || '').split(' ').includes(`v1,${mac}`);
}

async function shoot(page, name) {
  await page.evaluate(() => document.getElementById('toasts').replaceChildren());
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width < 600 ? 780 : 900 });
    await page.waitForTimeout(150); // let the layout settle after the resize
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/** Every visible form control has an accessible name. */
async function controlsAreLabelled(page, where) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
      && !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 80)));
  check(unlabelled.length === 0, `${where}: every control has a label ${unlabelled.join(' ')}`);
}

/** Nothing overflows the viewport sideways at 360 px. */
async function fitsNarrow(page, where) {
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize({ width: 1440, height: 900 });
  check(overflow <= 0, `${where}: no sideways scrolling at 360 px (overflow ${overflow})`);
}

async function signIn(page, base, email) {
  await page.goto(`${base}/console/`);
  await page.getByRole('heading', { name: 'Sign in to busline' }).waitFor({ timeout: WAIT });
  // keyboard only: the email field has focus, Tab to the password, Enter submits
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor({ timeout: WAIT });
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const pro = bootstrap('Acme Console', 'pro');
  const demo = bootstrap('Demo Console', 'demo');
  const sink = await startSink();
  baseEnv.BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID = GOOGLE.clientId;
  baseEnv.BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET = GOOGLE.clientSecret;
  baseEnv.BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL = sink.base;
  let context;
  let failure = null;
  let base = '';
  let pipeline = [];
  try {
    const registry = await startRole('registry', ['registry', '--port', '0', '--log-level', 'info'], 'registry listening');
    const registryUrl = `http://127.0.0.1:${registry.port}`;
    const api = await startRole('api', ['api', '--port', '0', '--log-level', 'info', '--registry-url', registryUrl,
      '--topic-prefix', `${BUS}.`, '--alert-interval', '1s'], 'api listening');
    base = `http://127.0.0.1:${api.port}`;
    pipeline = await startPipeline(registryUrl);
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1440, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
      timeout: WAIT,
    });
    context.setDefaultTimeout(WAIT);
    const problems = [];
    const page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
    });

    // ---- static files served with the policy ----
    const index = await fetch(`${base}/console/`);
    check(index.status === 200 && /default-src 'none'/.test(index.headers.get('content-security-policy') || ''),
      'GET /console/ answers with a strict Content-Security-Policy');
    // sent as written: fetch() would fold "%2e%2e" into ".." and resolve it away
    const rawStatus = (p) => new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: new URL(base).port, path: p }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject));
    check(await rawStatus('/console/%2e%2e/%2e%2e/README.md') === 400, 'an encoded ".." is refused');

    // ---- sign-in ----
    await page.goto(`${base}/console/`);
    await page.getByRole('heading', { name: 'Sign in to busline' }).waitFor();
    await controlsAreLabelled(page, 'sign-in');
    await shoot(page, 'signin');
    await page.getByLabel('Email').fill(pro.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not recognised' }).waitFor();
    check(true, 'a wrong password is refused on the sign-in page');
    await signIn(page, base, pro.email);
    check(await page.getByText('pro plan · admin').isVisible(), 'signed in with the keyboard; the plan shows');

    // ---- API keys: create, token once, reload ----
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyDialog = page.getByRole('dialog', { name: 'Create an API key' });
    await keyDialog.waitFor();
    await controlsAreLabelled(page, 'key dialog');
    await keyDialog.getByLabel('Name').fill('CI deploys');
    await keyDialog.locator('#perm-admin').check();
    check(await keyDialog.locator('#perm-write').isChecked(), 'ticking admin ticks write too');
    await keyDialog.getByLabel('Expires').selectOption('2592000');
    await keyDialog.getByRole('button', { name: 'Create key' }).click();
    const tokenEl = page.locator('#new-token');
    await tokenEl.waitFor();
    const token = (await tokenEl.textContent()).trim();
    check(/^bl_live_[0-9A-Za-z]{40,}$/.test(token), 'the new token is shown');
    check(await page.getByText('shown only once').isVisible(), 'with the never-again warning');
    await page.getByRole('button', { name: 'Copy token' }).click();
    check((await page.evaluate(() => navigator.clipboard.readText())) === token, 'copy puts the token on the clipboard');
    const card = page.locator('.key-card', { hasText: 'CI deploys' });
    await card.waitFor();
    check(await card.locator('.badge.perm-admin').isVisible(), 'the key card shows its permission badge');
    check(await card.getByText('Active').isVisible(), 'and its active state');
    check(await page.locator('.docs code.base-url').textContent() === base, 'the docs panel uses the real base URL');
    check((await page.locator('.docs pre').first().textContent()).includes(`${base}/v1/webhooks`), 'curl example with the base URL');
    await controlsAreLabelled(page, 'keys page');
    await fitsNarrow(page, 'keys page');
    await shoot(page, 'keys-token-once');

    const listed = await callApi(base, 'GET', '/v1/webhooks', token);
    check(listed.status === 200, 'the new key works against the API');
    await page.reload();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await card.waitFor();
    check(await page.locator('#new-token').count() === 0, 'after a reload the token panel is gone');
    check(!(await page.content()).includes(token), 'and the token is nowhere in the page');
    // usage is flushed every second; the card shows it after a reload
    for (let i = 0; i < 20 && (await card.locator('.usage-count').textContent()) === '0'; i++) {
      await page.waitForTimeout(500);
      await page.reload();
      await card.waitFor();
    }
    check((await card.locator('.usage-count').textContent()) !== '0', 'the card counts the key\'s requests');
    await shoot(page, 'keys');

    // ---- webhooks: create ----
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const hookDialog = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
    await hookDialog.waitFor();
    await controlsAreLabelled(page, 'webhook dialog');
    await hookDialog.getByLabel('Name').fill('Ops receiver');
    await hookDialog.getByLabel('URL').fill(sink.url);
    const groups = await hookDialog.locator('.type-group legend').allTextContents();
    check(groups.length > 0, `event types come grouped by domain (${groups.join(', ')})`);
    // the event catalog: a type's fields and an example body, from GET /v1/event-types/:type
    await hookDialog.getByRole('button', { name: 'Payload of risk.escalated' }).click();
    const details = hookDialog.locator('.event-catalog');
    await details.locator('tr[data-field="severity"]').waitFor();
    check((await details.locator('tr[data-field="severity"]').textContent()).includes('one of LOW, MEDIUM, HIGH, CRITICAL'),
      'the catalog shows a field\'s type (severity: one of its symbols)');
    const shownBody = JSON.parse(await details.locator('pre.example-body').textContent());
    check(shownBody.event === 'risk.escalated' && typeof shownBody.data.risk_id === 'string',
      'and an example body of that type');
    await shoot(page, 'webhooks-event-catalog');
    const pmoAll = hookDialog.getByLabel(/All pmo events/);
    if (await pmoAll.count()) await pmoAll.check();
    else await hookDialog.locator('.type-group input').first().check();
    await hookDialog.getByLabel('Every event').check();
    await hookDialog.getByLabel('Custom headers').fill('X-Tenant: acme');
    await hookDialog.getByLabel('Conditions (JSON)').fill('not json');
    await hookDialog.getByRole('button', { name: 'Add endpoint' }).click();
    await hookDialog.getByText('a JSON array of {field, operator, value}').waitFor();
    check(true, 'malformed conditions are flagged next to the field');
    await hookDialog.getByLabel('Conditions (JSON)').fill('');
    check(await hookDialog.getByLabel('Signature header').inputValue() === 'X-Powalyze-Signature',
      'new endpoints are signed with X-Powalyze-Signature by default');
    await hookDialog.getByLabel('Retries').fill('4');
    await hookDialog.getByLabel('Timeout (seconds)').fill('7');
    check(await hookDialog.getByLabel('Delivery order').inputValue() === 'none', 'new endpoints deliver in parallel by default');
    await hookDialog.getByLabel('Delivery order').selectOption('fifo');
    await hookDialog.getByRole('button', { name: 'Add endpoint' }).click();
    const secretEl = page.locator('#new-secret');
    await secretEl.waitFor();
    const secret = (await secretEl.textContent()).trim();
    check(secret.startsWith('whsec_'), 'the signing secret is shown once');
    const endpoint = page.locator('.endpoint', { hasText: 'Ops receiver' });
    await endpoint.waitFor();
    check(await endpoint.getByText(sink.url).isVisible(), 'the endpoint card shows its URL');
    check(await endpoint.locator('.badge.event', { hasText: '*' }).count() > 0, 'and its event-type badges');
    check(await endpoint.getByRole('switch').getAttribute('aria-checked') === 'true', 'and that it is active');
    check((await endpoint.textContent()).includes('4 after the first attempt'), 'retry count saved');
    const endpointId = await endpoint.getAttribute('data-endpoint-id');
    check((await endpoint.locator('.ordering').textContent()).includes('FIFO'), 'the card shows FIFO order');
    const saved = await callApi(base, 'GET', `/v1/webhooks/${endpointId}`, token);
    check(saved.status === 200 && saved.json.ordering === 'fifo', `the endpoint is stored as ordering fifo (${saved.json?.ordering})`);

    // ---- transport: a client certificate and a CA, the key checked and never shown ----
    const pki = makeClientCert();
    await endpoint.getByRole('button', { name: 'Edit' }).click();
    const tlsDialog = page.getByRole('dialog', { name: 'Edit Ops receiver' });
    await tlsDialog.waitFor();
    await tlsDialog.getByLabel('Client certificate (PEM)').fill(pki.cert);
    await tlsDialog.getByLabel('Client key (PEM, unencrypted)').fill(pki.otherKey);
    await tlsDialog.getByRole('button', { name: 'Save changes' }).click();
    await tlsDialog.locator('[data-field="tls"] .field-error', { hasText: 'not the key of clientCertificate' }).waitFor();
    check(true, 'a key that is not the certificate\'s is flagged in the transport fields');
    await tlsDialog.getByLabel('Client key (PEM, unencrypted)').fill(pki.key);
    await tlsDialog.getByLabel(/CA certificates to trust/).fill(pki.ca);
    await tlsDialog.getByRole('button', { name: 'Save changes' }).click();
    await endpoint.locator('.tls-fact', { hasText: 'CN=busline-console' }).first().waitFor();
    check(await endpoint.locator('.tls-fact', { hasText: 'CN=busline-console-ca' }).count() === 1,
      'the card shows the client certificate\'s and the CA\'s subjects');
    check(!(await endpoint.textContent()).includes('PRIVATE KEY'), 'and never the key');
    await shoot(page, 'webhooks-transport');
    // ---- the organization's egress proxy: validated, shown, removed ----
    const egress = page.locator('.egress-proxy');
    await egress.getByLabel('Proxy URL').fill('http://10.0.0.1:3128');
    await egress.getByRole('button', { name: 'Save proxy' }).click();
    await egress.locator('[data-field="url"] .field-error', { hasText: 'private' }).waitFor();
    check(true, 'a proxy on a private address is refused next to the field');
    await egress.getByLabel('Proxy URL').fill('http://127.0.0.1:3128');
    await egress.getByRole('button', { name: 'Save proxy' }).click();
    await egress.locator('.egress-status[data-state="set"]', { hasText: 'http://127.0.0.1:3128' }).waitFor();
    const proxyNow = await callApi(base, 'GET', '/v1/organizations/egress-proxy', token);
    check(proxyNow.json.data.url === 'http://127.0.0.1:3128', 'the proxy saved in the console is the organization\'s');
    await egress.getByLabel('Proxy URL').fill('');
    await egress.getByRole('button', { name: 'Save proxy' }).click();
    await egress.locator('.egress-status[data-state="direct"]').waitFor();
    check((await callApi(base, 'GET', '/v1/organizations/egress-proxy', token)).json.data.url === null,
      'and an empty URL removes it');

    // ---- a Kafka destination: the dialog's own fields, a refused broker shown by the field ----
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await hookDialog.waitFor();
    await hookDialog.getByLabel('Name').fill('Stream');
    await hookDialog.getByLabel('Destination').selectOption('kafka');
    check(await hookDialog.getByLabel('URL').isHidden(), 'a Kafka destination hides the URL');
    await hookDialog.getByLabel('Every event').check();
    await hookDialog.getByLabel('Brokers').fill('10.1.2.3:9092');
    await hookDialog.getByLabel('Topic').fill('acme.events');
    await controlsAreLabelled(page, 'webhook dialog (kafka)');
    await hookDialog.getByRole('button', { name: 'Add endpoint' }).click();
    await hookDialog.locator('.kafka-destination .field-error', { hasText: 'private' }).waitFor();
    check(true, 'a broker on a private address is refused next to the Kafka settings (422)');
    await hookDialog.getByRole('button', { name: 'Cancel', exact: true }).click();

    // ---- test event: delivered, signed, in the live log ----
    await endpoint.getByRole('button', { name: 'Send test event' }).click();
    const row200 = endpoint.locator('tr.delivery[data-status="200"]');
    await row200.first().waitFor();
    check(true, 'the test delivery appears in the endpoint\'s log with status 200');
    const got = sink.received.find((r) => r.body.includes('webhook.test'));
    check(got && signatureValid(secret, got), 'the sink got it with a valid Standard Webhooks signature');
    check(got.headers['x-tenant'] === 'acme', 'with the custom header');
    // the Powalyze document's own receiver check (§4.4): HMAC keyed with the secret string
    const expected = crypto.createHmac('sha256', secret).update(got.body).digest('hex');
    check(got.headers['x-powalyze-signature'] === `sha256=${expected}`, 'and X-Powalyze-Signature as the document verifies it');
    // a delivery made elsewhere shows up without a reload (polling)
    const viaApi = await callApi(base, 'POST', `/v1/webhooks/${endpointId}/test`, token);
    check(viaApi.status === 200 && viaApi.json.success, 'a second test sent through the API with the new key');
    await page.waitForFunction((id) => document.querySelectorAll(`[data-endpoint-id="${id}"] tr.delivery[data-status="200"]`).length >= 2,
      endpointId, { timeout: WAIT });
    check(true, 'the delivery list updates live');
    await page.waitForFunction(() => Number(document.querySelector('[data-stat="succeeded"] .stat-value')?.textContent) >= 2, null, { timeout: WAIT });
    check(true, 'the stats cards count the deliveries');
    // ---- an event published through the API reaches the endpoint ----
    const project = await callApi(base, 'POST', '/v1/projects', token,
      { project_id: 'P-100', name: 'Apollo rollout', owner_id: 'u-ana', budget_cents: 12000000, currency: 'EUR' });
    check(project.status === 202, `POST /v1/projects with the key is accepted (${project.status})`);
    const risk = await callApi(base, 'POST', '/v1/risks', token, { risk_id: 'R-7', project_id: 'P-100', title: 'Vendor delivers late',
      description: 'The hardware vendor moved the delivery by three weeks.', severity: 'HIGH', probability: 40, impact: 60 });
    check(risk.status === 202, `POST /v1/risks with the key is accepted (${risk.status})`);
    const riskRow = endpoint.locator('tr.delivery[data-status="200"]', { hasText: 'risk.created' });
    await riskRow.waitFor({ timeout: 90000 });
    check(true, 'the risk.created delivery appears in the console with status 200 (api → pmo → relay → fanout → deliver)');
    const riskHit = sink.received.find((r) => r.body.includes('"risk.created"'));
    check(riskHit && signatureValid(secret, riskHit) && JSON.parse(riskHit.body).data.risk_id === 'R-7',
      'the sink got the risk.created event, signed');
    // the rest needs no pipeline; stopping it keeps the enable/disable
    // events of the API off the shared default topics
    for (const role of pipeline) {
      const code = await stopRole(role);
      check(code === 0, `${role.name} stops cleanly (exit ${code})`);
    }
    await riskRow.click();
    const riskDetail = page.getByRole('dialog', { name: /Delivery of risk.created/ });
    await riskDetail.waitFor();
    check((await riskDetail.locator('.response-excerpt').textContent()) === 'sink ok', 'the risk delivery opens with its response excerpt');
    await riskDetail.getByRole('button', { name: 'Close' }).first().click();
    await endpoint.locator('tr.delivery[data-status="200"]', { hasText: 'webhook.test' }).first().click();
    const detail = page.getByRole('dialog', { name: /Delivery of webhook.test/ });
    await detail.waitFor();
    check((await detail.locator('.response-excerpt').textContent()) === 'sink ok', 'a delivery opens with its response excerpt');
    await shoot(page, 'webhook-delivery');
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached' });
    check(true, 'Escape closes the dialog');
    await controlsAreLabelled(page, 'webhooks page');
    await fitsNarrow(page, 'webhooks page');
    await shoot(page, 'webhooks');

    // ---- the payload transformation: tried in the dialog, refused with its failing test case, saved ----
    await endpoint.getByRole('button', { name: 'Edit' }).click();
    const editXf = page.getByRole('dialog', { name: 'Edit Ops receiver' });
    await editXf.waitFor();
    const xfBox = editXf.getByLabel('Transformation (JSON)');
    await xfBox.fill(JSON.stringify({ type: 'map', rules: [{ operation: 'set', source: '$.event', target: '$.kind' }],
      testCases: [{ name: 'kind', input: { event: 'e' }, expectedOutput: { kind: 'e' } }] }));
    await editXf.getByLabel('Event type to try the transformation on').selectOption({ label: 'risk.escalated' });
    await editXf.getByRole('button', { name: 'Try it' }).click();
    const tried = editXf.locator('pre.transform-result');
    await tried.waitFor();
    await page.waitForFunction(() => (document.querySelector('pre.transform-result')?.textContent || '').includes('kind'), null, { timeout: WAIT });
    check(JSON.parse(await tried.textContent()).kind === 'risk.escalated', 'Try it shows the transformed example body of the chosen event type');
    await xfBox.fill(JSON.stringify({ type: 'map', rules: [{ operation: 'set', source: '$.event', target: '$.kind' }],
      testCases: [{ name: 'wrong', input: { event: 'e' }, expectedOutput: { kind: 'f' } }] }));
    await editXf.getByRole('button', { name: 'Save changes' }).click();
    await editXf.getByText(/test case "wrong" failed/).waitFor();
    check(true, 'a transformation whose test case fails is refused, naming the test case');
    await xfBox.fill(JSON.stringify({ id: 'kind', type: 'map', rules: [{ operation: 'set', source: '$.event', target: '$.kind' }] }));
    await editXf.getByRole('button', { name: 'Save changes' }).click();
    await editXf.waitFor({ state: 'detached' });
    const withXf = await callApi(base, 'GET', `/v1/webhooks/${endpointId}`, token);
    check(withXf.json.transformation && withXf.json.transformation.id === 'kind', 'the transformation is saved from the dialog');
    await endpoint.getByRole('button', { name: 'Edit' }).click();
    const clearXf = page.getByRole('dialog', { name: 'Edit Ops receiver' });
    await clearXf.waitFor();
    check(JSON.parse(await clearXf.getByLabel('Transformation (JSON)').inputValue()).id === 'kind', 'the dialog shows the saved transformation');
    await clearXf.getByLabel('Transformation (JSON)').fill('');
    await clearXf.getByRole('button', { name: 'Save changes' }).click();
    await clearXf.waitFor({ state: 'detached' });
    const noXf = await callApi(base, 'GET', `/v1/webhooks/${endpointId}`, token);
    check(noXf.json.transformation === null, 'emptying the box removes it');

    // ---- disable, then replay ----
    await endpoint.getByRole('switch').click();
    await page.locator(`[data-endpoint-id="${endpointId}"] [role="switch"][aria-checked="false"]`).waitFor();
    const off = await callApi(base, 'GET', `/v1/webhooks/${endpointId}`, token);
    check(off.json.active === false && off.json.disabled_reason === 'disabled from the console', 'the toggle disables the endpoint');
    check(await page.locator(`[data-endpoint-id="${endpointId}"] .disabled-reason`).isVisible(), 'the card shows the disabled reason');
    await page.locator(`[data-endpoint-id="${endpointId}"]`).getByRole('button', { name: 'Replay failed since…' }).click();
    const replayDialog = page.getByRole('dialog', { name: /Replay deliveries/ });
    await replayDialog.waitFor();
    await replayDialog.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('status').filter({ hasText: 'queued' }).waitFor();
    const on = await callApi(base, 'GET', `/v1/webhooks/${endpointId}`, token);
    check(on.json.active === true, 'replay re-enables the endpoint and queues the replay');
    await page.locator(`[data-endpoint-id="${endpointId}"] [role="switch"][aria-checked="true"]`).waitFor();

    // ---- replay a time window: a bad window, progress, cancel ----
    await page.getByRole('button', { name: 'Replay a time window…' }).click();
    const windowDialog = page.getByRole('dialog', { name: 'Replay a time window' });
    await windowDialog.waitFor();
    await controlsAreLabelled(page, 'replay dialog');
    await windowDialog.getByLabel('Endpoint').selectOption(endpointId);
    await windowDialog.getByLabel('Until').fill('2020-01-01T00:00');
    await windowDialog.getByRole('button', { name: 'Start replay' }).click();
    const untilError = windowDialog.locator('[data-field="until"] .field-error');
    await untilError.waitFor();
    check((await untilError.textContent()).includes('later than since'), 'a window ending before it starts is refused on its until field');
    await windowDialog.getByLabel('Until').fill(await page.evaluate(() => {
      const d = new Date(Date.now() + 5 * 60 * 1000);
      const pad = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    }));
    await windowDialog.getByRole('button', { name: 'Start replay' }).click();
    await page.getByRole('status').filter({ hasText: /Replay \d+ queued/ }).waitFor();
    const newest = async () => (await callApi(base, 'GET', '/v1/webhooks/replays?limit=1', token)).json.data[0];
    const job = await newest();
    check(job.endpoint_id === endpointId && job.status === 'queued', 'the console queues a replay of the window to the endpoint');
    const jobRow = page.locator(`tr.replay[data-replay-id="${job.id}"]`);
    await jobRow.waitFor();
    check(await jobRow.getByText('Ops receiver').isVisible(), 'the replay is listed with its endpoint');
    // the webhook fan-out is stopped: carry the queued replays out once, as the operator's command does
    const handled = cli('webhooks', 'replay-requests', '--topics', `${BUS}.events.pmo.project,${BUS}.events.pmo.risk`,
      '--deliveries-topic', `${BUS}.deliveries`);
    check(/handled [1-9]\d* replay jobs/.test(handled), `the queued replays are carried out (${handled})`);
    await page.locator(`tr.replay[data-replay-id="${job.id}"][data-status="completed"]`).waitFor({ timeout: WAIT });
    const done = (await callApi(base, 'GET', `/v1/webhooks/replays/${job.id}`, token)).json.data;
    const shown = async (name) => Number(await jobRow.locator(`[data-count="${name}"]`).textContent());
    check(done.progress.events_scanned >= 2 && done.progress.deliveries_enqueued >= 2 &&
      (await shown('scanned')) === done.progress.events_scanned && (await shown('enqueued')) === done.progress.deliveries_enqueued,
      `the progress shows the events scanned and the deliveries enqueued (${JSON.stringify(done.progress)})`);
    await page.getByRole('button', { name: 'Replay a time window…' }).click();
    await windowDialog.waitFor();
    await windowDialog.getByRole('button', { name: 'Start replay' }).click();
    await page.getByRole('status').filter({ hasText: /Replay \d+ queued/ }).last().waitFor();
    const all = await newest();
    check(all.endpoint_id === null && all.id !== job.id, 'a replay to every endpoint is queued');
    const allRow = page.locator(`tr.replay[data-replay-id="${all.id}"]`);
    await allRow.getByText('All endpoints').waitFor();
    await allRow.getByRole('button', { name: 'Cancel' }).click();
    await page.locator(`tr.replay[data-replay-id="${all.id}"][data-status="cancelled"]`).waitFor();
    check((await callApi(base, 'GET', `/v1/webhooks/replays/${all.id}`, token)).json.data.status === 'cancelled',
      'the console cancels a queued replay');
    await fitsNarrow(page, 'webhooks page with replays');
    await shoot(page, 'webhook-replays');

    // ---- rotate the secret ----
    await page.locator(`[data-endpoint-id="${endpointId}"]`).getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('heading', { name: /Secret rotated/ }).waitFor();
    const rotated = (await page.locator('#new-secret').textContent()).trim();
    check(rotated.startsWith('whsec_') && rotated !== secret, 'rotation shows a new secret once');

    // ---- integrations ----
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.locator('.providers[aria-busy="false"]').waitFor();
    check(await page.locator('.provider').count() === 6, 'integrations: every provider is listed');
    const google = page.locator('.provider[data-provider="google_calendar"]');
    check(await google.locator('.badge', { hasText: 'Not connected' }).isVisible(), 'Google Calendar starts not connected');
    await google.getByRole('button', { name: 'Connect Google Calendar' }).click();
    const connectDialog = page.getByRole('dialog', { name: 'Connect Google Calendar' });
    await controlsAreLabelled(page, 'connect dialog');
    await connectDialog.getByRole('button', { name: 'Continue' }).click();
    // the browser goes to the (fake) consent page and comes back with a code
    await page.waitForURL((u) => u.pathname === '/console/' && !u.search, { timeout: WAIT });
    await google.locator('.badge', { hasText: /^Connected$/ }).waitFor();
    check(sink.oauth.tokens === 1 && sink.oauth.badRequests.length === 0,
      `the OAuth flow ran: consent, code exchanged with PKCE ${sink.oauth.badRequests.join(' ')}`);
    check(await google.getByText('Last sync').isVisible(), 'the card shows the last sync');
    check((await google.locator('.facts').textContent()).includes('Errors0'), 'and its error count');
    await google.getByRole('button', { name: 'Settings' }).click();
    const settingsDialog = page.getByRole('dialog', { name: 'Google Calendar settings' });
    await settingsDialog.getByLabel('calendar id').fill('primary');
    await settingsDialog.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'settings saved' }).waitFor();
    const integrations = (await callApi(base, 'GET', '/v1/integrations', token)).json.data;
    check(integrations.find((i) => i.provider === 'google_calendar')?.settings?.calendar_id === 'primary', 'settings are saved');
    await page.locator('.provider[data-provider="google_calendar"]').getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('status').filter({ hasText: /Google Calendar sync/ }).waitFor();
    await page.locator('.provider[data-provider="google_calendar"]').getByRole('button', { name: 'Sync history' }).click();
    const historyDialog = page.getByRole('dialog', { name: 'Google Calendar sync history' });
    await historyDialog.locator('tbody tr').first().waitFor();
    check(await historyDialog.locator('tbody tr').count() >= 1, 'the sync history lists the run');
    await shoot(page, 'integration-history');
    await page.keyboard.press('Escape');
    await shoot(page, 'integrations');

    // ---- alerts: a failing custom endpoint opens alerts; acknowledge; a rule switched off resolves its alert ----
    const inventory = await callApi(base, 'POST', '/v1/custom-apis', token, { name: 'Inventory lookup', path: '/inventory',
      method: 'GET', authentication: { type: 'none' },
      integrations: [{ id: 'stock', type: 'http', endpoint: 'http://127.0.0.1:9/stock', timeout: 2000 }] });
    check(inventory.status === 201, `a custom endpoint whose outside service is down is created (${inventory.status})`);
    let failed = 0;
    for (let i = 0; i < 200 && failed < 6; i++) {
      const res = await fetch(base + inventory.json.url);
      await res.arrayBuffer();
      if (res.status >= 500) failed++;
      else await new Promise((r) => setTimeout(r, 100)); // until every replica serves it
    }
    check(failed === 6, 'its calls fail (502)');
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    const downtimeRow = page.locator('.alerts-open .alert-row[data-type="downtime"]');
    await downtimeRow.waitFor({ timeout: 60000 });
    check(await downtimeRow.locator('.badge.sev-critical').isVisible(), 'the downtime alert is listed open, critical (evaluated every second)');
    check((await downtimeRow.textContent()).includes('Inventory lookup'), 'and names the endpoint');
    const errorRow = page.locator('.alerts-open .alert-row[data-type="error-rate"]');
    await errorRow.waitFor({ timeout: 60000 });
    await errorRow.getByRole('button', { name: 'Acknowledge' }).click();
    await errorRow.getByText(/Acknowledged/).waitFor();
    const acked = (await callApi(base, 'GET', '/v1/alerts?status=open&type=error-rate', token)).json.data[0];
    check(acked && acked.acknowledgedAt, 'acknowledging from the console records it');
    const rules = page.locator('.alert-rules .rule-row');
    check(await rules.count() === 5, 'the five default rules are listed');
    const downtimeSwitch = page.getByRole('switch', { name: 'Enabled: Downtime, Every custom endpoint' });
    check(await downtimeSwitch.getAttribute('aria-checked') === 'true', 'the downtime rule is on');
    await controlsAreLabelled(page, 'alerts page');
    await fitsNarrow(page, 'alerts page');
    await shoot(page, 'alerts');
    await downtimeSwitch.click();
    await page.locator('.rule-row[data-type="downtime"][data-enabled="false"]').waitFor();
    const rulesNow = (await callApi(base, 'GET', '/v1/alert-rules?type=downtime', token)).json.data;
    check(rulesNow.length === 1 && rulesNow[0].enabled === false, 'the switch disables the rule');
    await page.locator('.alerts-resolved .alert-row[data-type="downtime"]').waitFor({ timeout: 60000 });
    check(await page.locator('.alerts-open .alert-row[data-type="downtime"]').count() === 0,
      'with its rule off the downtime alert resolves and moves to the resolved list');
    await page.getByRole('switch', { name: 'Enabled: Downtime, Every custom endpoint' }).click();
    await page.locator('.rule-row[data-type="downtime"][data-enabled="true"]').waitFor();
    check(true, 'and switches back on');
    await shoot(page, 'alerts-resolved');

    // ---- a refused access token is refreshed on the 401 and the call retried ----
    await page.evaluate(() => {
      const t = sessionStorage.getItem('busline.access').split('.');
      sessionStorage.setItem('busline.access', `${t[0]}.${t[1]}.${t[2].slice(0, -4)}AAAA`);
    });
    await page.reload();
    await page.getByRole('link', { name: 'API keys' }).click();
    await card.waitFor();
    const renewed = await page.evaluate(() => sessionStorage.getItem('busline.access'));
    check(renewed && !renewed.endsWith('AAAA'), 'a refused access token is refreshed and the page loads');

    // ---- revoke the key ----
    await card.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke this key?' }).getByRole('button', { name: 'Revoke key' }).click();
    await card.getByText('Revoked').waitFor();
    check((await callApi(base, 'GET', '/v1/webhooks', token)).status === 401, 'a revoked key is refused');

    // ---- sign out ----
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to busline' }).waitFor();
    check(await page.evaluate(() => sessionStorage.getItem('busline.access')) === null, 'sign-out forgets the session');

    // ---- the demo plan ----
    const demoPage = await context.newPage();
    demoPage.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await signIn(demoPage, base, demo.email);
    await demoPage.getByRole('heading', { name: 'API keys are available on Pro' }).waitFor();
    check(await demoPage.getByRole('button', { name: 'Create key' }).count() === 0, 'demo: keys page shows the Pro card instead of the form');
    await shoot(demoPage, 'demo-keys');
    await demoPage.getByRole('link', { name: 'Webhooks' }).click();
    await demoPage.getByRole('heading', { name: 'Webhooks are available on Pro' }).waitFor();
    check(await demoPage.getByRole('button', { name: 'Add endpoint' }).count() === 0, 'demo: webhooks page shows the Pro card instead of the form');
    await shoot(demoPage, 'demo-webhooks');

    check(problems.length === 0, `no script errors or CSP violations in the pages ${problems.join(' | ')}`);
  } catch (err) {
    failure = err;
  } finally {
    if (context) await context.close().catch(() => {});
    for (const role of roles.reverse()) {
      const code = await stopRole(role);
      if (!failure && code !== 0) failure = new Error(`${role.name} exited with ${code} at stop (leaks or a crash under sanitizers?)`);
    }
    sink.server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failure) {
    for (const role of roles) console.error(`--- last log lines of ${role.name}:\n${role.log.slice(-15).join('\n')}`);
    console.error(`console e2e: FAILED after ${checks} checks: ${failure.stack || failure}`);
    process.exit(1);
  }
  console.log(`console e2e: ${checks} checks passed; screenshots in ${SHOTS}`);
}

main().catch((err) => {
  console.error(`console e2e: FAILED: ${err.stack || err}`);
  process.exit(1);
});
