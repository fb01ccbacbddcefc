// The edge (docs/edge.md): HAProxy on the public port in front of the stack's gateway replicas.
// Requests reach every replica (HAProxy's runtime API counts them per server) with a fresh
// X-Request-Id and the client's own address for the gateway's per-IP limits; the edge refuses
// oversized request lines, headers and bodies, methods and paths the API does not serve and
// malformed versions with 4xx itself; and a replica killed (SIGKILL) while clients place signed
// orders loses no order a client saw accepted, fails only requests that were in flight on it,
// is out of rotation within about a second, and is back in rotation once `stack.sh up` has
// restarted it. The stack is left as found: the replica runs again and the orders placed here
// are cancelled.
//
// Run through run.sh: it starts the stack with the edge (SPOTEX_EDGE=1, two replicas) and
// exports SPOTEX_VAR and the ports; without HAProxy's runtime socket the file is skipped.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  BASE_URL, SIGNED, adminToken, clientId, createUser, deposit, rawExchange, rawRequest,
  signedRequest,
} from './lib.mjs';

const env = process.env;
const RUN_DIR = env.SPOTEX_VAR ? `${env.SPOTEX_VAR}/run` : null;
const SOCKET = RUN_DIR ? `${RUN_DIR}/haproxy.sock` : null;
const SKIP = !SOCKET || !existsSync(SOCKET) ? 'no HAProxy runtime socket (SPOTEX_EDGE=0?)' : false;
const STACK = fileURLToPath(new URL('../../scripts/stack.sh', import.meta.url));
const BACKEND = 'gateways';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One command on HAProxy's runtime API (a unix socket; it answers and closes).
function haproxy(command) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const sock = net.connect({ path: SOCKET });
    sock.setTimeout(3000, () => sock.destroy(new Error(`runtime API: '${command}' timed out`)));
    sock.on('connect', () => sock.write(`${command}\n`));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

// Per-server rows of the gateways backend from `show stat`: {name: {status, requests}}, where
// requests is the server's cumulative HTTP request count (req_tot) or, if HAProxy leaves that
// empty, its cumulative sessions (stot).
async function serverStats() {
  const lines = (await haproxy('show stat')).split('\n').filter((l) => l.length);
  const header = lines[0].replace(/^# /, '').split(',');
  const col = (name) => header.indexOf(name);
  const out = {};
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[col('pxname')] !== BACKEND || ['FRONTEND', 'BACKEND'].includes(f[col('svname')])) {
      continue;
    }
    const reqTot = f[col('req_tot')];
    out[f[col('svname')]] = { status: f[col('status')],
      requests: Number(reqTot !== '' && reqTot !== undefined ? reqTot : f[col('stot')]) };
  }
  return out;
}

function stackUp() {
  return new Promise((resolve, reject) => {
    execFile(STACK, ['up'], { env, timeout: 90000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`stack.sh up: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const pidOf = (name) => Number(readFileSync(`${RUN_DIR}/${name}.pid`, 'utf8').trim());
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Polls `show stat` until server `name` has `status` (UP/DOWN); resolves the milliseconds taken.
async function waitStatus(name, status, ms) {
  const start = Date.now();
  for (;;) {
    const s = (await serverStats())[name];
    if (s && s.status.startsWith(status)) return Date.now() - start;
    if (Date.now() - start > ms) {
      throw new Error(`${name} not ${status} within ${ms} ms: ${JSON.stringify(s)}`);
    }
    await sleep(20);
  }
}

const isEdgeRefusal = (res) => res.headers['x-spotex-edge'] === 'refused';

describe('the edge: HAProxy in front of the gateway replicas', { skip: SKIP }, () => {
  let servers;
  before(async () => {
    servers = Object.keys(await serverStats());
    assert.ok(servers.length >= 2, `replicas behind HAProxy: ${servers}`);
  });

  test('requests reach every replica, each with a fresh X-Request-Id', async () => {
    const before = await serverStats();
    const ids = new Set();
    for (let i = 0; i < 8 * servers.length; i++) {
      // A client's own request id is replaced by the edge's.
      const res = await rawRequest({ path: '/api/v3/ping', headers: { 'X-Request-Id': 'mine' } });
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers['x-request-id'] ?? '', UUID);
      ids.add(res.headers['x-request-id']);
    }
    assert.equal(ids.size, 8 * servers.length, 'request ids are unique');
    const after = await serverStats();
    for (const name of servers) {
      assert.equal(after[name].status, 'UP', `${name}: ${after[name].status}`);
      assert.ok(after[name].requests > before[name].requests,
        `${name} served none of the requests: ${before[name].requests} -> ${after[name].requests}`);
    }
    // The request id is in HAProxy's log line of that request.
    const last = [...ids].at(-1);
    const log = `${env.SPOTEX_VAR}/log/haproxy.log`;
    await sleep(100);
    assert.ok(readFileSync(log, 'utf8').includes(`id=${last} GET /api/v3/ping`),
      `request id ${last} not in ${log}`);
  });

  test('the gateways see the client address, not the edge (X-Forwarded-For)', async () => {
    // Request weight is counted per client IP (docs/rate-limits.md). From a loopback address of
    // its own, a forged X-Forwarded-For is dropped by the edge: both requests count for the
    // sender. (A minute window may end between the two: try again.)
    const addr = () => `127.${1 + Math.floor(Math.random() * 254)}.` +
      `${Math.floor(Math.random() * 256)}.${2 + Math.floor(Math.random() * 253)}`;
    let checked = null;
    for (let attempt = 0; attempt < 3 && !checked; attempt++) {
      const from = { localAddress: addr() };
      const w1 = Number((await rawRequest({ ...from, path: '/api/v3/ping',
        headers: { 'X-Forwarded-For': addr() } })).headers['x-mbx-used-weight-1m']);
      const w2 = Number((await rawRequest({ ...from, path: '/api/v3/ping' }))
        .headers['x-mbx-used-weight-1m']);
      if (w2 > w1) {
        assert.deepEqual([w1, w2], [1, 2], 'a fresh address starts from zero weight');
        checked = from.localAddress;
      }
    }
    assert.ok(checked, 'three attempts each crossed a minute boundary');
    // The edge tracks the same address in its per-IP table.
    const table = await haproxy('show table api');
    const row = table.split('\n').find((l) => l.includes(` key=${checked} `));
    assert.match(row ?? '', /conn_cur=\d+ http_req_rate\(10000\)=2$/, `${checked} in:\n${table}`);
  });

  test('oversized, unserved and malformed requests get 4xx from the edge', async () => {
    const check = async (opts, status, code, what) => {
      const res = await rawRequest(opts);
      assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.ok(isEdgeRefusal(res), `${what}: answered by the edge`);
      assert.equal(res.json?.code, code, `${what}: ${res.text.slice(0, 200)}`);
    };
    await check({ path: `/api/v3/ping?pad=${'a'.repeat(9000)}` }, 414, -1000, 'request line');
    await check({ path: '/api/v3/ping', headers: { 'X-Big': 'a'.repeat(9000) } }, 431, -1000,
      'header block');
    await check({ method: 'POST', path: '/api/v3/order', headers:
      { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a'.repeat(70 * 1024) }, 413,
    -1000, 'body');
    for (const method of ['PATCH', 'TRACE', 'OPTIONS', 'HEAD']) {
      const res = await rawRequest({ method, path: '/api/v3/ping' });
      assert.equal(res.status, 405, `${method}: ${res.status}`);
      assert.ok(isEdgeRefusal(res), `${method}: answered by the edge`);
    }
    // `/`, `/index.html`, `/assets/*` and `/favicon.*` are the web screen's: passed to the
    // gateways (docs/edge.md); other paths outside the APIs stay refused here.
    for (const path of ['/robots.txt', '/admin', '/api/v2/ping', '/sapi/v1/system/status',
      '/health/x', '/metrics', '/ws-api/v1', '/assets', '/favicon']) {
      await check({ path }, 404, -1020, path);
    }
    // The admin endpoints are served by the replicas only, even with the right token.
    const token = adminToken();
    assert.ok(token, 'admin token: set SPOTEX_VAR (run.sh does)');
    for (const adminPath of ['/api/v1/admin/deposit', '/api/v1/admin/freeze', '/api/v1/admin']) {
      await check({ method: 'POST', path: adminPath, headers: {
        'Content-Type': 'application/x-www-form-urlencoded', 'X-Spotex-Admin-Token': token },
      body: 'userId=1&asset=BTC&amount=1' }, 404, -1020, adminPath);
    }
    // Beyond the parser's buffer (15 KiB of headers): HAProxy's own 400, connection closed.
    const big = await rawExchange(`GET /api/v3/ping HTTP/1.1\r\nHost: a\r\nX-Big: ${
      'b'.repeat(20000)}\r\n\r\n`);
    assert.match(big.text, /^HTTP\/1\.1 400 /, big.text.slice(0, 100));
    assert.ok(big.closed);
    // What HAProxy would forward but the gateway calls malformed is answered at the edge.
    for (const raw of ['GET /api/v3/ping HTTP/9.9\r\nHost: a\r\n\r\n',
      'GET /api/v3/ping HTTP/1.1\r\nHost: a\r\nX-A: \x01\r\n\r\n']) {
      const r = await rawExchange(Buffer.from(raw, 'latin1'));
      assert.match(r.text, /^HTTP\/1\.1 400 /, `${JSON.stringify(raw)}: ${r.text.slice(0, 100)}`);
      assert.match(r.text, /x-spotex-edge: refused/i);
      assert.ok(r.text.endsWith('{"code":-1000,"msg":"Malformed HTTP request."}'));
      assert.ok(r.closed);
    }
    // Served paths still pass, answered by a replica.
    const ok = await rawRequest({ path: '/api/v3/time' });
    assert.equal(ok.status, 200);
    assert.ok(!isEdgeRefusal(ok));
  });

  test('a replica killed under signed order load: no accepted order lost, out of rotation ' +
    'within a second, back after stack.sh up', { skip: SIGNED, timeout: 60000 }, async () => {
    const victim = servers.at(-1); // gateway-2: not the replica that writes the demo users
    const victimPid = pidOf(victim);
    assert.ok(alive(victimPid), `${victim} (pid ${victimPid}) runs`);
    // Fresh funded users, one client each: the 100 orders per 10 s of an account are not
    // reached at one order per ~60 ms for 3.5 s.
    const users = [];
    for (let i = 0; i < 4; i++) {
      const u = await createUser('edge');
      await deposit(u.userId, 'USDT', '100000');
      users.push(u);
    }
    const results = []; // {user, cid, sentAt, doneAt, ok, status, text}
    let stop = false;
    const client = async (u) => {
      while (!stop) {
        const cid = clientId('edge');
        const sentAt = Date.now();
        let r;
        try {
          const res = await rawRequest({ ...signedRequest(u, 'POST', '/api/v3/order', {
            symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001',
            price: '40000', newClientOrderId: cid, newOrderRespType: 'ACK' }), timeoutMs: 15000 });
          r = { ok: res.status === 200, status: res.status, text: res.text.slice(0, 200) };
        } catch (e) {
          r = { ok: false, status: 0, text: String(e) };
        }
        results.push({ user: u, cid, sentAt, doneAt: Date.now(), ...r });
        await sleep(60);
      }
    };
    const clients = users.map(client);
    await sleep(1000);
    const killedAt = Date.now();
    process.kill(victimPid, 'SIGKILL');
    const downMs = await waitStatus(victim, 'DOWN', 5000);
    await sleep(2500);
    stop = true;
    await Promise.all(clients);

    // Out of rotation within about a second (2 failed checks 200 ms apart, or the first refused
    // connection); the measured time is in the message.
    assert.ok(downMs <= 1500, `${victim} marked DOWN after ${downMs} ms`);
    const failed = results.filter((r) => !r.ok);
    const accepted = results.filter((r) => r.ok);
    assert.ok(accepted.length >= 20, `only ${accepted.length} orders accepted`);
    // Failures: only requests in flight when the replica died (sent before the kill, done
    // after it), at most one per client.
    for (const f of failed) {
      assert.ok(f.sentAt <= killedAt + 50 && f.doneAt >= killedAt,
        `a request not in flight at the kill failed: ${JSON.stringify({ ...f, user: undefined })}`);
      assert.ok([0, 502].includes(f.status), `in-flight failure ${f.status} ${f.text}`);
    }
    assert.ok(failed.length <= users.length, `${failed.length} requests failed`);
    // After the replica is out, everything succeeds.
    const afterDown = results.filter((r) => r.sentAt > killedAt + downMs);
    assert.ok(afterDown.length >= 10 && afterDown.every((r) => r.ok),
      `${afterDown.filter((r) => !r.ok).length} of ${afterDown.length} failed after DOWN`);
    // Every order a client saw accepted exists.
    for (const r of accepted) {
      const q = await rawRequest(signedRequest(r.user, 'GET', '/api/v3/order',
        { symbol: 'BTCUSDT', origClientOrderId: r.cid }));
      assert.equal(q.status, 200, `accepted order ${r.cid} not found: ${q.text}`);
      assert.equal(q.json.clientOrderId, r.cid);
    }
    console.log(`edge: ${accepted.length} accepted, ${failed.length} failed in flight, ` +
      `${victim} DOWN after ${downMs} ms`);

    // Restart: `stack.sh up` starts what is missing, the edge puts it back in rotation.
    await stackUp();
    const newPid = pidOf(victim);
    assert.ok(newPid !== victimPid && alive(newPid), `${victim} restarted`);
    await waitStatus(victim, 'UP', 5000);
    const before = (await serverStats())[victim].requests;
    for (let i = 0; i < 4 * servers.length; i++) {
      assert.equal((await rawRequest({ path: '/api/v3/ping' })).status, 200);
    }
    assert.ok((await serverStats())[victim].requests > before, `${victim} back in rotation`);

    for (const u of users) {
      const res = await rawRequest(signedRequest(u, 'DELETE', '/api/v3/openOrders',
        { symbol: 'BTCUSDT' }));
      assert.ok([200, 400].includes(res.status), res.text); // 400 -2011: none left open
    }
  });

  // Whatever happened above, the replicas run again for the files after this one.
  after(async () => {
    if (SKIP) return;
    const missing = servers.filter((name) => {
      try {
        return !alive(pidOf(name));
      } catch {
        return true;
      }
    });
    if (missing.length) await stackUp();
  });
});
