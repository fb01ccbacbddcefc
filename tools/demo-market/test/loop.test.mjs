// bots.mjs end to end against a small fake exchange on a loopback port: account setup, funding,
// signed requests, a ladder within the filters, market orders, cancelReplace, the state file,
// reuse on the next start and cleanup on stop. The fake checks every request the way the
// gateway would (signature, tick/step/notional, auth) and records what it saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, mul, parse } from '../lib/decimal.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const kAdminToken = 'a'.repeat(32);

const kSymbols = {
  BTCUSDT: { base: 'BTC', quote: 'USDT', tick: '0.01', step: '0.00001', minQty: '0.00001', minNotional: '5' },
  ETHBTC: { base: 'ETH', quote: 'BTC', tick: '0.00001', step: '0.001', minQty: '0.001', minNotional: '0.0001' },
};

function exchangeInfo() {
  return {
    timezone: 'UTC',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
    ],
    symbols: Object.entries(kSymbols).map(([symbol, s]) => ({
      symbol, baseAsset: s.base, quoteAsset: s.quote,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: s.tick, maxPrice: '1000000', tickSize: s.tick },
        { filterType: 'LOT_SIZE', minQty: s.minQty, maxQty: '9000', stepSize: s.step },
        { filterType: 'MARKET_LOT_SIZE', minQty: '0', maxQty: '100', stepSize: '0' },
        { filterType: 'NOTIONAL', minNotional: s.minNotional, maxNotional: '9000000' },
      ],
    })),
  };
}

// The fake exchange. Orders rest in `orders`; a market order takes the best opposite orders.
function fakeExchange() {
  const st = {
    users: [], sessions: new Map(), keys: new Map(), balances: new Map(), deposits: [],
    orders: [], nextOrderId: 1, nextTradeId: 1, errors: [], violations: [], calls: {},
    limitOrders: 0, marketOrders: 0, replaces: 0, cancelAll: 0, fills: 0,
  };
  const bal = (user, asset) => {
    const b = st.balances.get(user) ?? new Map();
    st.balances.set(user, b);
    if (!b.has(asset)) b.set(asset, 0n);
    return b;
  };
  const add = (user, asset, d) => bal(user, asset).set(asset, bal(user, asset).get(asset) + d);
  const send = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-MBX-USED-WEIGHT-1M': '10' });
    res.end(JSON.stringify(body));
  };
  const fail = (res, status, code, msg) => {
    st.errors.push(`${status} ${code} ${msg}`);
    send(res, status, { code, msg });
  };
  const orderJson = (o) => ({
    symbol: o.symbol, orderId: o.orderId, side: o.side, type: 'LIMIT', status: 'NEW',
    price: format(o.price), origQty: format(o.qty), executedQty: format(o.executed),
  });
  // Checks a LIMIT order the way the gateway's filters do; returns an error text or null.
  const check = (p) => {
    const s = kSymbols[p.symbol];
    if (!s) return 'unknown symbol';
    const price = parse(p.price);
    const qty = parse(p.quantity);
    if (price % parse(s.tick) !== 0n) return `price ${p.price} off tick`;
    if (qty % parse(s.step) !== 0n || qty < parse(s.minQty)) return `qty ${p.quantity} off step`;
    if (mul(price, qty) < parse(s.minNotional)) return `notional ${p.price}x${p.quantity}`;
    if (!/^\d+(\.\d+)?$/.test(p.price) || !/^\d+(\.\d+)?$/.test(p.quantity)) return 'not a plain decimal';
    return null;
  };
  const place = (user, p) => {
    const o = { symbol: p.symbol, orderId: st.nextOrderId++, side: p.side, user,
      price: parse(p.price), qty: parse(p.quantity), executed: 0n };
    st.orders.push(o);
    st.limitOrders += 1;
    return o;
  };
  const market = (user, p) => {
    const s = kSymbols[p.symbol];
    let left = parse(p.quantity);
    const book = st.orders.filter((o) => o.symbol === p.symbol && o.side !== p.side && o.user !== user)
      .sort((a, b) => (p.side === 'BUY' ? (a.price < b.price ? -1 : 1) : (a.price > b.price ? -1 : 1)));
    const fills = [];
    let quote = 0n;
    for (const o of book) {
      if (left <= 0n) break;
      const q = o.qty - o.executed < left ? o.qty - o.executed : left;
      o.executed += q;
      left -= q;
      quote += mul(o.price, q);
      fills.push({ price: format(o.price), qty: format(q), tradeId: st.nextTradeId++ });
      if (o.executed === o.qty) st.orders.splice(st.orders.indexOf(o), 1);
    }
    const done = parse(p.quantity) - left;
    add(user, s.base, p.side === 'BUY' ? done : -done);
    add(user, s.quote, p.side === 'BUY' ? -quote : quote);
    st.marketOrders += 1;
    st.fills += fills.length;
    return { symbol: p.symbol, orderId: st.nextOrderId++, status: 'FILLED', executedQty: format(done),
      cummulativeQuoteQty: format(quote), fills };
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const raw = req.method === 'POST' ? body : url.search.slice(1);
      const p = Object.fromEntries(new URLSearchParams(raw));
      const route = `${req.method} ${url.pathname}`;
      st.calls[route] = (st.calls[route] ?? 0) + 1;
      // Signed endpoints: verify the HMAC over everything before &signature=.
      let user = null;
      if (url.pathname.startsWith('/api/v3/') && !['/api/v3/ping', '/api/v3/exchangeInfo', '/api/v3/trades'].includes(url.pathname)) {
        const key = st.keys.get(req.headers['x-mbx-apikey']);
        const i = raw.lastIndexOf('&signature=');
        if (!key || i < 0 || !p.timestamp ||
            createHmac('sha256', key.secret).update(raw.slice(0, i)).digest('hex') !== p.signature) {
          return fail(res, 401, -1022, 'Signature for this request is not valid.');
        }
        user = key.userId;
      }
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      switch (route) {
        case 'GET /api/v3/ping': return send(res, 200, {});
        case 'GET /api/v3/exchangeInfo': return send(res, 200, exchangeInfo());
        case 'GET /api/v3/trades': return send(res, 200, []);
        case 'POST /api/v1/users': {
          if (st.users.some((u) => u.email === p.email)) return fail(res, 400, -7001, 'registered');
          const u = { userId: st.users.length + 1, email: p.email, password: p.password };
          st.users.push(u);
          return send(res, 200, { userId: u.userId, email: u.email });
        }
        case 'POST /api/v1/session': {
          const u = st.users.find((x) => x.email === p.email && x.password === p.password);
          if (!u) return fail(res, 401, -7002, 'Invalid email or password.');
          const token = randomBytes(16).toString('hex');
          st.sessions.set(token, u.userId);
          return send(res, 200, { token, expiresAt: Date.now() + 1e6, userId: u.userId });
        }
        case 'DELETE /api/v1/session': st.sessions.delete(bearer); return send(res, 200, {});
        case 'POST /api/v1/apiKeys': {
          const userId = st.sessions.get(bearer);
          if (!userId) return fail(res, 401, -1002, 'no session');
          if (p.permissions !== 'READ,TRADE') st.violations.push(`permissions ${p.permissions}`);
          const apiKey = randomBytes(32).toString('hex');
          const secretKey = randomBytes(32).toString('hex');
          st.keys.set(apiKey, { userId, secret: secretKey, label: p.label });
          return send(res, 200, { id: st.keys.size, apiKey, secretKey, type: 'HMAC' });
        }
        case 'POST /api/v1/admin/deposit': {
          if (req.headers['x-spotex-admin-token'] !== kAdminToken) return fail(res, 401, -1002, 'admin');
          st.deposits.push({ userId: Number(p.userId), asset: p.asset, amount: p.amount });
          add(Number(p.userId), p.asset, parse(p.amount));
          return send(res, 200, { userId: Number(p.userId), asset: p.asset, amount: p.amount, seq: 1 });
        }
        case 'GET /api/v3/account': {
          const b = st.balances.get(user) ?? new Map();
          return send(res, 200, { balances: [...b].map(([asset, v]) => ({ asset, free: format(v), locked: '0' })) });
        }
        case 'GET /api/v3/openOrders':
          return send(res, 200, st.orders.filter((o) => o.user === user && o.symbol === p.symbol).map(orderJson));
        case 'DELETE /api/v3/openOrders': {
          st.cancelAll += 1;
          const mine = st.orders.filter((o) => o.user === user && o.symbol === p.symbol);
          if (mine.length === 0) return fail(res, 400, -2011, 'Unknown order sent.');
          st.orders = st.orders.filter((o) => !mine.includes(o));
          return send(res, 200, mine.map(orderJson));
        }
        case 'DELETE /api/v3/order': {
          const o = st.orders.find((x) => x.user === user && x.orderId === Number(p.orderId));
          if (!o) return fail(res, 400, -2011, 'Unknown order sent.');
          st.orders.splice(st.orders.indexOf(o), 1);
          return send(res, 200, orderJson(o));
        }
        case 'POST /api/v3/order': {
          if (p.type === 'MARKET') return send(res, 200, market(user, p));
          const bad = check(p);
          if (bad) { st.violations.push(bad); return fail(res, 400, -1013, bad); }
          return send(res, 200, { orderId: place(user, p).orderId });
        }
        case 'POST /api/v3/order/cancelReplace': {
          const o = st.orders.find((x) => x.user === user && x.orderId === Number(p.cancelOrderId));
          if (!o) return fail(res, 400, -2022, 'Order cancel-replace failed.');
          const bad = check(p);
          if (bad) { st.violations.push(bad); return fail(res, 409, -2021, bad); }
          st.orders.splice(st.orders.indexOf(o), 1);
          st.replaces += 1;
          return send(res, 200, { cancelResult: 'SUCCESS', newOrderResult: 'SUCCESS',
            newOrderResponse: { orderId: place(user, p).orderId } });
        }
        default: return fail(res, 404, -1000, `no route ${route}`);
      }
    });
  });
  return { server, st };
}

function runBots(args) {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SPOTEX_DEMO_')) delete env[k];
    const child = spawn(process.execPath, [join(here, '..', 'bots.mjs'), ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

test('the bots set up, quote, trade, and clean up against a fake exchange', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-market-loop-'));
  const { server, st } = fakeExchange();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    writeFileSync(join(dir, 'admin-token'), `${kAdminToken}\n`);
    const config = JSON.parse(readFileSync(join(here, '..', 'markets.json'), 'utf8'));
    config.taker.meanIntervalMs = 300; // many market orders in a short run
    config.taker.sweepProb = 0.3;
    config.limits.orderShare10s = 0.6; // room to refresh quotes within a 4-second run
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const args = ['--base-url', url, '--admin-url', url, '--admin-token-file', join(dir, 'admin-token'),
      '--state-file', join(dir, 'demo', 'bots.json'), '--symbols', 'BTCUSDT,ETHBTC',
      '--config', join(dir, 'config.json'), '--seed', '7', '--tick-ms', '100'];

    const first = await runBots([...args, '--run-seconds', '4']);
    assert.equal(first.code, 0, first.err + first.out);
    assert.deepEqual(st.users.map((u) => u.email), ['demo-maker@spotex.local', 'demo-taker@spotex.local']);
    assert.deepEqual([...st.keys.values()].map((k) => k.label), ['demo market maker', 'demo taker']);
    const state = JSON.parse(readFileSync(join(dir, 'demo', 'bots.json'), 'utf8'));
    assert.equal(statSync(join(dir, 'demo', 'bots.json')).mode & 0o777, 0o600);
    assert.equal(state.accounts.maker.userId, 1);
    assert.equal(state.accounts.taker.email, 'demo-taker@spotex.local');
    assert.equal(st.sessions.size, 0, 'the setup sessions were logged out');
    // Funding: only the assets of the traded symbols, from the config.
    assert.deepEqual(st.deposits.filter((d) => d.userId === 1).map((d) => `${d.asset} ${d.amount}`).sort(),
      ['BTC 5.00000000', 'ETH 100.00000000', 'USDT 400000.00000000']);
    assert.deepEqual(st.violations, [], 'every order inside the filters');
    assert.deepEqual(st.errors.filter((e) => !/-2011/.test(e)), [], 'no refused request');
    assert.ok(st.limitOrders >= 20, `maker quoted (${st.limitOrders} limit orders)`);
    assert.ok(st.marketOrders >= 3 && st.fills >= 3, `taker traded (${st.marketOrders} orders, ${st.fills} fills)`);
    assert.ok(st.replaces >= 1, `taken quotes are refreshed with cancelReplace (${st.replaces})`);
    assert.ok(st.limitOrders <= 60, `at most the 10-second share of 100 orders (${st.limitOrders})`);
    assert.equal(st.orders.length, 0, 'no open order left after the stop');
    assert.match(first.out, /trades BTCUSDT=\d+ ETHBTC=\d+/);

    // A second start reuses the accounts and does not fund what is still there.
    const deposits = st.deposits.length;
    const second = await runBots([...args, '--run-seconds', '1']);
    assert.equal(second.code, 0, second.err);
    assert.equal(st.users.length, 2);
    assert.equal(st.keys.size, 2);
    assert.equal(st.deposits.length, deposits);
    assert.equal(st.orders.length, 0);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
