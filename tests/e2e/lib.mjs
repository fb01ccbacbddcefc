// Shared pieces of the end-to-end tests: where the server is, who the demo users are, the two
// clients configured exactly as docs (BINANCE_API.md §11.1) say, and exact decimal arithmetic.
//
// Environment (set by run.sh):
//   SPOTEX_BASE_URL  http://127.0.0.1:<gateway port> (required)
//   SPOTEX_USERS     the demo users file: [{email, password, apiKey, apiSecret}, x2], both users
//                    funded with BTC, ETH, USDT and BNB. Unset: every signed test is skipped.

import { appendFileSync, readFileSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { Spot } from '@binance/spot';

export const BASE_URL = process.env.SPOTEX_BASE_URL;
if (!BASE_URL || !/^http:\/\/127\.0\.0\.1:\d+$/.test(BASE_URL)) {
  throw new Error(`SPOTEX_BASE_URL must be http://127.0.0.1:<port>, got '${BASE_URL}' ` +
    '(run the tests with tests/e2e/run.sh)');
}
// The same server's WebSocket origin (ws://127.0.0.1:<port>).
export const WS_URL = BASE_URL.replace(/^http/, 'ws');

// The two demo users, or null when the file is not given.
export const USERS = (() => {
  const path = process.env.SPOTEX_USERS;
  if (!path) return null;
  const users = JSON.parse(readFileSync(path, 'utf8'));
  assert.ok(Array.isArray(users) && users.length >= 2, `${path}: want an array of two users`);
  for (const u of users) {
    for (const k of ['email', 'apiKey', 'apiSecret']) {
      assert.equal(typeof u[k], 'string', `${path}: user without ${k}`);
    }
  }
  return users;
})();

// `skip` option of the signed tests: false when they can run, else the reason.
export const SIGNED = USERS ? false : 'no demo users file (SPOTEX_USERS): signed endpoints';

// Prices the tests trade at, per symbol; every test stays within PERCENT_PRICE_BY_SIDE of them
// (x0.2 .. x5), so the order in which tests and files run does not matter.
export const REF_PRICE = { BTCUSDT: '50000', ETHUSDT: '3000', BNBUSDT: '600', ETHBTC: '0.06' };

// The markets of etc/markets.toml, as exchangeInfo must show them.
export const MARKETS = {
  BTCUSDT: { base: 'BTC', quote: 'USDT', tickSize: '0.01000000', stepSize: '0.00001000',
    minQty: '0.00001000', maxQty: '9000.00000000', minPrice: '0.01000000',
    maxPrice: '1000000.00000000', minNotional: '5.00000000' },
  ETHUSDT: { base: 'ETH', quote: 'USDT', tickSize: '0.01000000', stepSize: '0.00010000',
    minQty: '0.00010000', maxQty: '9000.00000000', minPrice: '0.01000000',
    maxPrice: '1000000.00000000', minNotional: '5.00000000' },
  BNBUSDT: { base: 'BNB', quote: 'USDT', tickSize: '0.01000000', stepSize: '0.00100000',
    minQty: '0.00100000', maxQty: '900000.00000000', minPrice: '0.01000000',
    maxPrice: '100000.00000000', minNotional: '5.00000000' },
  ETHBTC: { base: 'ETH', quote: 'BTC', tickSize: '0.00001000', stepSize: '0.00100000',
    minQty: '0.00100000', maxQty: '100000.00000000', minPrice: '0.00001000',
    maxPrice: '1000.00000000', minNotional: '0.00010000' },
};

// Exact decimals (BigInt units of 1e-8): tests/e2e/decimal.mjs.
export { dec, fmt, mul, sum } from './decimal.mjs';
import { dec } from './decimal.mjs';

// Balances {ASSET: free + locked} from a raw /api/v3/account body.
export function totals(account) {
  assert.ok(Array.isArray(account.balances), 'account.balances');
  const out = {};
  for (const b of account.balances) out[b.asset] = dec(b.free) + dec(b.locked);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ids.

let counter = 0;
const runTag = `${Date.now().toString(36)}${process.pid.toString(36)}`;

// A client order id unique to this run, matching ^[\.A-Z\:/a-z0-9_-]{1,36}$.
export function clientId(prefix) {
  const id = `${prefix}-${runTag}-${(counter++).toString(36)}`;
  assert.ok(/^[.A-Z:/a-z0-9_-]{1,36}$/.test(id), `client id too long: ${id}`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Clients.

// ccxt's binance class, REST only, with every Binance URL pointed at the local server (so
// nothing can leak to binance.com) and the spot-only options of BINANCE_API.md §11.1.
export function makeCcxt(user = null) {
  const defaults = new ccxt.binance().urls.api;
  const api = {};
  for (const [k, v] of Object.entries(defaults)) {
    if (typeof v === 'string') api[k] = v.replace(/^https:\/\/[^/]+/, BASE_URL);
  }
  Object.assign(api, {
    public: `${BASE_URL}/api/v3`,
    private: `${BASE_URL}/api/v3`,
    v1: `${BASE_URL}/api/v1`,
  });
  return new ccxt.binance({
    ...(user ? { apiKey: user.apiKey, secret: user.apiSecret } : {}),
    urls: { api },
    options: {
      defaultType: 'spot',
      fetchMarkets: { types: ['spot'] },
      fetchCurrencies: false,
      fetchMargins: false,
    },
  });
}

// ccxt pro's binance class on the local server: REST as makeCcxt, market streams on /ws and the
// WebSocket API (user data: watchOrders, watchMyTrades, watchBalance) on /ws-api/v3. Call
// `await ex.loadHttpProxyAgent()` before the first watch* (ws:// URLs, BINANCE_API.md §12.2).
export function makePro(user = null) {
  return new ccxt.pro.binance({
    ...(user ? { apiKey: user.apiKey, secret: user.apiSecret } : {}),
    urls: { api: { public: `${BASE_URL}/api/v3`, private: `${BASE_URL}/api/v3`,
      v1: `${BASE_URL}/api/v1`,
      ws: { spot: `${WS_URL}/ws`, 'ws-api': { spot: `${WS_URL}/ws-api/v3` } } } },
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false,
      fetchMargins: false },
  });
}

// @binance/spot's Spot client on the local server. No retries: a test must see the first answer.
export function makeSpot(user = null, secretOverride = undefined) {
  return new Spot({
    configurationRestAPI: {
      apiKey: user?.apiKey ?? '',
      apiSecret: secretOverride ?? user?.apiSecret ?? '',
      basePath: BASE_URL,
      timeout: 5000,
      retries: 0,
    },
  });
}

// Asserts that `promise` rejects with an error whose .code is `code` (Binance error code) and,
// if given, whose class is `cls`. Returns the error.
export async function rejectsWithCode(promise, code, cls = undefined) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected error ${code}, but the call succeeded`);
  if (cls) assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor.name}: ${err.message}`);
  assert.equal(err.code, code, `error code (${err.constructor.name}: ${err.message})`);
  return err;
}

// Polls `fn` until it returns a truthy value or `ms` pass; returns the last value. For reads
// that follow a write through the event stream (market data after a trade).
export async function eventually(fn, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// Bounded waits. ccxt pro resolves a watch* promise only for a message that arrives while
// someone waits (Client.resolve drops it otherwise), so a test never loops on `await watchX()`
// for one message: it bounds the first wait with within() and then polls ccxt's caches
// (orderbooks, trades, orders, myTrades, balance) with until().

// `promise`, or a rejection naming `what` after `ms`.
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls `probe` (sync or async) every 50 ms until it returns something other than undefined;
// fails after `ms` with describe()'s text.
export async function until(probe, ms, describe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP, for the tests that must control every byte (signature placement, bad input, client
// address, a second gateway replica).

// Request weight is counted per client IP, and a whole run from 127.0.0.1 would pass the 6000
// per minute that one IP may use on a quiet machine. node --test runs each file in a process of
// its own, so raw requests leave from a loopback address of the file's own (127.0.0.0/8 is all
// local on Linux); the clients (ccxt, @binance/spot) keep 127.0.0.1.
export const PROCESS_ADDRESS = `127.${1 + Math.floor(Math.random() * 254)}.` +
  `${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 253)}`;

// One request on a fresh connection (no keep-alive, so no test shares a socket with another).
// `opts`: method ['GET'], path (with the query, sent as is), body (string or Buffer), headers,
// baseUrl [BASE_URL], localAddress (a loopback source address: rate limits are per client IP;
// by default this process's own, see PROCESS_ADDRESS), timeoutMs [5000]. Resolves
// {status, headers, text, json} (json: the parsed body, or null).
export function rawRequest(opts) {
  const url = new URL(opts.baseUrl ?? BASE_URL);
  const body = opts.body === undefined ? null : Buffer.from(opts.body);
  const headers = { ...(opts.headers ?? {}) };
  if (body !== null && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
    headers['Content-Length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: Number(url.port),
      method: opts.method ?? 'GET',
      path: opts.path,
      headers,
      agent: false,
      localAddress: opts.localAddress ?? PROCESS_ADDRESS,
      timeout: opts.timeoutMs ?? 5000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: the caller's assertion says so
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${opts.path}: timeout`)));
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

// Raw bytes on a fresh TCP connection; resolves everything the server sent until it closed
// the connection (`closed: true`) or `ms` passed (`closed: false`, the socket is then ended).
export function rawExchange(bytes, { baseUrl = BASE_URL, ms = 3000 } = {}) {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const chunks = [];
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, ms);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => {
      // A reset after the answer still counts as closed by the server.
      clearTimeout(timer);
      if (chunks.length) resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
  });
}

// HMAC-SHA256 hex digest of `payload` with an API secret (BINANCE_API.md §2).
export const hmacHex = (secret, payload) =>
  createHmac('sha256', secret).update(payload).digest('hex');

// "a=1&b=x%20y" from [[name, value], ...] or an object, values percent-encoded.
export function formEncode(params) {
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
}

// A signed request as a client would send it. `placement`:
//   'query'      everything in the query, signature last (GET/DELETE of both clients, and
//                @binance/spot's POST, which also sends an empty body with Content-Type
//                application/json)
//   'body'       ccxt's POST: everything in the form body, signature last, empty query
// `params` is a string (already encoded) or pairs/object; timestamp is appended unless the
// string/object has one or `timestamp: null` is passed. Returns the options for rawRequest.
export function signedRequest(user, method, path, params = {}, {
  placement = 'query', timestamp = Date.now(), secret = user.apiSecret, apiKey = user.apiKey,
  signature = undefined, headers = {}, ...rest
} = {}) {
  let payload = typeof params === 'string' ? params : formEncode(params);
  if (timestamp !== null && !/(^|&)timestamp=/.test(payload)) {
    payload += `${payload ? '&' : ''}timestamp=${timestamp}`;
  }
  const sig = signature === undefined ? hmacHex(secret, payload) : signature;
  const signed = sig === null ? payload : `${payload}&signature=${sig}`;
  const h = apiKey === null ? { ...headers } : { 'X-MBX-APIKEY': apiKey, ...headers };
  if (placement === 'body') {
    return { method, path, body: signed,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...h }, ...rest };
  }
  const out = { method, path: `${path}?${signed}`, headers: h, ...rest };
  if (method === 'POST' || method === 'PUT') {
    out.body = '';
    out.headers = { 'Content-Type': 'application/json', ...h };
  }
  return out;
}

// Asserts a Binance error answer: the HTTP status, {"code","msg"} with exactly these two keys,
// and the code; `msg` (string or RegExp) is checked when given. Returns the body.
export function assertError(res, status, code, msg = undefined) {
  const where = `${res.status} ${res.text.slice(0, 300)}`;
  assert.ok(res.json && typeof res.json === 'object', `JSON error body, got ${where}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['code', 'msg'], `error body keys: ${where}`);
  assert.equal(res.json.code, code, `error code: ${where}`);
  assert.equal(res.status, status, `HTTP status: ${where}`);
  if (typeof msg === 'string') assert.equal(res.json.msg, msg, `message: ${where}`);
  else if (msg) assert.match(res.json.msg, msg, `message: ${where}`);
  return res.json;
}

// The admin token of the stack ($SPOTEX_VAR/secrets/admin-token, first line), or null.
export function adminToken() {
  const dir = process.env.SPOTEX_SECRETS_DIR ??
    (process.env.SPOTEX_VAR ? `${process.env.SPOTEX_VAR}/secrets` : null);
  if (!dir) return null;
  try {
    return readFileSync(`${dir}/admin-token`, 'utf8').split('\n')[0].trim();
  } catch {
    return null;
  }
}

// Records secrets the tests create (passwords, API secrets, session tokens, listenKeys) in
// $SPOTEX_VAR/test-secrets.txt, one a line: after the tests run.sh fails if any of them is in the
// stack's logs (tests/e2e/check_secrets.sh, docs/logging.md). No-op without SPOTEX_VAR.
export function noteSecret(...secrets) {
  if (!process.env.SPOTEX_VAR) return;
  const lines = secrets.filter((s) => typeof s === 'string' && s !== '' && !/[\r\n]/.test(s));
  if (lines.length) appendFileSync(`${process.env.SPOTEX_VAR}/test-secrets.txt`, `${lines.join('\n')}\n`);
}

// A new user through /api/v1 with one HMAC key: {userId, email, apiKey, apiSecret, token}.
// `keyParams`: permissions ['READ,TRADE'], ipAllowList, ... `baseUrl` picks the replica.
export async function createUser(tag, keyParams = {}, { baseUrl = BASE_URL } = {}) {
  const email = `${tag}-${runTag}-${(counter++).toString(36)}@e2e.spotex.test`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const reg = await rawRequest({ baseUrl, method: 'POST', path: '/api/v1/users', headers: form,
    body: formEncode({ email, password }) });
  assert.equal(reg.status, 200, `register: ${reg.text}`);
  const login = await rawRequest({ baseUrl, method: 'POST', path: '/api/v1/session',
    headers: form, body: formEncode({ email, password }) });
  assert.equal(login.status, 200, `login: ${login.text}`);
  const { token } = login.json;
  noteSecret(password, token);
  const key = await rawRequest({ baseUrl, method: 'POST', path: '/api/v1/apiKeys',
    headers: { ...form, Authorization: `Bearer ${token}` },
    body: formEncode({ permissions: 'READ,TRADE', ...keyParams }) });
  assert.equal(key.status, 200, `apiKeys: ${key.text}`);
  noteSecret(key.json.secretKey);
  return { userId: reg.json.userId, email, token, apiKey: key.json.apiKey,
    apiSecret: key.json.secretKey };
}

// Credits `amount` of `asset` to a user through the admin endpoint, on replica 1 itself: the
// edge refuses the admin paths (docs/edge.md).
export async function deposit(userId, asset, amount,
  { baseUrl = process.env.SPOTEX_GATEWAY_DIRECT_URL ?? BASE_URL } = {}) {
  const token = adminToken();
  assert.ok(token, 'admin token: set SPOTEX_VAR (run.sh does)');
  const res = await rawRequest({ baseUrl, method: 'POST', path: '/api/v1/admin/deposit',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Spotex-Admin-Token': token },
    body: formEncode({ userId, asset, amount }) });
  assert.equal(res.status, 200, `deposit: ${res.text}`);
  return res.json;
}
