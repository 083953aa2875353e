// End-to-end test of the pamscim web console in a real browser: Debian's
// chromium, driven by playwright-core, against a real pamscim server built
// from this tree on 127.0.0.1:0 with a fresh data directory.
//
//   cd web/e2e && npm ci && node --test
//
// Without /usr/bin/chromium the test skips, unless CI=true, where it fails.
// Screenshots of every page go to web/e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const shots = join(here, 'screenshots');
const CHROMIUM = process.env.PAMSCIM_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple';
const SCIM_PASSWORD = 'Hunter2-very-secret-P@ss';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing and CI=true: install Debian's chromium package`);
}
const skip = haveChromium ? false : `no ${CHROMIUM}: install Debian's chromium package to run the browser tests`;

let work, bin, data, server, base, token, context, page;
// The OAuth client made in one test and used by the next.
let client = {};
// Every console response the browser received, to check their headers.
const consoleResponses = [];

// startServer runs `pamscim serve` and reads the bound address from its
// "pamscim listening ... addr=HOST:PORT" log line.
function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 60_000);
    p.stderr.on('data', (b) => {
      err += b.toString();
      const m = err.match(/pamscim listening.* addr=(\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc: p, addr: m[1] });
      }
    });
    p.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${err}`)));
  });
}

async function scim(method, path, body) {
  const res = await fetch(`${base}/scim/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.text() };
}

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'pamscim-e2e-'));
  bin = join(work, 'pamscim');
  data = join(work, 'data');
  mkdirSync(shots, { recursive: true });
  execFileSync('go', ['build', '-o', bin, './cmd/pamscim'], { cwd: repo, stdio: 'inherit' });
  execFileSync(bin, ['admin', 'create', 'alice', '--all-tenants', '--data', data], { input: `${PASSWORD}\n` });
  const s = await startServer();
  server = s.proc;
  base = `http://${s.addr}`;
  token = readFileSync(join(data, 'bootstrap-token'), 'utf8').trim();

  const { chromium } = await import('playwright-core');
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/admin')) consoleResponses.push(r);
  });
});

after(async () => {
  if (context) await context.close();
  if (server) server.kill('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

test('sign in', { skip }, async () => {
  await page.goto(`${base}/admin/`);
  assert.match(page.url(), /\/admin\/login$/);
  await shot('01-login');
  // A wrong password is refused with one message for every cause.
  await page.fill('input[name=name]', 'alice');
  await page.fill('input[name=password]', 'not the password');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('.alert.error'), /Wrong name or password/);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/admin\/t\/default\/$/);
  assert.equal(await page.textContent('h1'), 'Dashboard · default');
  const cookies = await context.cookies(`${base}/admin/`);
  const session = cookies.find((c) => c.name === 'pamscim_console');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/admin/');
});

test('create an OAuth client and see its secret exactly once', { skip }, async () => {
  await page.click('nav.tabs >> text=OAuth clients');
  await page.waitForURL(/\/clients$/);
  await page.fill('input[name=name]', 'SailPoint IdentityIQ');
  await page.fill('input[name=access_ttl]', '10m');
  await page.fill('input[name=refresh_ttl]', '60d');
  // A wrong password refuses it, keeps what was typed, and makes nothing.
  await page.fill('form.form-grid input[name=admin_password]', 'not the password');
  await page.click('button:has-text("Create client")');
  assert.match(await page.textContent('.alert.error'), /That is not your password/);
  assert.equal(await page.inputValue('form.form-grid input[name=name]'), 'SailPoint IdentityIQ');
  assert.equal(await page.inputValue('form.form-grid input[name=access_ttl]'), '10m');
  assert.equal(await page.locator('#secret').count(), 0);
  await page.fill('form.form-grid input[name=admin_password]', PASSWORD);
  await page.click('button:has-text("Create client")');
  await page.waitForURL(/\/clients$/);
  const secret = await page.inputValue('#secret');
  assert.match(secret, /^pamscim_cs_[A-Za-z0-9_-]{43}$/);
  const clientID = (await page.textContent('#client-id')).trim();
  assert.match(await page.textContent('table.clients'), /SailPoint IdentityIQ/);
  await shot('03-client-created');

  // The secret works at the token endpoint.
  const res = await fetch(`${base}/scim/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientID, client_secret: secret }),
  });
  assert.equal(res.status, 200);
  const tok = await res.json();
  assert.equal(tok.expires_in, 600, 'the 10m access token lifetime set in the form');

  // Reload: the secret is gone, and nowhere on the page.
  await page.reload();
  assert.equal(await page.locator('#secret').count(), 0);
  assert.ok(!(await page.content()).includes(secret), 'secret shown again after reload');
  await shot('04-clients');

  // Recycle the secret: a new one, once; the old one stops working. The
  // button is behind a confirmation that opens without script.
  await page.click('table.clients summary:has-text("Recycle secret")');
  await page.fill('table.clients details[open] input[name=admin_password]', PASSWORD);
  await page.click('table.clients button:has-text("Recycle secret")');
  await page.waitForURL(/\/clients$/);
  const rotated = await page.inputValue('#secret');
  assert.notEqual(rotated, secret);
  await page.reload();
  assert.ok(!(await page.content()).includes(rotated));
  const old = await fetch(`${base}/scim/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientID, client_secret: secret }),
  });
  assert.equal(old.status, 401);

  // Token lifetimes can be changed in place.
  const row = page.locator('table.clients tbody tr', { hasText: 'SailPoint IdentityIQ' });
  await row.locator('input[name=access_ttl]').fill('5m');
  await row.locator('button:has-text("Save")').click();
  await page.waitForURL(/\/clients$/);
  assert.match(await page.textContent('#flash'), /lifetimes/);
  assert.equal(await row.locator('input[name=access_ttl]').inputValue(), '5m');
  client = { id: clientID, secret: rotated };
});

// generateRefresh opens a client's "Generate refresh token…" confirmation,
// types the administrator's password, which it asks for again, and submits.
async function generateRefresh(row, shotName) {
  await row.locator('summary:has-text("Generate refresh token")').click();
  await row.locator('details[open] input[name=admin_password]').fill(PASSWORD);
  if (shotName) await shot(shotName);
  await row.locator('details[open] button:has-text("Generate refresh token")').click();
}

async function tokenEndpoint(params) {
  const res = await fetch(`${base}/scim/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.json() };
}

test('generate a refresh token for a client: shown once, then it works and rotates', { skip }, async () => {
  assert.ok(client.id, 'the client of the previous test');
  const row = page.locator('table.clients tbody tr', { hasText: 'SailPoint IdentityIQ' });
  await generateRefresh(row, '13-reauth');
  await page.waitForURL(/\/clients$/);
  const refresh = await page.inputValue('#secret');
  assert.match(refresh, /^pamscim_rt_[A-Za-z0-9_-]{43}$/);
  assert.equal((await page.textContent('#client-id')).trim(), client.id);
  const flash = await page.textContent('#flash');
  assert.match(flash, /Refresh token for SailPoint IdentityIQ/);
  assert.match(flash, /60d/, "the client's refresh token lifetime");
  assert.match(flash, /scim:read scim:write/);
  await shot('11-refresh-token');

  // Shown once: gone on reload.
  await page.reload();
  assert.equal(await page.locator('#secret').count(), 0);
  assert.ok(!(await page.content()).includes(refresh), 'refresh token shown again after reload');

  // It works at the token endpoint with the client's credentials: an access
  // token with the client's lifetime (5m, set above) and a new refresh token.
  const ok = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: refresh, client_id: client.id, client_secret: client.secret });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.expires_in, 300);
  assert.match(ok.body.refresh_token, /^pamscim_rt_/);
  assert.notEqual(ok.body.refresh_token, refresh, 'the refresh token rotates');
  const users = await fetch(`${base}/scim/v2/Users`, { headers: { Authorization: `Bearer ${ok.body.access_token}` } });
  assert.equal(users.status, 200);
  // Rotated: the generated token is spent.
  const again = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: refresh, client_id: client.id, client_secret: client.secret });
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
});

// seedRefresh is seed 000's request, byte for byte: the connector holds a
// refresh token and nothing else.
async function seedRefresh(refreshToken) {
  const res = await fetch(`${base}/scim/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=refresh_token&refresh_token=${refreshToken}`,
  });
  return { status: res.status, body: await res.json() };
}

test('allow refresh tokens alone: seed 000\'s exchange without the client secret', { skip }, async () => {
  assert.ok(client.id, 'the client of the previous tests');
  const row = page.locator('table.clients tbody tr', { hasText: 'SailPoint IdentityIQ' });
  await generateRefresh(row);
  await page.waitForURL(/\/clients$/);
  const refresh = await page.inputValue('#secret');
  assert.match(await page.textContent('#flash'), /client's ID and secret/);

  // Off (the default): the connector's request is refused, and says why.
  const refused = await seedRefresh(refresh);
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.equal(refused.body.error, 'invalid_client');
  assert.match(refused.body.error_description, /refresh tokens alone/);

  // Turn it on: behind a confirmation that says what it costs.
  await row.locator('summary:has-text("Allow refresh token alone")').click();
  assert.match(await row.locator('.confirm-box', { hasText: 'credential by itself' }).textContent(), /keep it as secret as a client secret/);
  await row.locator('details[open] input[name=admin_password]').fill(PASSWORD);
  await row.locator('button:has-text("Allow refresh token alone")').click();
  await page.waitForURL(/\/clients$/);
  assert.match(await page.textContent('#flash'), /exchanged alone/);
  assert.equal(await row.locator('.badge.refresh-alone').textContent(), 'refresh token alone');
  assert.equal(await row.locator('button:has-text("Require client authentication")').count(), 1);
  await shot('12-refresh-alone');

  // The same token, exactly as seed 000 sends it: an access token and a
  // new refresh token, which works the same way.
  const ok = await seedRefresh(refresh);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.token_type, 'Bearer');
  assert.equal(ok.body.expires_in, 300, "the client's access token lifetime");
  assert.match(ok.body.refresh_token, /^pamscim_rt_/);
  assert.notEqual(ok.body.refresh_token, refresh, 'the refresh token rotates');
  const users = await fetch(`${base}/scim/v2/Users`, { headers: { Authorization: `Bearer ${ok.body.access_token}` } });
  assert.equal(users.status, 200);
  const next = await seedRefresh(ok.body.refresh_token);
  assert.equal(next.status, 200, JSON.stringify(next.body));

  // The first token again is reuse: refused, and its whole chain is revoked.
  const reused = await seedRefresh(refresh);
  assert.equal(reused.status, 400);
  assert.equal(reused.body.error, 'invalid_grant');
  assert.equal((await seedRefresh(next.body.refresh_token)).status, 400, 'the chain of a reused token is revoked');
  const dead = await fetch(`${base}/scim/v2/Users`, { headers: { Authorization: `Bearer ${next.body.access_token}` } });
  assert.equal(dead.status, 401);

  // A token generated now says it is exchanged alone; turning the setting
  // off refuses it again.
  await page.reload();
  await generateRefresh(row);
  await page.waitForURL(/\/clients$/);
  const later = await page.inputValue('#secret');
  assert.match(await page.textContent('#flash'), /nothing else \(this client allows refresh tokens alone\)/);
  await row.locator('button:has-text("Require client authentication")').click();
  await page.waitForURL(/\/clients$/);
  assert.match(await page.textContent('#flash'), /must authenticate again/);
  assert.equal(await row.locator('.badge.refresh-alone').count(), 0);
  assert.equal((await seedRefresh(later)).status, 401);
  const authed = await tokenEndpoint({ grant_type: 'refresh_token', refresh_token: later, client_id: client.id, client_secret: client.secret });
  assert.equal(authed.status, 200, 'the token still works with the client secret');
});

test('create a SCIM token and revoke it', { skip }, async () => {
  await page.click('nav.tabs >> text=SCIM tokens');
  await page.waitForURL(/\/tokens$/);
  await page.fill('input[name=name]', 'okta-prod');
  await page.selectOption('select[name=expires]', '30d');
  await page.fill('input[name=admin_password]', PASSWORD);
  await page.click('button:has-text("Create token")');
  await page.waitForURL(/\/tokens$/);
  const secret = await page.inputValue('#secret');
  assert.match(secret, /^pamscim_pat_/);
  await shot('05-token-created');

  // The token works, and the list shows its last use.
  const ok = await fetch(`${base}/scim/v2/Users`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(ok.status, 200);
  await page.reload();
  assert.ok(!(await page.content()).includes(secret), 'token shown again after reload');
  const row = page.locator('table.tokens tbody tr', { hasText: 'okta-prod' });
  assert.match(await row.textContent(), /active/);
  assert.doesNotMatch(await row.locator('td').nth(4).textContent(), /^-$/, 'last use recorded');

  await row.locator('summary:has-text("Revoke")').click();
  await row.locator('button:has-text("Revoke token")').click();
  await page.waitForURL(/\/tokens$/);
  assert.match(await page.locator('table.tokens tbody tr', { hasText: 'okta-prod' }).textContent(), /revoked/);
  await shot('06-tokens');
  const refused = await fetch(`${base}/scim/v2/Users`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(refused.status, 401);
});

test('find a failed SCIM request in the log with its body redacted', { skip }, async () => {
  const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'jdoe@example.com', password: SCIM_PASSWORD, active: true };
  assert.equal((await scim('POST', '/Users', user)).status, 201);
  const dup = await scim('POST', '/Users', user);
  assert.equal(dup.status, 409);

  await page.click('nav.tabs >> text=Provisioning log');
  await page.waitForURL(/\/log$/);
  // The log is written off the request path: wait for the entry to land.
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.goto(`${base}/admin/t/default/log?status=409`);
    found = (await page.locator('table.log tbody tr').count()) > 0;
    if (!found) await page.waitForTimeout(250);
  }
  assert.ok(found, 'the 409 reached the log');
  await page.selectOption('select[name=status]', '409');
  await page.fill('input[name=path]', '/Users');
  await page.click('button:has-text("Filter")');
  const row = page.locator('table.log tbody tr').first();
  assert.match(await row.textContent(), /POST/);
  assert.match(await row.textContent(), /409/);
  await shot('07-log');

  await row.locator('a:has-text("Open")').click();
  await page.waitForURL(/\/log\/\d+\?path=%2FUsers&status=409$/);
  const req = await page.textContent('#request-body');
  assert.match(req, /jdoe@example\.com/);
  assert.match(req, /\[redacted\]/);
  assert.ok(!(await page.content()).includes(SCIM_PASSWORD), 'the password shows in the log');
  assert.match(await page.textContent('#response-body'), /uniqueness/);
  await shot('08-log-entry');
  // Back to the list it was opened from, filters and all.
  await page.click('a:has-text("← Provisioning log (filtered)")');
  await page.waitForURL(/\/log\?path=%2FUsers&status=409$/);
  assert.equal(await page.inputValue('input[name=path]'), '/Users');
  assert.equal(await page.inputValue('select[name=status]'), '409');
});

test('a narrow screen: no page is wider than the window', { skip }, async () => {
  // A phone or a half-screen window: wide tables scroll inside their box,
  // so the header, the navigation and the forms stay on screen.
  await page.setViewportSize({ width: 400, height: 860 });
  try {
    for (const p of ['', 'clients', 'tokens', 'log', 'audit']) {
      await page.goto(`${base}/admin/t/default/${p}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 400, `/admin/t/default/${p} is ${width}px wide in a 400px window`);
    }
    await page.goto(`${base}/admin/t/default/log`);
    await shot('14-narrow-log');
  } finally {
    await page.setViewportSize({ width: 1280, height: 860 });
  }
});

test('dashboard, audit trail and tenants', { skip }, async () => {
  await page.click('nav.tabs >> text=Dashboard');
  await page.waitForURL(/\/admin\/t\/default\/$/);
  assert.match(await page.textContent('.stats'), /Users/);
  assert.match(await page.textContent('section.card'), /409/);
  await shot('02-dashboard');

  await page.click('nav.tabs >> text=Audit trail');
  await page.waitForURL(/\/audit$/);
  const trail = await page.textContent('table.audit');
  for (const ev of ['admin.signin', 'client.created', 'client.rotated', 'client.lifetimes', 'client.changed', 'token.issued', 'token.refreshed', 'token.reused', 'token.revoked']) {
    assert.match(trail, new RegExp(ev.replace('.', '\\.')), `audit has ${ev}`);
  }
  assert.match(trail, /admin:alice/);
  assert.match(trail, /without client authentication/, 'an exchange of a refresh token alone is audited as one');
  assert.doesNotMatch(await page.content(), /pamscim_(cs|pat|rt|at)_[A-Za-z0-9]/, 'a secret in the audit trail');
  await shot('09-audit');

  await page.click('nav.tabs >> text=Tenants');
  await page.fill('input[name=name]', 'acme');
  await page.click('button:has-text("Create tenant")');
  await page.waitForURL(/\/admin\/tenants$/);
  assert.match(await page.textContent('table.grid'), /acme/);
  await shot('10-tenants');
  await page.selectOption('#tenant-switch', 'acme');
  await page.click('form.switch button');
  await page.waitForURL(/\/admin\/t\/acme\/$/);

  // A wrong link while signed in: an error page that keeps the navigation.
  await page.goto(`${base}/admin/t/acme/log/999999999`);
  assert.match(await page.textContent('main'), /There is no such log entry/);
  assert.equal(await page.locator('nav.tabs').count(), 1);

  // Every console response so far carried the CSP and frame denial.
  assert.ok(consoleResponses.length > 20, `${consoleResponses.length} console responses`);
  for (const r of consoleResponses) {
    const h = await r.allHeaders();
    assert.match(h['content-security-policy'] || '', /default-src 'none'.*frame-ancestors 'none'/, r.url());
    assert.equal(h['x-frame-options'], 'DENY', r.url());
  }

  // Sign out: the session is gone, pages ask to sign in again.
  await page.click('button:has-text("Sign out")');
  await page.waitForURL(/\/admin\/login$/);
  await page.goto(`${base}/admin/t/acme/log?status=error`);
  assert.match(page.url(), /\/admin\/login\?next=%2Fadmin%2Ft%2Facme%2Flog%3Fstatus%3Derror$/);
  // Signing in again opens the page that asked for it.
  await page.fill('input[name=name]', 'alice');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/admin\/t\/acme\/log\?status=error$/);
  assert.equal(await page.textContent('h1'), 'Provisioning log · acme');
});
