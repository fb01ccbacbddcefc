// Shared pieces of the end-to-end tests: where the server is, who the demo users are, the two
// clients configured exactly as docs (BINANCE_API.md §11.1) say, and exact decimal arithmetic.
//
// Environment (set by run.sh):
//   SPOTEX_BASE_URL  http://127.0.0.1:<gateway port> (required)
//   SPOTEX_USERS     the demo users file: [{email, password, apiKey, apiSecret}, x2], both users
//                    funded with BTC, ETH, USDT and BNB. Unset: every signed test is skipped.

import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { Spot } from '@binance/spot';

export const BASE_URL = process.env.SPOTEX_BASE_URL;
if (!BASE_URL || !/^http:\/\/127\.0\.0\.1:\d+$/.test(BASE_URL)) {
  throw new Error(`SPOTEX_BASE_URL must be http://127.0.0.1:<port>, got '${BASE_URL}' ` +
    '(run the tests with tests/e2e/run.sh)');
}

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

// ---------------------------------------------------------------------------------------------
// Exact decimals: every amount the server reports has at most 8 decimals (asset scale 8), so a
// BigInt of units of 1e-8 holds it exactly. Floats are never used to compare amounts.

const kScale = 10n ** 8n;

// "123.4500" -> 12345000000n. Throws on anything that is not a plain decimal or that has a
// non-zero digit beyond the 8th decimal.
export function dec(s) {
  assert.equal(typeof s, 'string', `decimal must be a string, got ${typeof s} ${s}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  assert.ok(m, `not a decimal: '${s}'`);
  const frac = (m[3] ?? '').padEnd(8, '0');
  assert.ok(/^0*$/.test(frac.slice(8)), `more than 8 decimals: '${s}'`);
  const v = BigInt(m[2]) * kScale + BigInt(frac.slice(0, 8));
  return m[1] === '-' ? -v : v;
}

// 12345000000n -> "123.45000000"
export function fmt(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / kScale}.${(a % kScale).toString().padStart(8, '0')}`;
}

// Exact product of two scaled decimals; fails if it is not a whole number of 1e-8 units.
export function mul(a, b) {
  const p = a * b;
  assert.equal(p % kScale, 0n, `${fmt(a)} * ${fmt(b)} has more than 8 decimals`);
  return p / kScale;
}

export const sum = (xs) => xs.reduce((acc, x) => acc + x, 0n);

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
