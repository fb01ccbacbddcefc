// Shared pieces of the browser tests of the trading screen (docs/web.md): Chromium driven by
// playwright-core over CDP, the console watch that fails a test on any error the page logs, the
// stack's admin API (deposits), exact decimal arithmetic and bounded polling.
//
// Environment (set by run.sh):
//   SPOTEX_BASE_URL           http://127.0.0.1:<public port> (HAProxy), required
//   SPOTEX_GATEWAY_DIRECT_URL gateway replica 1 itself (the admin endpoints HAProxy refuses)
//   SPOTEX_VAR                the stack's directory (secrets/admin-token, run/*.pid, demo/)
//   SPOTEX_CHROMIUM           the browser [/usr/bin/chromium]
//   SPOTEX_SCREENSHOT_DIR     where the screenshots go [<repo>/build/web-screenshots]

import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BASE_URL = process.env.SPOTEX_BASE_URL;
if (!BASE_URL || !/^http:\/\/127\.0\.0\.1:\d+$/.test(BASE_URL)) {
  throw new Error(`SPOTEX_BASE_URL must be http://127.0.0.1:<port>, got '${BASE_URL}' ` +
    '(run the browser tests with web/e2e/run.sh)');
}
export const DIRECT_URL = process.env.SPOTEX_GATEWAY_DIRECT_URL ?? BASE_URL;
export const SPOTEX_VAR = process.env.SPOTEX_VAR ?? '';
export const SCREENSHOT_DIR = process.env.SPOTEX_SCREENSHOT_DIR ??
  path.join(REPO_ROOT, 'build/web-screenshots');
const CHROMIUM = process.env.SPOTEX_CHROMIUM ?? '/usr/bin/chromium';

// Headless Chromium as docs/web.md says: no GPU, no sandbox (CI runs as root), nothing that
// reaches the network by itself (component updates, sync, QUIC probes).
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}

// ---------------------------------------------------------------------------------------------
// Console watch. Every console message of type error, every uncaught exception ('pageerror')
// and every Content-Security-Policy violation (the page's securitypolicyviolation event,
// recorded by an init script; Chromium also logs it as a console error) is an error. A test
// allows an expected one only through an explicit rule (allow()), which names why.

export function watchPage(page) {
  const errors = [];
  const rules = [];
  const record = (kind, text, url) => {
    const rule = rules.find((r) => r.active && r.match({ kind, text, url }));
    if (rule) {
      rule.seen.push(`${kind}: ${text} (${url})`);
      return;
    }
    errors.push(`${kind}: ${text}${url ? ` (${url})` : ''}`);
  };
  page.on('console', (m) => {
    if (m.type() === 'error') record('console', m.text(), m.location()?.url ?? '');
  });
  page.on('pageerror', (e) => record('pageerror', String(e?.stack ?? e), ''));
  page.on('crash', () => record('crash', 'the page crashed', ''));
  return {
    errors,
    // allow(why, match) -> rule; rule.active = false ends it. match({kind, text, url}).
    allow(why, match) {
      const rule = { why, match, active: true, seen: [] };
      rules.push(rule);
      return rule;
    },
    // CSP violations the page saw (from the init script), as errors.
    async collectCsp() {
      const v = await page.evaluate(() => globalThis.__spotexCsp ?? []).catch(() => []);
      for (const x of v) errors.push(`csp: ${x}`);
    },
    // Fails with the errors seen since the last call (each test reports its own).
    async assertClean(what) {
      await this.collectCsp();
      await page.evaluate(() => { globalThis.__spotexCsp = []; }).catch(() => {});
      const seen = errors.splice(0);
      assert.deepEqual(seen, [], `console errors during ${what}`);
    },
  };
}

// Runs in the page before its own scripts (CDP, so the page's CSP does not apply to it): records
// CSP violations and every link-status state the page shows, however briefly.
export function initScript() {
  globalThis.__spotexCsp = [];
  globalThis.__spotexLinkStates = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    globalThis.__spotexCsp.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
  });
  const seen = () => {
    const el = document.querySelector('[data-testid="link-status"]');
    const s = el?.getAttribute('data-state');
    const list = globalThis.__spotexLinkStates;
    if (s && list[list.length - 1] !== s) list.push(s);
  };
  new MutationObserver(seen).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
  });
}

export async function newPage(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, baseURL: BASE_URL });
  await context.addInitScript(initScript);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // Deleting an API key may ask for confirmation.
  page.on('dialog', (d) => void d.accept());
  const watch = watchPage(page);
  return { context, page, watch };
}

// ---------------------------------------------------------------------------------------------
// Exact decimals (BigInt units of 1e-8), shared with the API tests. Amounts read off the screen
// may carry thousands separators: decShown.
export { dec, fmt, mul, mulDown } from '../../tests/e2e/decimal.mjs';
import { dec } from '../../tests/e2e/decimal.mjs';
export const decShown = (s) => dec(String(s).trim().replace(/,/g, ''));

// v rounded down to a multiple of step (both scaled).
export const floorTo = (v, step) => (v / step) * step;

// ---------------------------------------------------------------------------------------------
// Polling and the stack.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value; fails with `what` after ms.
export async function waitFor(fn, what, ms = 15_000, every = 200) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export function adminToken() {
  return readFileSync(path.join(SPOTEX_VAR, 'secrets/admin-token'), 'utf8').split('\n')[0];
}

// POST /api/v1/admin/deposit on replica 1 (HAProxy refuses the admin paths).
export async function deposit(userId, asset, amount) {
  const res = await fetch(`${DIRECT_URL}/api/v1/admin/deposit`, {
    method: 'POST',
    headers: { 'X-Spotex-Admin-Token': adminToken(),
      'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ userId: String(userId), asset, amount }).toString(),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `deposit: ${JSON.stringify(body)}`);
  return body;
}

// A same-origin request from inside the page, as the screen makes them (session cookie plus the
// CSRF header). Only for requests that succeed: Chromium logs a 4xx answer as a console error.
export async function pageApi(page, method, urlPath, params = {}) {
  const r = await page.evaluate(async ({ method, urlPath, params }) => {
    const q = new URLSearchParams(params).toString();
    const body = method === 'POST' ? q : undefined;
    const url = body === undefined && q ? `${urlPath}?${q}` : urlPath;
    const res = await fetch(url, {
      method, credentials: 'same-origin', body,
      headers: { 'X-Spotex-CSRF': '1',
        ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    });
    return { status: res.status, text: await res.text() };
  }, { method, urlPath, params });
  assert.equal(r.status, 200, `${method} ${urlPath}: ${r.status} ${r.text}`);
  return JSON.parse(r.text);
}

// The demo users the gateway created on its first start ($SPOTEX_VAR/demo/users.json).
export function demoUsers() {
  return JSON.parse(readFileSync(path.join(SPOTEX_VAR, 'demo/users.json'), 'utf8'));
}

// Text of a test id (first match), trimmed.
export async function text(page, testId) {
  return (await page.getByTestId(testId).first().textContent())?.trim() ?? '';
}

// Waits until the trading screen is up: the book synced and the market link live.
export async function waitForScreen(page, ms = 30_000) {
  await page.getByTestId('orderbook').waitFor({ state: 'visible', timeout: ms });
  await waitFor(async () =>
    (await page.getByTestId('orderbook').getAttribute('data-state')) === 'synced' &&
    (await page.getByTestId('link-status').getAttribute('data-state')) === 'live',
  'the book synced and the link live', ms);
}

// Best bid and ask (scaled) from the book's rows, or null while a side is empty.
export async function bestPrices(page) {
  const read = async (testId) => {
    const prices = await page.getByTestId(testId).evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-price')).filter(Boolean));
    return prices.map(dec);
  };
  const bids = await read('book-bid');
  const asks = await read('book-ask');
  if (bids.length === 0 || asks.length === 0) return null;
  return { bid: bids.reduce((a, b) => (b > a ? b : a)), ask: asks.reduce((a, b) => (b < a ? b : a)) };
}

// Free and locked balance of an asset as the Balances tab shows them (scaled), or null.
export async function shownBalance(page, asset) {
  const row = page.locator(`[data-testid="balance-row"][data-asset="${asset}"]`);
  if ((await row.count()) === 0) return null;
  const free = await row.getByTestId('balance-free').textContent();
  const locked = await row.getByTestId('balance-locked').textContent();
  return { free: decShown(free), locked: decShown(locked) };
}

// Clicks order-submit and waits for the form's answer: the order-success text (matching `want`,
// if given), or a failure naming the order-error the form shows instead.
export async function submitOrder(page, want = /./) {
  await page.getByTestId('order-submit').click();
  const ok = page.getByTestId('order-success').filter({ hasText: want });
  const bad = page.getByTestId('order-error');
  await waitFor(async () => (await ok.count()) > 0 || (await bad.count()) > 0,
    'the order form\'s answer', 10_000, 100);
  if ((await ok.count()) === 0) assert.fail(`the order was refused: ${await bad.first().textContent()}`);
  return (await ok.first().textContent()).trim();
}

// Records secrets the tests created or saw (passwords, API secrets, session cookies) in
// $SPOTEX_VAR/test-secrets.txt: run.sh then fails if any of them is in a log
// (tests/e2e/check_secrets.sh, docs/logging.md).
export function noteSecret(...secrets) {
  if (!SPOTEX_VAR) return;
  const lines = secrets.filter((x) => typeof x === 'string' && x !== '' && !/[\r\n]/.test(x));
  if (lines.length) appendFileSync(path.join(SPOTEX_VAR, 'test-secrets.txt'), `${lines.join('\n')}\n`);
}

// The session cookie's value (the session token), noted as a secret.
export async function noteSessionCookie(page) {
  const c = (await page.context().cookies()).find((x) => x.name === 'spotex_session');
  if (c?.value) noteSecret(c.value);
}
