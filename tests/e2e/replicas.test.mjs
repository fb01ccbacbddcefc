// Two gateway replicas on one stack: a second spotex-gateway process is started here with the
// flags of scripts/stack.sh start_gateway (same NATS, PostgreSQL, Redis and secrets; its own
// free port; no demo users) and checked against the first for what they must share through
// PostgreSQL and Redis: API keys and sessions, the replay cache, request weight per client IP,
// the 429 -1003 refusal and the 418 ban (BINANCE_API.md §3, docs/rate-limits.md); and a
// listenKey deleted or a session logged out through one replica ends its user streams on the
// other at once (docs/user-data-streams.md), not at the other's periodic check, which the second
// replica here runs only every 10 minutes so that it cannot stand in for the message.
//
// Rate limits are per client IP and every other test sends from 127.0.0.1, so the weight and
// ban traffic here comes from other loopback source addresses (random 127.x.y.z): the other
// tests are neither throttled nor banned. The second gateway is stopped by its PID in
// `after` (also when a test fails) and on process exit.
//
// Run through run.sh: it exports SPOTEX_VAR, SPOTEX_BIN_DIR and the SPOTEX_*_PORT of the stack.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import {
  BASE_URL, SIGNED, USERS, assertError, clientId, createUser, rawRequest, signedRequest, within,
} from './lib.mjs';
import { closeSockets, openSocket, rawSocket } from './wslib.mjs';

const env = process.env;
const NEEDED = ['SPOTEX_VAR', 'SPOTEX_BIN_DIR', 'SPOTEX_NATS_PORT', 'SPOTEX_PG_PORT',
  'SPOTEX_REDIS_PORT'];
const missing = NEEDED.filter((k) => !env[k]);
const SKIP = SIGNED || (missing.length ? `no ${missing.join(', ')} (run with run.sh)` : false);

const SECRETS = env.SPOTEX_SECRETS_DIR ?? `${env.SPOTEX_VAR}/secrets`;
const LIMIT = 6000; // REQUEST_WEIGHT per minute, the gateway's default (stack.sh passes none)

// Starts the second replica on port 0 (the kernel picks a free one) and resolves
// {child, baseUrl} once its log says where it listens and /health answers 200.
async function startReplica(logPath) {
  const log = openSync(logPath, 'a');
  const offset = fstatSync(log).size; // only this start's lines count
  const args = ['--listen', '127.0.0.1', '--port', '0',
    '--nats-url', `nats://127.0.0.1:${env.SPOTEX_NATS_PORT}`, '--nats-user', 'spotex',
    '--nats-password-file', `${SECRETS}/nats-password`,
    '--pg-host', '127.0.0.1', '--pg-port', env.SPOTEX_PG_PORT, '--pg-user', 'spotex',
    '--pg-dbname', 'spotex', '--pg-password-file', `${SECRETS}/pg-password`,
    '--redis-host', '127.0.0.1', '--redis-port', env.SPOTEX_REDIS_PORT,
    '--redis-password-file', `${SECRETS}/redis-password`, '--secrets-dir', SECRETS,
    '--user-stream-check-ms', '600000'];
  const child = spawn(`${env.SPOTEX_BIN_DIR}/spotex-gateway`, args,
    { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = `exited (${code ?? signal})`;
  });
  const deadline = Date.now() + 30000;
  let baseUrl = null;
  while (Date.now() < deadline && !exited) {
    if (!baseUrl) {
      const text = readFileSync(logPath).subarray(offset).toString('utf8');
      const m = /"listening on (http:\/\/127\.0\.0\.1:\d+)"/.exec(text);
      if (m) baseUrl = m[1];
    }
    if (baseUrl) {
      try {
        const res = await rawRequest({ baseUrl, path: '/health', timeoutMs: 1000 });
        if (res.status === 200) return { child, baseUrl };
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopReplica(child);
  throw new Error(`second gateway not healthy: ${exited ?? 'timeout'}; log ${logPath}:\n` +
    readFileSync(logPath, 'utf8').slice(-2000));
}

// SIGTERM by PID, SIGKILL if it is still there after 5 s.
async function stopReplica(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

// A loopback address of its own per run (127.0.0.0/8 is all local on Linux), so a run against
// a stack that already runs is not refused by an earlier run's ban.
const randomLoopback = () => `127.${1 + Math.floor(Math.random() * 254)}.` +
  `${Math.floor(Math.random() * 256)}.${2 + Math.floor(Math.random() * 253)}`;

const weightOf = (res) => Number(res.headers['x-mbx-used-weight-1m']);

describe('two gateway replicas sharing PostgreSQL and Redis', { skip: SKIP }, () => {
  let replica = null;
  let r1;
  let r2;
  const onExit = () => replica?.child.kill('SIGKILL');

  before(async () => {
    mkdirSync(`${env.SPOTEX_VAR}/log`, { recursive: true });
    replica = await startReplica(`${env.SPOTEX_VAR}/log/gateway-replica2.log`);
    process.once('exit', onExit);
    r1 = BASE_URL;
    r2 = replica.baseUrl;
    assert.notEqual(r1, r2);
  });

  after(async () => {
    closeSockets(); // whatever a failed test left open
    await stopReplica(replica?.child);
    process.removeListener('exit', onExit);
  });

  test('an API key and a session created through replica 1 work on replica 2', async () => {
    const u = await createUser('rep-key', {}, { baseUrl: r1 });
    const acc = await rawRequest({ ...signedRequest(u, 'GET', '/api/v3/account'), baseUrl: r2 });
    assert.equal(acc.status, 200, acc.text);
    assert.equal(acc.json.accountType, 'SPOT');
    const me = await rawRequest({ baseUrl: r2, path: '/api/v1/me',
      headers: { Authorization: `Bearer ${u.token}` } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.userId, u.userId);
    // An order placed through one replica is seen and cancelled through the other.
    const a = USERS[0];
    const placed = await rawRequest({ ...signedRequest(a, 'POST', '/api/v3/order', {
      symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001',
      price: '40000', newClientOrderId: clientId('rep'), newOrderRespType: 'ACK' }), baseUrl: r1 });
    assert.equal(placed.status, 200, placed.text);
    const open = await rawRequest({ ...signedRequest(a, 'GET', '/api/v3/openOrders',
      { symbol: 'BTCUSDT' }), baseUrl: r2 });
    assert.ok(open.json.some((o) => o.orderId === placed.json.orderId), open.text);
    const cancelled = await rawRequest({ ...signedRequest(a, 'DELETE', '/api/v3/order',
      { symbol: 'BTCUSDT', orderId: placed.json.orderId }), baseUrl: r2 });
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json.status, 'CANCELED');
  });

  test('a signed request replayed on the other replica is -1022', async () => {
    const u = await createUser('rep-replay', {}, { baseUrl: r1 });
    const req = signedRequest(u, 'POST', '/api/v3/order/test', { symbol: 'BTCUSDT', side: 'BUY',
      type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '40000' });
    const first = await rawRequest({ ...req, baseUrl: r1 });
    assert.equal(first.status, 200, first.text);
    assertError(await rawRequest({ ...req, baseUrl: r2 }), 400, -1022,
      'Signature for this request is not valid.');
    // And the other way round, ccxt's placement.
    const form = signedRequest(u, 'POST', '/api/v3/order/test', { symbol: 'ETHUSDT',
      side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '4000' },
    { placement: 'body' });
    assert.equal((await rawRequest({ ...form, baseUrl: r2 })).status, 200);
    assertError(await rawRequest({ ...form, baseUrl: r1 }), 400, -1022);
  });

  test('a listenKey deleted and a session ended on one replica end their streams on the other',
    async () => {
      const u = await createUser('rep-end', {}, { baseUrl: r1 });
      const ws2 = r2.replace(/^http/, 'ws');
      const created = await rawRequest({ baseUrl: r1, method: 'POST',
        path: '/api/v3/userDataStream', headers: { 'X-MBX-APIKEY': u.apiKey } });
      assert.equal(created.status, 200, created.text);
      const key = created.json.listenKey;
      const listener = await openSocket(`${ws2}/ws/${key}`);
      // The web screen's stream: the session cookie, and an Origin that is replica 2's own.
      const browser = await openSocket(`${ws2}/api/v1/web/userStream`,
        { headers: { Cookie: `spotex_session=${u.token}` }, origin: r2 });

      const del = await rawRequest({ baseUrl: r1, method: 'DELETE',
        path: `/api/v3/userDataStream?listenKey=${key}`, headers: { 'X-MBX-APIKEY': u.apiKey } });
      assert.equal(del.status, 200, del.text);
      const expired = await listener.next(5000);
      assert.equal(expired.e, 'listenKeyExpired');
      assert.equal(expired.listenKey, key);
      assert.deepEqual(await within(listener.closed, 5000, 'the listenKey stream closing'),
        { code: 1000, reason: 'listenKey expired' });
      assert.equal(browser.messages.length, 0); // the session's stream is another matter

      const out = await rawRequest({ baseUrl: r1, method: 'DELETE', path: '/api/v1/session',
        headers: { Authorization: `Bearer ${u.token}` } });
      assert.equal(out.status, 200, out.text);
      assert.deepEqual(await within(browser.closed, 5000, 'the session stream closing'),
        { code: 1000, reason: 'session ended' });
      // And the ended session cannot open another.
      const again = rawSocket(`${ws2}/api/v1/web/userStream`,
        { headers: { Cookie: `spotex_session=${u.token}` }, origin: r2 });
      await assert.rejects(within(again.opened, 5000, 'the refusal'), /HTTP 401/);
    });

  test('request weight of one client IP adds up across replicas', async () => {
    const from = { localAddress: randomLoopback() };
    // Minute windows are aligned to the epoch: a step that crosses into the next window starts
    // from zero, so try again (at most a few times) until two steps fall into one window.
    let checked = false;
    for (let attempt = 0; attempt < 3 && !checked; attempt++) {
      const w0 = weightOf(await rawRequest({ ...from, baseUrl: r1, path: '/api/v3/ping' }));
      const w1 = weightOf(await rawRequest({ ...from, baseUrl: r2,
        path: '/api/v3/exchangeInfo?symbol=BTCUSDT' }));
      const w2 = weightOf(await rawRequest({ ...from, baseUrl: r1,
        path: '/api/v3/depth?symbol=BTCUSDT&limit=5' }));
      const w3 = weightOf(await rawRequest({ ...from, baseUrl: r2, path: '/api/v3/time' }));
      for (const w of [w0, w1, w2, w3]) assert.ok(Number.isInteger(w) && w > 0, `weight ${w}`);
      if (w1 > w0 && w2 > w1 && w3 > w2) {
        assert.deepEqual([w1 - w0, w2 - w1, w3 - w2], [20, 5, 1], `weights ${[w0, w1, w2, w3]}`);
        checked = true;
      }
    }
    assert.ok(checked, 'three attempts each crossed a minute boundary');
    // 127.0.0.1 has its own count.
    const own = await rawRequest({ baseUrl: r2, path: '/api/v3/ping' });
    assert.equal(own.status, 200);
  });

  test('over 6000 weight per minute: 429 -1003 with Retry-After from either replica, then 418',
    async () => {
      const from = { localAddress: randomLoopback() };
      // depth with limit 5000 weighs 250: 24 of them use the minute's 6000. Alternate replicas.
      // After `refusals_before_ban` (20) refusals in one window the address is banned (418).
      const seen = { 429: new Set(), 418: new Set() };
      let first429 = null;
      let first418 = null;
      let allowedBefore = 0;
      for (let i = 0; i < 120 && !(first418 && seen[418].size === 2); i++) {
        const baseUrl = i % 2 ? r2 : r1;
        const res = await rawRequest({ ...from, baseUrl,
          path: '/api/v3/depth?symbol=BTCUSDT&limit=5000' });
        assert.ok(res.status < 500, `never a 5xx: ${res.status} ${res.text}`);
        if (res.status === 200) {
          assert.ok(!first418, 'no request passes during the ban');
          allowedBefore += 1;
          continue;
        }
        assert.ok([429, 418].includes(res.status), `${res.status} ${res.text}`);
        seen[res.status].add(baseUrl);
        if (res.status === 429) {
          assert.ok(!first418, 'a banned address gets 418, not 429');
          first429 ??= res;
          assertError(res, 429, -1003, `Too much request weight used; current limit is ${LIMIT} ` +
            'request weight per 1 MINUTE. Please use WebSocket Streams for live updates to ' +
            'avoid polling the API.');
          const retry = Number(res.headers['retry-after']);
          assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`);
          assert.ok(weightOf(res) > LIMIT, `used weight ${weightOf(res)} over the limit`);
        } else {
          first418 ??= res;
          assertError(res, 418, -1003,
            /^Way too much request weight used; IP banned until \d+\. Please use WebSocket Streams/);
          const until = Number(/until (\d+)\./.exec(res.json.msg)[1]);
          assert.ok(until > Date.now() && until <= Date.now() + 2 * 60000 + 5000, `until ${until}`);
          const retry = Number(res.headers['retry-after']);
          assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 120, `Retry-After ${retry}`);
        }
      }
      assert.ok(first429, 'no 429');
      assert.ok(allowedBefore >= 23, `${allowedBefore} requests of weight 250 passed before 429`);
      assert.equal(seen[429].size, 2, '429 from both replicas');
      assert.ok(first418, 'no 418 after the refusals');
      assert.equal(seen[418].size, 2, '418 from both replicas');
      // Cheap requests are refused too while the ban lasts, on both replicas.
      for (const baseUrl of [r1, r2]) {
        assertError(await rawRequest({ ...from, baseUrl, path: '/api/v3/ping' }), 418, -1003);
      }
      // Other addresses are not affected.
      for (const baseUrl of [r1, r2]) {
        assert.equal((await rawRequest({ baseUrl, path: '/api/v3/ping' })).status, 200);
        assert.equal((await rawRequest({ baseUrl, path: '/api/v3/ping',
          localAddress: randomLoopback() })).status, 200);
      }
    });
});
