#!/usr/bin/env node
// The demo market of `make run` (issue 8 §3, docs/demo-market.md): two labelled bot accounts
// trading through the public API so that a fresh Spotex shows a living book, trades and candles.
//   maker  quotes a ladder on both sides of a mean-reverting random-walk mid price, replacing
//          only the quotes that moved and skewing to keep its inventory near its target;
//   taker  sends small market orders at random intervals, with occasional sweeps.
// It invents no history: the walk starts at the last trade price (or a reference price for a
// market without trades) and everything it shows is real orders and trades.
//
// Usage (every flag also as an environment variable, SPOTEX_DEMO_<FLAG>, e.g.
// SPOTEX_DEMO_BASE_URL):
//   node tools/demo-market/bots.mjs --base-url http://127.0.0.1:<public port>
//     --admin-url http://127.0.0.1:<gateway-1 direct port> --admin-token-file <secrets>/admin-token
//     --state-file <var>/demo/bots.json --symbols BTCUSDT,ETHUSDT,ETHBTC
//     [--config markets.json] [--seed N] [--tick-ms 700] [--run-seconds 0] [--start-timeout-s 60]
// Runs until SIGTERM/SIGINT (or --run-seconds), then cancels its open orders (at most 5 s) and
// exits 0. Exits 1 on bad arguments or a setup failure, 2 when the exchange stays unreachable
// for --start-timeout-s at start. Refuses any URL that is not loopback: it is a local demo.
//
// Rate limits (read from exchangeInfo): the browser user shares the bots' IP (127.0.0.1), so the
// bots spend at most a quarter of the request-weight limit and of the per-account 10-second
// order limit, pace each account's orders to half of its day limit on average (the day count is
// per account, so no other user shares it; pacing keeps a day-long run from hitting it), back
// off to a third of their pace while the IP as a whole is past half its weight, and obey
// Retry-After on 429/418. The shares are `limits` in markets.json.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from './lib/client.mjs';
import { SlidingWindow, TokenBucket, retryDelayMs } from './lib/budget.mjs';
import { format, decimalsOf, parse, toNumber, toSteps } from './lib/decimal.mjs';
import {
  buildLadder, diffOrders, filtersFromSymbol, inventorySkew, nextCenter, withinBudget,
} from './lib/ladder.mjs';
import { Rng } from './lib/rng.mjs';
import { decideOrder, nextDelayMs } from './lib/taker.mjs';
import { OuWalk } from './lib/walk.mjs';

const kHere = dirname(fileURLToPath(import.meta.url));
const kRoles = {
  maker: { email: 'demo-maker@spotex.local', label: 'demo market maker' },
  taker: { email: 'demo-taker@spotex.local', label: 'demo taker' },
};
const kStopBudgetMs = 5000;
const kAccountRefreshMs = 15000;
const kStatsEveryMs = 10000;

// ---------------------------------------------------------------------------------------------
// Arguments.

const kFlags = {
  'base-url': null, 'admin-url': null, 'admin-token-file': null, 'state-file': null,
  symbols: 'BTCUSDT,ETHUSDT,ETHBTC', config: join(kHere, 'markets.json'), seed: null,
  'tick-ms': '700', 'run-seconds': '0', 'start-timeout-s': '60',
};

function usage(msg) {
  console.error(`demo-market: ${msg}`);
  console.error('usage: bots.mjs --base-url URL --admin-url URL --admin-token-file FILE ' +
    '--state-file FILE [--symbols A,B] [--config FILE] [--seed N] [--tick-ms 700] ' +
    '[--run-seconds 0] [--start-timeout-s 60]');
  process.exit(1);
}

function parseArgs(argv, env) {
  const out = {};
  for (const [k, def] of Object.entries(kFlags)) {
    out[k] = env[`SPOTEX_DEMO_${k.toUpperCase().replaceAll('-', '_')}`] ?? def;
  }
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage('help');
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in kFlags)) usage(`unknown argument '${a}'`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) usage(`--${m[1]} needs a value`);
    out[m[1]] = v;
  }
  for (const k of ['base-url', 'admin-url', 'admin-token-file', 'state-file']) {
    if (!out[k]) usage(`--${k} is required`);
  }
  for (const k of ['base-url', 'admin-url']) {
    if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\/?$/.test(out[k])) {
      usage(`--${k} must be http://127.0.0.1:<port> (the demo market is local only), got '${out[k]}'`);
    }
  }
  out.symbols = out.symbols.split(',').map((s) => s.trim()).filter(Boolean);
  if (out.symbols.length < 1 || out.symbols.length > 20 ||
      !out.symbols.every((s) => /^[A-Z0-9]{2,20}$/.test(s))) {
    usage('--symbols must be 1..20 symbols like BTCUSDT,ETHBTC');
  }
  const num = (k, lo, hi) => {
    const n = Number(out[k]);
    if (!Number.isInteger(n) || n < lo || n > hi) usage(`--${k} must be an integer in ${lo}..${hi}`);
    return n;
  };
  out.tickMs = num('tick-ms', 100, 10000);
  out.runSeconds = num('run-seconds', 0, 10 ** 7);
  out.startTimeoutS = num('start-timeout-s', 1, 3600);
  out.seed = out.seed === null ? (Date.now() ^ process.pid) >>> 0 : num('seed', 0, 2 ** 32 - 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Logging: one line per notable event.

function log(line) {
  process.stdout.write(`${new Date().toISOString()} demo-market: ${line}\n`);
}

// Logs a repeated message at most once per 10 s per key, with the count held back.
const throttled = new Map();
function logThrottled(key, line) {
  const now = Date.now();
  const t = throttled.get(key) ?? { at: 0, held: 0 };
  if (now - t.at >= 10000) {
    log(t.held > 0 ? `${line} (+${t.held} similar)` : line);
    throttled.set(key, { at: now, held: 0 });
  } else {
    t.held += 1;
    throttled.set(key, t);
  }
}

class Fatal extends Error {}

// A network error in a few words: "ECONNREFUSED", "TimeoutError", ...
const errText = (e) => e?.cause?.code ?? e?.cause?.message ?? e?.name ?? String(e);

// Set by SIGTERM/SIGINT; every wait checks it, so a stop is never held up by a back-off.
const run = { stopping: false, wake: () => {} };
const nap = (ms) => new Promise((resolve) => {
  if (run.stopping) return resolve();
  const t = setTimeout(resolve, ms);
  run.wake = () => { clearTimeout(t); resolve(); };
});

// ---------------------------------------------------------------------------------------------
// State file: the bot accounts' credentials, mode 0600, written atomically.

function readState(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return { version: 1, accounts: {} };
    throw new Fatal(`cannot read ${path}: ${e.message}`);
  }
  let s;
  try {
    s = JSON.parse(text);
  } catch {
    throw new Fatal(`${path} is not JSON; restore it or remove it together with the bot users`);
  }
  if (!s || s.version !== 1 || typeof s.accounts !== 'object') throw new Fatal(`${path}: unknown format`);
  for (const [role, a] of Object.entries(s.accounts)) {
    if (!(role in kRoles) || !Number.isInteger(a.userId) || typeof a.apiKey !== 'string' ||
        typeof a.apiSecret !== 'string' || typeof a.email !== 'string') {
      throw new Fatal(`${path}: bad entry '${role}'`);
    }
  }
  return s;
}

function writeState(path, state) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// Setup.

async function waitReachable(client, timeoutS) {
  const deadline = Date.now() + timeoutS * 1000;
  for (let attempt = 0; ; attempt += 1) {
    let why;
    try {
      const r = await client.request('GET', '/api/v3/ping', { timeoutMs: 3000 });
      if (r.status === 200) return;
      why = `HTTP ${r.status}`;
    } catch (e) {
      why = errText(e);
    }
    if (Date.now() >= deadline) {
      throw new Fatal(`exchange at ${client.baseUrl} unreachable for ${timeoutS} s (${why}); giving up`);
    }
    if (run.stopping) return;
    if (attempt % 5 === 0) log(`waiting for the exchange at ${client.baseUrl} (${why})`);
    await nap(Math.min(retryDelayMs(null, attempt, { baseMs: 250, capMs: 5000 }),
      Math.max(0, deadline - Date.now())));
  }
}

// Calls that must succeed during setup: retried on network errors and 5xx for a while.
async function must(client, what, method, path, opts, okCodes = []) {
  for (let attempt = 0; ; attempt += 1) {
    let r;
    try {
      r = await client.request(method, path, opts);
    } catch (e) {
      r = { status: 0, text: errText(e) };
    }
    if (r.status === 200 || (r.json && okCodes.includes(r.json.code))) return r;
    if ((r.status === 0 || r.status >= 500 || r.status === 429) && attempt < 8 && !run.stopping) {
      await nap(retryDelayMs(r.headers?.get?.('retry-after'), attempt));
      continue;
    }
    throw new Fatal(`${what}: HTTP ${r.status} ${String(r.text).slice(0, 200)}`);
  }
}

async function createAccount(client, role) {
  const { email, label } = kRoles[role];
  const password = randomBytes(18).toString('base64url');
  const reg = await must(client, `register ${email}`, 'POST', '/api/v1/users',
    { params: { email, password } }, [-7001]);
  if (reg.json.code === -7001) {
    throw new Fatal(`${email} is already registered but the state file has no credentials for ` +
      'it: restore the state file, or start from a fresh var directory');
  }
  const userId = reg.json.userId;
  const sess = await must(client, `log in ${email}`, 'POST', '/api/v1/session',
    { params: { email, password } });
  const token = sess.json.token;
  const key = await must(client, `create key for ${email}`, 'POST', '/api/v1/apiKeys',
    { params: { type: 'HMAC', permissions: 'READ,TRADE', label }, bearer: token });
  await client.request('DELETE', '/api/v1/session', { bearer: token }).catch(() => {});
  log(`created bot account ${email} (user ${userId}, key "${label}")`);
  return { email, password, userId, apiKey: key.json.apiKey, apiSecret: key.json.secretKey };
}

async function fetchBalances(client, account) {
  const r = await client.request('GET', '/api/v3/account', { signed: account });
  if (r.status !== 200 || !Array.isArray(r.json?.balances)) return null;
  const out = {};
  for (const b of r.json.balances) out[b.asset] = { free: parse(b.free), locked: parse(b.locked) };
  return out;
}

// Deposits what brings each funded asset back to its funding amount when it fell below half.
async function topUp(client, adminUrl, adminToken, role, account, funding, assets) {
  const bal = await fetchBalances(client, account);
  if (!bal) throw new Fatal(`cannot read the ${role}'s balances (is its API key valid?)`);
  for (const [asset, amountText] of Object.entries(funding)) {
    if (!assets.has(asset)) continue;
    const want = parse(amountText);
    const have = (bal[asset]?.free ?? 0n) + (bal[asset]?.locked ?? 0n);
    if (have * 2n >= want) continue;
    const amount = format(want - have);
    await must(client, `deposit ${amount} ${asset} to the ${role}`, 'POST',
      '/api/v1/admin/deposit', { baseUrl: adminUrl, admin: adminToken,
        params: { userId: account.userId, asset, amount } });
    log(`funded the ${role}: +${amount} ${asset}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The market.

async function main() {
  const args = parseArgs(process.argv.slice(2), process.env);
  let config;
  try {
    config = JSON.parse(readFileSync(args.config, 'utf8'));
  } catch (e) {
    throw new Fatal(`cannot read config ${args.config}: ${e.message}`);
  }
  let adminToken;
  try {
    adminToken = readFileSync(args['admin-token-file'], 'utf8').split('\n')[0].trim();
  } catch (e) {
    throw new Fatal(`cannot read the admin token: ${e.message}`);
  }
  const adminUrl = args['admin-url'].replace(/\/+$/, '');

  const stop = (sig) => {
    if (!run.stopping) log(`${sig}: stopping`);
    run.stopping = true;
    run.wake();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (args.runSeconds > 0) setTimeout(() => stop('run time over'), args.runSeconds * 1000).unref();

  const client = new Client({ baseUrl: args['base-url'], weightPerMinute: 1500, log,
    shouldStop: () => run.stopping });
  log(`starting: ${args.symbols.join(',')} on ${client.baseUrl}, seed ${args.seed}`);
  await waitReachable(client, args.startTimeoutS);
  if (run.stopping) return;

  // Symbols, filters and the announced limits.
  const info = await must(client, 'exchangeInfo', 'GET', '/api/v3/exchangeInfo',
    { params: { symbols: JSON.stringify(args.symbols) } });
  const limitOf = (type, interval, num) => info.json.rateLimits?.find((l) => l.rateLimitType === type &&
    l.interval === interval && l.intervalNum === num)?.limit;
  const weightLimit = limitOf('REQUEST_WEIGHT', 'MINUTE', 1) ?? 6000;
  const orders10s = limitOf('ORDERS', 'SECOND', 10) ?? 100;
  const ordersDay = limitOf('ORDERS', 'DAY', 1) ?? 200000;
  const share = (key, def) => {
    const v = config.limits?.[key] ?? def;
    if (!(v > 0 && v <= 1)) throw new Fatal(`limits.${key} in ${args.config} must be in (0, 1]`);
    return v;
  };
  client.weight.limit = Math.max(60, Math.floor(weightLimit * share('weightShare', 0.25)));
  const orderWindow = Math.max(2, Math.floor(orders10s * share('orderShare10s', 0.25)));
  const orderRate = Math.max(0.05, (ordersDay * share('orderShareDay', 0.5)) / 86400);
  log(`limits: weight ${weightLimit}/min per IP (using <= ${client.weight.limit}), orders ` +
    `${orders10s}/10 s and ${ordersDay}/day per account (using <= ${orderWindow}/10 s, ` +
    `${orderRate.toFixed(2)}/s on average)`);

  const markets = [];
  const assets = new Set();
  for (const name of args.symbols) {
    const sym = info.json.symbols?.find((s) => s.symbol === name);
    if (!sym) throw new Fatal(`symbol ${name} is not listed`);
    const cfg = config.symbols?.[name];
    if (!cfg) throw new Fatal(`symbol ${name} has no entry in ${args.config}`);
    const f = filtersFromSymbol(sym);
    assets.add(f.base);
    assets.add(f.quote);
    markets.push({ name, f, cfg });
  }

  // Accounts.
  const state = readState(args['state-file']);
  for (const role of Object.keys(kRoles)) {
    if (state.accounts[role]) continue;
    state.accounts[role] = await createAccount(client, role);
    writeState(args['state-file'], state);
  }
  const maker = state.accounts.maker;
  const taker = state.accounts.taker;
  for (const role of Object.keys(kRoles)) {
    await topUp(client, adminUrl, adminToken, role, state.accounts[role],
      config.funding?.[role] ?? {}, assets);
  }

  // Anchors: the last trade, else the reference price. Nothing is backfilled.
  const rng = new Rng(args.seed);
  const walkCfg = config.walk ?? {};
  for (const m of markets) {
    const r = await must(client, `last trade of ${m.name}`, 'GET', '/api/v3/trades',
      { params: { symbol: m.name, limit: 1 } });
    const last = Array.isArray(r.json) && r.json.length > 0 ? r.json[r.json.length - 1].price : null;
    const anchorText = last && parse(last) > 0n ? last : m.cfg.referencePrice;
    m.anchor = toNumber(parse(anchorText));
    m.walk = new OuWalk({ anchor: m.anchor, theta: Math.LN2 / (walkCfg.halfLifeS ?? 900),
      sigma: walkCfg.sigmaPerSqrtS ?? 0.0001, rng });
    // The grid is sized from the reference price, not the anchor, so that it stays the same
    // from one start to the next and a restart does not move every quote.
    const tick = toNumber(m.f.tickSize);
    const gridRef = toNumber(parse(m.cfg.referencePrice));
    const ticksFor = (bps) => BigInt(Math.max(1, Math.round((gridRef * bps) / 10000 / tick)));
    m.spacingTicks = ticksFor(m.cfg.spacingBps ?? 3);
    m.halfSpreadTicks = ticksFor(m.cfg.halfSpreadBps ?? 2);
    m.baseQty = parse(m.cfg.baseQty);
    m.center = null;
    m.bidQtys = [];
    m.askQtys = [];
    m.mayHaveOrders = true; // a previous run may have left some
    m.nextTakerAt = Date.now() + nextDelayMs(rng, config.taker?.meanIntervalMs ?? 2400);
    m.pd = decimalsOf(m.f.tickSize);
    m.qd = decimalsOf(m.f.stepSize);
    log(`${m.name}: anchor ${format(parse(anchorText), m.pd)} (${last ? 'last trade' : 'reference price'}), ` +
      `grid ${m.spacingTicks} ticks, best quote ${m.halfSpreadTicks} ticks from the centre`);
  }

  const makerCfg = config.maker ?? {};
  const takerCfg = config.taker ?? {};
  const now0 = Date.now();
  const budgets = {
    maker: { win: new SlidingWindow(10000, orderWindow), bucket: new TokenBucket(orderWindow, orderRate, now0), pausedUntil: 0 },
    taker: { win: new SlidingWindow(10000, orderWindow), bucket: new TokenBucket(orderWindow, orderRate, now0), pausedUntil: 0 },
  };
  const orderRoom = (role) => {
    const b = budgets[role];
    const t = Date.now();
    if (t < b.pausedUntil) return 0;
    return Math.min(b.win.available(t), b.bucket.available(t));
  };
  const spendOrder = (role) => {
    const t = Date.now();
    budgets[role].win.spend(1, t);
    budgets[role].bucket.spend(1, t);
  };
  // Records a -1015 refusal: no orders from that account until Retry-After.
  const noteOrderRefusal = (role, r) => {
    if (r.status === 429 && r.json?.code === -1015) {
      budgets[role].pausedUntil = Date.now() + retryDelayMs(r.headers.get('retry-after'), 3);
      logThrottled(`1015-${role}`, `${role}: order limit reached (-1015), pausing orders`);
    }
  };

  const stats = {
    trades: Object.fromEntries(markets.map((m) => [m.name, 0])),
    tradesTotal: Object.fromEntries(markets.map((m) => [m.name, 0])),
    placed: 0, replaced: 0, cancelled: 0, raced: 0, takerOrders: 0, rejected: {},
  };
  const reject = (what, r) => {
    const key = `${what} ${r.status} ${r.json?.code ?? ''}`;
    stats.rejected[key] = (stats.rejected[key] ?? 0) + 1;
    logThrottled(key, `${what} refused: HTTP ${r.status} ${r.text.slice(0, 160)}`);
  };

  let makerBal = await fetchBalances(client, maker);
  let takerBal = await fetchBalances(client, taker);
  let nextMakerBalAt = Date.now() + kAccountRefreshMs;
  let nextTakerBalAt = Date.now() + kAccountRefreshMs / 2;
  const total = (bal, asset) => (bal?.[asset]?.free ?? 0n) + (bal?.[asset]?.locked ?? 0n);
  // Inventory targets: the holdings at start (after the top-up), so the skew is neutral at
  // start whatever earlier runs or manual deposits left, and corrects the drift of this run.
  const targets = { maker: {}, taker: {} };
  for (const a of assets) {
    targets.maker[a] = total(makerBal, a);
    targets.taker[a] = total(takerBal, a);
  }
  const fundTarget = (role, asset) => targets[role][asset] ?? 0n;

  // One maker cycle for one symbol: read its live orders, diff against the ladder, send.
  async function makerCycle(m) {
    const r = await client.request('GET', '/api/v3/openOrders', { signed: maker, params: { symbol: m.name } });
    if (r.status !== 200 || !Array.isArray(r.json)) return reject('openOrders', r);
    const live = r.json.map((o) => ({
      orderId: o.orderId, side: o.side, price: parse(o.price),
      qty: parse(o.origQty) - parse(o.executedQty),
    }));
    const midTicks = toSteps(m.walk.mid, m.f.tickSize);
    m.center = nextCenter(m.center, midTicks, m.spacingTicks, makerCfg.hysteresis ?? 0.75);
    const skew = inventorySkew(total(makerBal, m.f.base), fundTarget('maker', m.f.base),
      makerCfg.inventoryBand ?? 0.1);
    const desired = buildLadder({
      centerTicks: m.center, spacingTicks: m.spacingTicks, halfSpreadTicks: m.halfSpreadTicks,
      levels: makerCfg.levels ?? 6, baseQty: m.baseQty, growth: makerCfg.growth ?? 1.25,
      skew, skewSteps: makerCfg.skewSteps ?? 3, skewSize: makerCfg.skewSize ?? 0.5,
    }, m.f);
    // The taker sizes its orders from the maker's live quotes, best first.
    const byPrice = (side, dir) => live.filter((o) => o.side === side)
      .sort((a, b) => (a.price < b.price ? -dir : a.price > b.price ? dir : 0)).map((o) => o.qty);
    m.bidQtys = byPrice('BUY', -1);
    m.askQtys = byPrice('SELL', 1);
    const { actions } = diffOrders(desired, live, makerCfg.qtyTolerance ?? 0.5);
    m.mayHaveOrders = live.length > 0;
    // A fair share per cycle, so that one symbol cannot take the whole budget (at start every
    // ladder is built a few inner levels at a time, all symbols together).
    const share = Math.max(2, Math.ceil(orderWindow / markets.length));
    for (const a of withinBudget(actions, Math.min(share, orderRoom('maker')))) {
      if (run.stopping) return;
      if (a.type === 'cancel') {
        const c = await client.request('DELETE', '/api/v3/order',
          { signed: maker, params: { symbol: m.name, orderId: a.order.orderId } });
        if (c.status === 200) stats.cancelled += 1;
        else if (c.json?.code === -2011) stats.raced += 1; // filled meanwhile
        else reject('cancel', c);
        continue;
      }
      if (orderRoom('maker') < 1) break;
      const w = a.want;
      const params = {
        symbol: m.name, side: w.side, type: 'LIMIT', timeInForce: 'GTC',
        quantity: format(w.qty, m.qd), price: format(w.price, m.pd), newOrderRespType: 'ACK',
      };
      spendOrder('maker');
      if (a.type === 'replace') {
        const c = await client.request('POST', '/api/v3/order/cancelReplace', { signed: maker,
          params: { ...params, cancelReplaceMode: 'STOP_ON_FAILURE', cancelOrderId: a.order.orderId } });
        if (c.status === 200) stats.replaced += 1;
        else if (c.json?.code === -2022 && c.json?.data?.cancelResponse?.code === -2011) stats.raced += 1;
        else { noteOrderRefusal('maker', c); reject('cancelReplace', c); }
      } else {
        const c = await client.request('POST', '/api/v3/order', { signed: maker, params });
        if (c.status === 200) stats.placed += 1;
        else { noteOrderRefusal('maker', c); reject('order', c); }
      }
      m.mayHaveOrders = true;
    }
  }

  async function takerOrder(m) {
    if (orderRoom('taker') < 1 || !takerBal) {
      m.nextTakerAt = Date.now() + 500;
      return;
    }
    const d = decideOrder(rng, {
      skew: inventorySkew(total(takerBal, m.f.base), fundTarget('taker', m.f.base), 0.5),
      refPrice: m.center === null ? parse(m.cfg.referencePrice) : m.center * m.f.tickSize,
      bidQtys: m.bidQtys, askQtys: m.askQtys,
      freeBase: takerBal[m.f.base]?.free ?? 0n, freeQuote: takerBal[m.f.quote]?.free ?? 0n,
      sweepProb: takerCfg.sweepProb, sweepLevels: takerCfg.sweepLevels, smallFrac: takerCfg.smallFrac,
    }, m.f);
    m.nextTakerAt = Date.now() + nextDelayMs(rng, takerCfg.meanIntervalMs ?? 2400);
    if (!d) return;
    spendOrder('taker');
    const r = await client.request('POST', '/api/v3/order', { signed: taker, params: {
      symbol: m.name, side: d.side, type: 'MARKET', quantity: format(d.qty, m.qd),
      newOrderRespType: 'FULL' } });
    if (r.status !== 200) {
      noteOrderRefusal('taker', r);
      return reject('market order', r);
    }
    stats.takerOrders += 1;
    const fills = Array.isArray(r.json.fills) ? r.json.fills.length : 0;
    stats.trades[m.name] += fills;
    stats.tradesTotal[m.name] += fills;
    // Keep the local balance estimate close until the next account refresh.
    const base = parse(r.json.executedQty ?? '0');
    const quote = parse(r.json.cummulativeQuoteQty ?? '0');
    const b = takerBal[m.f.base] ?? (takerBal[m.f.base] = { free: 0n, locked: 0n });
    const q = takerBal[m.f.quote] ?? (takerBal[m.f.quote] = { free: 0n, locked: 0n });
    if (d.side === 'BUY') { b.free += base; q.free -= quote; } else { b.free -= base; q.free += quote; }
    if (d.sweep) log(`${m.name}: taker sweep ${d.side} ${format(d.qty, m.qd)} -> ${fills} trades`);
  }

  log('running');
  let last = Date.now();
  let nextStatsAt = last + kStatsEveryMs;
  let statsFrom = { at: last, requests: 0, weight: 0 };
  let rr = 0;
  while (!run.stopping) {
    const tickStart = Date.now();
    const dt = (tickStart - last) / 1000;
    last = tickStart;
    for (const m of markets) m.walk.step(dt);
    try {
      if (tickStart >= nextMakerBalAt) {
        makerBal = (await fetchBalances(client, maker)) ?? makerBal;
        nextMakerBalAt = Date.now() + kAccountRefreshMs;
      } else if (tickStart >= nextTakerBalAt) {
        takerBal = (await fetchBalances(client, taker)) ?? takerBal;
        nextTakerBalAt = Date.now() + kAccountRefreshMs;
      }
      await makerCycle(markets[rr++ % markets.length]);
      for (const m of markets) {
        if (!run.stopping && Date.now() >= m.nextTakerAt && m.center !== null) await takerOrder(m);
      }
    } catch (e) {
      logThrottled('net', `request failed: ${errText(e)}; retrying`);
      await nap(1000);
    }
    const t = Date.now();
    if (t >= nextStatsAt) {
      const secs = (t - statsFrom.at) / 1000;
      const req = client.stats.requests - statsFrom.requests;
      const w = client.stats.weight - statsFrom.weight;
      const trades = markets.map((m) => `${m.name}=${stats.trades[m.name]}`).join(' ');
      const rej = Object.entries(stats.rejected).map(([k, v]) => `${k} x${v}`).join(', ');
      log(`last ${secs.toFixed(0)} s: trades ${trades}; maker placed ${stats.placed} replaced ` +
        `${stats.replaced} cancelled ${stats.cancelled} raced ${stats.raced}; taker orders ` +
        `${stats.takerOrders}; ${(req / secs).toFixed(1)} req/s, weight ${Math.round((w / secs) * 60)}/min ` +
        `(IP total this minute ${client.ipWeightUsed})${rej ? `; refused: ${rej}` : ''}`);
      for (const m of markets) stats.trades[m.name] = 0;
      Object.assign(stats, { placed: 0, replaced: 0, cancelled: 0, raced: 0, takerOrders: 0, rejected: {} });
      statsFrom = { at: t, requests: client.stats.requests, weight: client.stats.weight };
      nextStatsAt = t + kStatsEveryMs;
    }
    // Slow down when the IP as a whole (the browser user included) is past half its budget.
    const busy = client.ipWeightUsed > weightLimit / 2 ? 3 : 1;
    await nap(Math.max(50, args.tickMs * busy - (Date.now() - tickStart)));
  }

  // Shutdown: cancel the maker's open orders, bounded.
  const deadline = Date.now() + kStopBudgetMs;
  let left = 0;
  for (const m of markets) {
    if (!m.mayHaveOrders) continue;
    const ms = deadline - Date.now();
    if (ms <= 0) { left += 1; continue; }
    try {
      const r = await client.request('DELETE', '/api/v3/openOrders',
        { signed: maker, params: { symbol: m.name }, timeoutMs: ms, noWait: true });
      if (r.status === 200) log(`${m.name}: cancelled ${Array.isArray(r.json) ? r.json.length : '?'} open orders`);
      else if (r.json?.code !== -2011) { left += 1; log(`${m.name}: cancel-all refused: HTTP ${r.status} ${r.text.slice(0, 120)}`); }
    } catch (e) {
      left += 1;
      log(`${m.name}: cancel-all failed: ${errText(e)}`);
    }
  }
  const totals = markets.map((m) => `${m.name}=${stats.tradesTotal[m.name]}`).join(' ');
  log(`stopped${left ? ` (${left} symbols may still have open orders)` : ''}; taker trades ${totals}; ` +
    `${client.stats.requests} requests, weight ${client.stats.weight}, HTTP ${JSON.stringify(client.stats.status)}`);
}

main().then(() => process.exit(0), (e) => {
  if (run.stopping) {
    log(`stopped during start-up (${e.message})`);
    process.exit(0);
  }
  if (e instanceof Fatal) {
    console.error(`demo-market: ${e.message}`);
    process.exit(/unreachable/.test(e.message) ? 2 : 1);
  }
  console.error(`demo-market: unexpected error: ${e.stack ?? e}`);
  process.exit(1);
});
