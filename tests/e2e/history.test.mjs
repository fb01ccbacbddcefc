// History endpoints (issue 6 §2, docs/history-queries.md) against the real stack with
// spotex-recorder writing PostgreSQL: ccxt fetchMyTrades, fetchClosedOrders, fetchOrder and
// fetchOHLCV, and direct HTTP pagination (fromId, orderId, limit, time windows, -1127/-1128).
//
// Proof that the answers come from PostgreSQL and not from a gateway's memory: after trading
// on the stack's gateway, a second gateway is started (so its memory holds none of it) with
// --history-pg-host/--history-pg-port at the stack's PostgreSQL (SPOTEX_HISTORY_PG_PORT when
// run.sh exports one, e.g. a streaming replica with HA=1), and must answer the same history.
// That part needs spotex-recorder in the stack; without it (not built) it is skipped.
//
// Run through run.sh: it exports SPOTEX_VAR, SPOTEX_BIN_DIR and the SPOTEX_*_PORT of the stack.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import ccxt from 'ccxt';
import {
  BASE_URL, REF_PRICE, SIGNED, USERS, assertError, clientId, eventually, makeCcxt, rawRequest,
  signedRequest,
} from './lib.mjs';

const env = process.env;
const NEEDED = ['SPOTEX_VAR', 'SPOTEX_BIN_DIR', 'SPOTEX_NATS_PORT', 'SPOTEX_PG_PORT',
  'SPOTEX_REDIS_PORT'];
const missing = NEEDED.filter((k) => !env[k]);
const SKIP = SIGNED || (missing.length ? `no ${missing.join(', ')} (run with run.sh)` : false);
const NO_RECORDER = SKIP || (existsSync(`${env.SPOTEX_BIN_DIR}/spotex-recorder`) ? false
  : 'spotex-recorder not built: nothing writes the history');
const SECRETS = env.SPOTEX_SECRETS_DIR ?? `${env.SPOTEX_VAR}/secrets`;
const SYMBOL = 'BNB/USDT';
const RAW_SYMBOL = 'BNBUSDT';
const PRICE = Number(REF_PRICE.BNBUSDT);

// ccxt's binance on another gateway (as lib.mjs makeCcxt does for the stack's).
function ccxtAt(baseUrl, user) {
  const defaults = new ccxt.binance().urls.api;
  const api = {};
  for (const [k, v] of Object.entries(defaults)) {
    if (typeof v === 'string') api[k] = v.replace(/^https:\/\/[^/]+/, baseUrl);
  }
  Object.assign(api, { public: `${baseUrl}/api/v3`, private: `${baseUrl}/api/v3` });
  return new ccxt.binance({
    apiKey: user.apiKey, secret: user.apiSecret, urls: { api },
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false,
      fetchMargins: false },
  });
}

// A fresh spotex-gateway on port 0 with its history queries on `historyPort`; resolves
// {child, baseUrl} once /health answers.
async function startGateway(logPath, historyPort) {
  const log = openSync(logPath, 'a');
  const offset = fstatSync(log).size;
  const args = ['--listen', '127.0.0.1', '--port', '0',
    '--nats-url', `nats://127.0.0.1:${env.SPOTEX_NATS_PORT}`, '--nats-user', 'spotex',
    '--nats-password-file', `${SECRETS}/nats-password`,
    '--pg-host', '127.0.0.1', '--pg-port', env.SPOTEX_PG_PORT, '--pg-user', 'spotex',
    '--pg-dbname', 'spotex', '--pg-password-file', `${SECRETS}/pg-password`,
    '--history-pg-host', '127.0.0.1', '--history-pg-port', String(historyPort),
    '--redis-host', '127.0.0.1', '--redis-port', env.SPOTEX_REDIS_PORT,
    '--redis-password-file', `${SECRETS}/redis-password`, '--secrets-dir', SECRETS];
  const child = spawn(`${env.SPOTEX_BIN_DIR}/spotex-gateway`, args,
    { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => { exited = `exited (${code ?? signal})`; });
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
  await stopGateway(child);
  throw new Error(`history gateway not healthy: ${exited ?? 'timeout'}; log ${logPath}:\n` +
    readFileSync(logPath, 'utf8').slice(-2000));
}

async function stopGateway(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

const get = async (user, path, params, baseUrl = BASE_URL) =>
  rawRequest({ ...signedRequest(user, 'GET', path, params), baseUrl });

describe('history endpoints', { skip: SKIP }, () => {
  let a;
  let b;
  const trades = []; // {sell, buy} per trade made here
  let canceled;

  before(async () => {
    a = makeCcxt(USERS[0]);
    b = makeCcxt(USERS[1]);
    await a.loadMarkets();
    await b.loadMarkets();
    for (const ex of [a, b]) {
      for (const o of await ex.fetchOpenOrders(SYMBOL)) await ex.cancelOrder(o.id, SYMBOL);
    }
    // Three trades (A sells resting, B buys at market) and one cancelled order of A.
    for (let i = 0; i < 3; i++) {
      const sell = await a.createOrder(SYMBOL, 'limit', 'sell', 0.01, PRICE,
        { clientOrderId: clientId('hist') });
      const buy = await b.createOrder(SYMBOL, 'market', 'buy', 0.01);
      assert.equal(buy.status, 'closed');
      trades.push({ sell, buy });
    }
    canceled = await a.createOrder(SYMBOL, 'limit', 'buy', 0.02, PRICE / 2,
      { clientOrderId: clientId('hist') });
    await a.cancelOrder(canceled.id, SYMBOL);
  });

  test('myTrades pages with fromId and limit, ascending, only the caller\'s', async () => {
    const all = (await get(USERS[0], '/api/v3/myTrades', { symbol: RAW_SYMBOL, limit: 1000 })).json;
    assert.ok(Array.isArray(all) && all.length >= 3, JSON.stringify(all).slice(0, 300));
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].id <= all[i].id, 'ascending');
    const from = all[all.length - 3].id;
    const page1 = (await get(USERS[0], '/api/v3/myTrades',
      { symbol: RAW_SYMBOL, fromId: from, limit: 2 })).json;
    assert.deepEqual(page1.map((t) => t.id), all.slice(-3, -1).map((t) => t.id));
    const page2 = (await get(USERS[0], '/api/v3/myTrades',
      { symbol: RAW_SYMBOL, fromId: page1[1].id + 1, limit: 2 })).json;
    assert.deepEqual(page2.map((t) => t.id), [all[all.length - 1].id]);
    for (const t of all) assert.equal(t.isBuyer, false, 'user A sold in every trade here');
    assertError(await get(USERS[0], '/api/v3/myTrades',
      { symbol: RAW_SYMBOL, startTime: 0, endTime: 86400001 }), 400, -1127);
    assertError(await get(USERS[0], '/api/v3/myTrades',
      { symbol: RAW_SYMBOL, fromId: 1, startTime: 1 }), 400, -1128);
  });

  test('allOrders pages with orderId and limit; another user gets -2013', async () => {
    const first = trades[0].sell.id;
    const page = (await get(USERS[0], '/api/v3/allOrders',
      { symbol: RAW_SYMBOL, orderId: first, limit: 2 })).json;
    assert.equal(page.length, 2, JSON.stringify(page));
    assert.equal(String(page[0].orderId), first);
    assert.ok(page[0].orderId < page[1].orderId);
    const other = await get(USERS[1], '/api/v3/order', { symbol: RAW_SYMBOL, orderId: first });
    assertError(other, 400, -2013, 'Order does not exist.');
  });

  test('aggTrades with fromId and klines with a window', async () => {
    const buyTime = trades[0].buy.timestamp;
    const aggs = (await rawRequest({ path: `/api/v3/aggTrades?symbol=${RAW_SYMBOL}` +
      `&startTime=${buyTime - 1}&endTime=${buyTime + 60000}` })).json;
    assert.ok(Array.isArray(aggs) && aggs.length >= 1, JSON.stringify(aggs));
    const byId = (await rawRequest({ path: `/api/v3/aggTrades?symbol=${RAW_SYMBOL}` +
      `&fromId=${aggs[0].a}&limit=1` })).json;
    assert.deepEqual(byId, [aggs[0]], 'the same aggregate by its id');
    const bars = (await rawRequest({ path: `/api/v3/klines?symbol=${RAW_SYMBOL}&interval=1m` +
      `&startTime=${buyTime - 60000}&limit=3` })).json;
    assert.ok(bars.some((k) => Number(k[5]) > 0), JSON.stringify(bars));
  });

  describe('from PostgreSQL on a gateway that saw none of it', { skip: NO_RECORDER }, () => {
    let gw = null;
    const onExit = () => gw?.child.kill('SIGKILL');
    before(async () => {
      mkdirSync(`${env.SPOTEX_VAR}/log`, { recursive: true });
      const port = env.SPOTEX_HISTORY_PG_PORT ?? env.SPOTEX_PG_PORT;
      gw = await startGateway(`${env.SPOTEX_VAR}/log/gateway-history.log`, port);
      process.once('exit', onExit);
    });
    after(async () => {
      await stopGateway(gw?.child);
      process.removeListener('exit', onExit);
    });

    test('ccxt fetchMyTrades, fetchClosedOrders, fetchOrder, fetchOHLCV', async () => {
      const fa = ccxtAt(gw.baseUrl, USERS[0]);
      const fb = ccxtAt(gw.baseUrl, USERS[1]);
      await fa.loadMarkets();
      const since = trades[0].buy.timestamp - 1000;
      // The recorder lags the engine a little: wait until it has the last trade.
      const mine = await eventually(async () => {
        const t = await fb.fetchMyTrades(SYMBOL, since, 1000);
        return t.filter((x) => trades.some((tr) => tr.buy.id === x.order)).length === 3 ? t : null;
      }, 15000);
      assert.ok(mine, 'the fresh gateway shows the three trades from PostgreSQL');
      for (const t of mine.filter((x) => trades.some((tr) => tr.buy.id === x.order))) {
        assert.equal(t.side, 'buy');
        assert.equal(t.price, PRICE);
      }
      const closed = await fa.fetchClosedOrders(SYMBOL, since);
      for (const { sell } of trades) {
        assert.ok(closed.some((o) => o.id === sell.id && o.status === 'closed'),
          `filled order ${sell.id} among closed orders`);
      }
      const c = await fa.fetchOrder(canceled.id, SYMBOL);
      assert.equal(c.status, 'canceled');
      assert.equal(c.clientOrderId, canceled.clientOrderId);
      await assert.rejects(fb.fetchOrder(canceled.id, SYMBOL), ccxt.OrderNotFound);
      const bars = await fa.fetchOHLCV(SYMBOL, '1m', since - 60000, 10);
      const minute = Math.floor(trades[0].buy.timestamp / 60000) * 60000;
      const bar = bars.find((x) => x[0] === minute);
      assert.ok(bar && bar[5] >= 0.01, `a bar with volume at ${minute}: ${JSON.stringify(bars)}`);
    });
  });
});
