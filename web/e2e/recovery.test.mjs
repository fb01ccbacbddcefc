// The screen survives the loss of its gateway, with a signed-in page open (market stream and
// session user stream up), without a reload:
//   1. the replica the page's market stream is on (HAProxy's `show sess`: the only session in
//      the gateways_by_key backend, the bots use no WebSocket) is killed with SIGKILL: the page
//      must show "reconnecting", come back live through the other replica with a resynced book;
//      scripts/stack.sh up restarts the killed one;
//   2. both replicas are killed, so HAProxy has nowhere to send anything: "reconnecting" while
//      they are down; after stack.sh up restarts them the page must be live again, its book
//      resynced (newer update ids) and its user stream back (a deposit shows in Balances).
//
// Expected console errors, allowed only between the kill and the page's recovery: Chromium logs
// each failed WebSocket handshake ("WebSocket connection to 'ws://.../stream?...' failed") and
// each REST answer HAProxy gives while no replica is up (502/503/504) as console errors. Anything
// else, before, during or after, fails the test.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT, SPOTEX_VAR, dec, demoUsers, deposit, launch, newPage,
  noteSessionCookie, pageApi, shownBalance, sleep, text, waitFor, waitForScreen,
} from './lib.mjs';

// The pid of a running gateway replica, checked to be spotex-gateway (never a recycled pid).
function replicaPid(i) {
  const pid = Number(readFileSync(path.join(SPOTEX_VAR, `run/gateway-${i}.pid`), 'utf8').trim());
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  assert.match(cmdline.split('\0')[0], /spotex-gateway$/, `pid ${pid} is gateway-${i}`);
  return pid;
}

// The replica (1-based) HAProxy sends the page's market stream to: the one session of the
// backend that routes by stream names (the bots use REST only).
function marketStreamReplica() {
  const r = spawnSync('socat', ['-', `UNIX-CONNECT:${path.join(SPOTEX_VAR, 'run/haproxy.sock')}`],
    { input: 'show sess\n', encoding: 'utf8', timeout: 5000 });
  assert.equal(r.status, 0, `socat: ${r.stderr}`);
  const found = new Set([...r.stdout.matchAll(/ be=gateways_by_key srv=gateway-(\d+)/g)]
    .map((m) => m[1]));
  assert.equal(found.size, 1, `the market stream on one replica at the edge:\n${r.stdout}`);
  return Number([...found][0]);
}

function stackUp() {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(REPO_ROOT, 'scripts/stack.sh'), ['up'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`stack.sh up: ${code}\n${out}`))));
  });
}

describe('recovery', { concurrency: false }, () => {
  let browser;
  let page;
  let watch;

  let userId;
  // Chromium's console errors while replicas are down, allowed only during an outage: failed
  // WebSocket handshakes, and HAProxy's 502/503/504 while no replica is up.
  const outageRule = () => watch.allow('a gateway is down', ({ kind, text: t }) =>
    kind === 'console' &&
    (/^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/[^']*' failed/.test(t) ||
      /Failed to load resource: the server responded with a status of 50[234]/.test(t)));

  before(async () => {
    browser = await launch();
    ({ page, watch } = await newPage(browser));
    const user = demoUsers()[0];
    await page.goto('/#/login');
    await page.getByTestId('auth-email').fill(user.email);
    await page.getByTestId('auth-password').fill(user.password);
    await page.getByTestId('auth-submit').click();
    await waitFor(async () => (await text(page, 'user-email')) === user.email, 'signed in');
    await noteSessionCookie(page);
    ({ userId } = await pageApi(page, 'GET', '/api/v1/me'));
    await waitForScreen(page);
    await page.getByTestId('tab-balances').click();
    await waitFor(() => shownBalance(page, 'USDT'), 'the USDT balance');
    await page.evaluate(() => { globalThis.__spotexNoReload = 'same document'; });
    await watch.assertClean('the start');
  });
  after(async () => {
    await browser?.close();
  });

  test('kill the replica of the page\'s market stream: it fails over to the other, resynced', async () => {
    const book = page.getByTestId('orderbook');
    const victim = marketStreamReplica();
    const u0 = BigInt(await book.getAttribute('data-update-id'));
    const outage = outageRule();
    await page.evaluate(() => { globalThis.__spotexLinkStates = []; });
    process.kill(replicaPid(victim), 'SIGKILL');
    await waitFor(async () => (await page.evaluate(() => globalThis.__spotexLinkStates))
      .includes('reconnecting'), 'the link indicator to show reconnecting', 20_000, 100);
    await waitFor(async () =>
      (await page.getByTestId('link-status').getAttribute('data-state')) === 'live' &&
      (await book.getAttribute('data-state')) === 'synced',
    'live and synced on the other replica', 60_000);
    await waitFor(async () => BigInt(await book.getAttribute('data-update-id')) > u0,
      'a book update through the other replica', 30_000);
    assert.equal(marketStreamReplica(), 3 - victim, 'the market stream moved to the other replica');
    await stackUp();
    outage.active = false;
    assert.equal(await page.evaluate(() => globalThis.__spotexNoReload), 'same document');
    await watch.assertClean('the fail-over');
  });

  test('kill and restart both gateways: reconnecting, then live with a resynced book', async () => {
    const book = page.getByTestId('orderbook');
    const u0 = BigInt(await book.getAttribute('data-update-id'));

    const outage = outageRule();
    await page.evaluate(() => { globalThis.__spotexLinkStates = []; });
    for (const i of [1, 2]) process.kill(replicaPid(i), 'SIGKILL');
    await waitFor(async () => ['reconnecting', 'stale'].includes(
      await page.getByTestId('link-status').getAttribute('data-state')),
    'the link indicator to leave live', 20_000, 100);
    // Down for a while (more than one reconnect attempt), while the market moves on nowhere.
    await sleep(2000);
    assert.equal(await page.getByTestId('link-status').getAttribute('data-state'), 'reconnecting');

    await stackUp();
    await waitFor(async () =>
      (await page.getByTestId('link-status').getAttribute('data-state')) === 'live' &&
      (await book.getAttribute('data-state')) === 'synced',
    'live and synced after the restart', 60_000);
    const states = await page.evaluate(() => globalThis.__spotexLinkStates);
    assert.ok(states.includes('reconnecting'), `link states seen: ${states.join(' ')}`);
    assert.equal(states[states.length - 1], 'live');
    // The book follows the market again: update ids past the ones before the kill.
    await waitFor(async () => BigInt(await book.getAttribute('data-update-id')) > u0,
      'a book update after the restart', 30_000);
    outage.active = false;

    // The user stream is back: a deposit now shows without a reload.
    const before = (await shownBalance(page, 'USDT')).free;
    await deposit(userId, 'USDT', '1.5');
    await waitFor(async () => (await shownBalance(page, 'USDT'))?.free === before + dec('1.5'),
      'the deposit in Balances after the restart');
    assert.equal(await page.evaluate(() => globalThis.__spotexNoReload), 'same document');
    console.log(`allowed during the outage (${outage.seen.length}): ` +
      `${[...new Set(outage.seen.map((s) => s.replace(/\d{4,}/g, 'N')))].join(' | ')}`);
    await watch.assertClean('the recovery');
  });
});
