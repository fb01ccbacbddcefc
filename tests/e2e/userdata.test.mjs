// User data streams (BINANCE_API.md §9-10) with the real clients and over raw sockets:
// - ccxt pro watchOrders / watchMyTrades / watchBalance, which subscribe with the WebSocket API's
//   userDataStream.subscribe.signature on urls.api.ws['ws-api'].spot (= /ws-api/v3);
// - the raw WebSocket API: the subscribe envelope, executionReport NEW then one TRADE per fill
//   then outboundAccountPosition, with the §9.3 guarantees (trade ids = myTrades ids, order id
//   = REST orderId, sum of l = executedQty, balances = GET account), balanceUpdate on a
//   deposit, unsubscribe, and user isolation;
// - @binance/spot's WebsocketAPI: session.logon (HMAC, and Ed25519 with a key registered through
//   /api/v1), order.place, order.status, openOrders.status, account.status, order.cancel and
//   userDataStream.subscribe;
// - the legacy listenKey flow (POST/PUT/DELETE /api/v3/userDataStream, /ws/<listenKey>).
//
// Trades on ETHBTC between users made for this file, inside the spread other files left
// (wslib.mjs freeWindow); every order is filled or cancelled before its test ends.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Spot } from '@binance/spot';
import {
  SIGNED, WS_URL, dec, deposit, fmt, formEncode, hmacHex, makePro, noteSecret,
  rawRequest, sum, totals, until, within,
} from './lib.mjs';
import {
  SYMBOL, TICK, cancelAll, closeSockets, freeWindow, openSocket, order, price, rawSocket, signed,
  sleep, trader, tradesOf,
} from './wslib.mjs';

after(closeSockets); // whatever a failed test left open, so the file can end

const WS_API = `${WS_URL}/ws-api/v3`;
const CCXT_SYMBOL = 'ETH/BTC';

// userDataStream.subscribe.signature params for `user`, signed as ccxt signs them (the
// parameters sorted by name, raw values).
function subscribeSignatureParams(user) {
  const params = { apiKey: user.apiKey, timestamp: Date.now() };
  const payload = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  return { ...params, signature: hmacHex(user.apiSecret, payload) };
}

// A raw /ws-api/v3 connection subscribed to `user`'s events; resolves the socket once the
// subscribe answer came (and checks its envelope).
async function subscribeRaw(user, id = 'sub1') {
  const s = await openSocket(WS_API);
  s.send({ id, method: 'userDataStream.subscribe.signature', params: subscribeSignatureParams(user) });
  const ack = await s.next();
  assert.equal(ack.id, id, JSON.stringify(ack));
  assert.equal(ack.status, 200, JSON.stringify(ack));
  assert.equal(typeof ack.result.subscriptionId, 'number', JSON.stringify(ack));
  s.subscriptionId = ack.result.subscriptionId;
  return s;
}

// The events of a WS API subscription (unwrapped), checking the wrapper.
function events(s) {
  return s.messages.filter((m) => 'event' in m).map((m) => {
    assert.equal(m.subscriptionId, s.subscriptionId, JSON.stringify(m));
    return m.event;
  });
}

const reports = (evs, orderId) => evs.filter((e) => e.e === 'executionReport' && e.i === orderId);

describe('user data: raw WebSocket API subscription', { skip: SIGNED }, () => {
  let maker;
  let taker;
  let other;
  let win;
  before(async () => {
    maker = await trader('ud-maker');
    taker = await trader('ud-taker');
    other = await trader('ud-other');
    win = await freeWindow();
  });
  after(async () => {
    if (maker) await cancelAll([maker, taker, other]);
  });

  test('executionReport NEW, one TRADE per fill, outboundAccountPosition; ids and amounts match REST; others see nothing',
    async () => {
      const t = await subscribeRaw(taker);
      const m = await subscribeRaw(maker);
      const o = await subscribeRaw(other);
      const p1 = win.lo + 20n * TICK;
      const p2 = win.lo + 21n * TICK;
      const ask1 = await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.020', price: price(p1) });
      const ask2 = await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.050', price: price(p2) });
      const bid = await order(taker, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.040',
        price: price(p2), newOrderRespType: 'FULL', newClientOrderId: 'ud-taker-1' });
      assert.equal(bid.status, 'FILLED');

      // Taker: NEW, TRADE (PARTIALLY_FILLED), TRADE (FILLED), then an account position.
      const mine = await tradesOf(taker, bid.orderId, 2);
      const got = await until(() => {
        const evs = events(t);
        const last = evs.findLastIndex((e) => e.e === 'outboundAccountPosition');
        return reports(evs, bid.orderId).length >= 3 && last > evs.findLastIndex((e) => e.e === 'executionReport')
          ? evs : undefined;
      }, 5000, () => `taker events: ${JSON.stringify(events(t))}`);
      const er = reports(got, bid.orderId);
      assert.deepEqual(er.map((e) => [e.x, e.X]), [['NEW', 'NEW'], ['TRADE', 'PARTIALLY_FILLED'], ['TRADE', 'FILLED']]);
      for (const e of er) {
        assert.equal(e.s, SYMBOL);
        assert.equal(e.c, 'ud-taker-1');
        assert.equal(e.S, 'BUY');
        assert.equal(e.o, 'LIMIT');
        assert.equal(e.f, 'GTC');
        assert.equal(dec(e.q), dec('0.04'));
        assert.equal(dec(e.p), p2);
        assert.equal(e.g, -1);
        assert.equal(e.C, '');
        assert.equal(e.r, 'NONE');
        assert.equal(typeof e.E, 'number');
        assert.equal(typeof e.O, 'number');
      }
      assert.equal(er[0].t, -1);
      assert.equal(dec(er[0].l), 0n);
      assert.equal(er[0].w, true);
      const fills = er.slice(1);
      assert.deepEqual(fills.map((e) => e.t), mine.map((x) => x.id), 'executionReport t = myTrades id');
      assert.deepEqual(fills.map((e) => fmt(dec(e.L))), mine.map((x) => fmt(dec(x.price))));
      assert.deepEqual(fills.map((e) => fmt(dec(e.l))), mine.map((x) => fmt(dec(x.qty))));
      assert.deepEqual(fills.map((e) => fmt(dec(e.n))), mine.map((x) => fmt(dec(x.commission))));
      assert.deepEqual(fills.map((e) => e.N), mine.map((x) => x.commissionAsset));
      assert.deepEqual(fills.map((e) => e.m), [false, false], 'the taker side');
      const rest = await signed(taker, 'GET', '/api/v3/order', { symbol: SYMBOL, orderId: bid.orderId });
      assert.equal(fmt(sum(fills.map((e) => dec(e.l)))), fmt(dec(rest.executedQty)), 'sum of l = executedQty');
      assert.equal(fmt(dec(er.at(-1).z)), fmt(dec(rest.executedQty)), 'final z = executedQty');
      assert.equal(fmt(dec(er.at(-1).Z)), fmt(dec(rest.cummulativeQuoteQty)), 'final Z');
      for (const e of fills) assert.equal(dec(e.Y), dec(e.L) * dec(e.l) / 10n ** 8n, 'Y = L x l');
      const ids = new Set(er.map((e) => e.I));
      assert.equal(ids.size, 3, 'execution ids are distinct');

      // The last account position equals GET account for the assets it lists.
      const pos = got.findLast((e) => e.e === 'outboundAccountPosition');
      const account = await signed(taker, 'GET', '/api/v3/account', {});
      const byAsset = Object.fromEntries(account.balances.map((b) => [b.asset, b]));
      const listed = pos.B.map((b) => b.a).sort();
      assert.ok(listed.includes('ETH') && listed.includes('BTC'), `assets: ${listed}`);
      for (const b of pos.B) {
        assert.equal(fmt(dec(b.f)), fmt(dec(byAsset[b.a].free)), `${b.a} free`);
        assert.equal(fmt(dec(b.l)), fmt(dec(byAsset[b.a].locked)), `${b.a} locked`);
      }

      // Maker: ask1 filled (maker side), ask2 partially.
      const mevs = await until(() => {
        const evs = events(m);
        return reports(evs, ask2.orderId).some((e) => e.x === 'TRADE') ? evs : undefined;
      }, 5000, () => `maker events: ${JSON.stringify(events(m))}`);
      assert.deepEqual(reports(mevs, ask1.orderId).map((e) => e.X), ['NEW', 'FILLED']);
      assert.deepEqual(reports(mevs, ask2.orderId).map((e) => e.X), ['NEW', 'PARTIALLY_FILLED']);
      assert.ok(reports(mevs, ask1.orderId)[1].m, 'maker fill has m=true');

      // A cancel: CANCELED with the cancel's client id in c and the original in C.
      await signed(maker, 'DELETE', '/api/v3/order', { symbol: SYMBOL, orderId: ask2.orderId,
        newClientOrderId: 'ud-cancel-1' });
      const cancel = await until(() => reports(events(m), ask2.orderId).find((e) => e.x === 'CANCELED'),
        5000, () => `CANCELED: ${JSON.stringify(events(m).slice(-3))}`);
      assert.equal(cancel.X, 'CANCELED');
      assert.equal(cancel.c, 'ud-cancel-1');
      assert.equal(cancel.C, ask2.clientOrderId, 'C is the order\'s own client id');

      // Isolation: the third user's subscription got nothing of all this.
      await sleep(300);
      assert.deepEqual(events(o), []);
      for (const s of [t, m, o]) s.ws.close();
    });

  test('a deposit sends balanceUpdate; unsubscribe ends the subscription', async () => {
    const s = await subscribeRaw(other, 7);
    await deposit(other.userId, 'BTC', '0.125');
    const bu = await until(() => events(s).find((e) => e.e === 'balanceUpdate'), 5000,
      () => `balanceUpdate: ${JSON.stringify(s.messages)}`);
    assert.equal(bu.a, 'BTC');
    assert.equal(fmt(dec(bu.d)), '0.12500000');
    assert.equal(typeof bu.T, 'number');
    s.send({ id: 8, method: 'userDataStream.unsubscribe', params: {} });
    const answer = await until(() => s.messages.find((x) => x.id === 8), 5000, () => 'unsubscribe answer');
    assert.equal(answer.status, 200, JSON.stringify(answer));
    await until(() => events(s).find((e) => e.e === 'eventStreamTerminated'), 5000,
      () => `eventStreamTerminated: ${JSON.stringify(s.messages)}`);
    const before = s.messages.length;
    await deposit(other.userId, 'BTC', '0.001');
    await sleep(500);
    assert.equal(s.messages.length, before, 'no event after unsubscribe');
    s.ws.close();
  });

  test('a bad signature or unknown key is refused with Binance errors', async () => {
    const s = await openSocket(WS_API);
    const params = subscribeSignatureParams(other);
    s.send({ id: 'a', method: 'userDataStream.subscribe.signature', params: { ...params, signature: '0'.repeat(64) } });
    const bad = await s.next();
    assert.equal(bad.id, 'a');
    assert.equal(bad.status, 400, JSON.stringify(bad));
    assert.equal(bad.error.code, -1022, JSON.stringify(bad));
    s.send({ id: 'b', method: 'userDataStream.subscribe.signature',
      params: { ...subscribeSignatureParams(other), apiKey: 'x'.repeat(64) } });
    const unknown = await s.next();
    assert.equal(unknown.status, 401, JSON.stringify(unknown));
    assert.equal(unknown.error.code, -2015, JSON.stringify(unknown));
    s.send({ id: 'c', method: 'no.such.method', params: {} });
    const nomethod = await s.next();
    assert.equal(nomethod.id, 'c');
    assert.equal(nomethod.status, 400, JSON.stringify(nomethod));
    assert.deepEqual(nomethod.error, { code: -1020, msg: 'This operation is not supported.' });
    s.ws.close();
  });
});

describe('user data: ccxt pro watchOrders, watchMyTrades, watchBalance', { skip: SIGNED }, () => {
  let maker;
  let taker;
  let pro;
  let win;
  before(async () => {
    maker = await trader('ud-ccxt-maker');
    taker = await trader('ud-ccxt-taker');
    win = await freeWindow();
    pro = makePro(taker);
    await pro.loadHttpProxyAgent();
    await pro.loadMarkets();
  });
  after(async () => {
    if (pro) await within(pro.close(), 5000, 'closing ccxt pro');
    if (maker) await cancelAll([maker, taker]);
  });

  test('orders, trades and balances from the WebSocket API match REST', async () => {
    assert.equal(pro.urls.api.ws['ws-api'].spot, WS_API, 'ccxt subscribes on the gateway');
    // The first watch* calls subscribe (userDataStream.subscribe.signature); each resolves on
    // the first matching event, so they are awaited once, bounded, and the caches read after.
    const firstOrder = within(pro.watchOrders(CCXT_SYMBOL), 10000, 'watchOrders');
    const firstTrade = within(pro.watchMyTrades(CCXT_SYMBOL), 10000, 'watchMyTrades');
    const firstBalance = within(pro.watchBalance(), 10000, 'watchBalance');
    const client = () => pro.clients[WS_API];
    await until(() => (client()?.subscriptions?.spot === true &&
      !('authenticate:signature:spot' in client().futures) ? true : undefined), 10000,
    () => 'the userDataStream.subscribe.signature answer');

    const p1 = win.lo + 30n * TICK;
    const p2 = win.lo + 31n * TICK;
    await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.020', price: price(p1) });
    await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.030', price: price(p2) });
    const bid = await order(taker, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.050',
      price: price(p2), newOrderRespType: 'FULL' });
    assert.equal(bid.status, 'FILLED');
    await Promise.all([firstOrder, firstTrade, firstBalance]);

    // watchOrders: the order, closed, with REST's id and amounts.
    const o = await until(() => {
      const x = Array.from(pro.orders ?? []).find((y) => y.id === String(bid.orderId));
      return x && x.status === 'closed' ? x : undefined;
    }, 5000, () => `ccxt orders: ${JSON.stringify(Array.from(pro.orders ?? []).map((y) => [y.id, y.status]))}`);
    assert.equal(o.symbol, CCXT_SYMBOL);
    assert.equal(o.side, 'buy');
    assert.equal(o.filled, 0.05);
    assert.equal(o.remaining, 0);

    // watchMyTrades: both fills, with the ids of myTrades.
    const mine = await tradesOf(taker, bid.orderId, 2);
    const trades = await until(() => {
      const xs = Array.from(pro.myTrades ?? []).filter((y) => y.order === String(bid.orderId));
      return xs.length >= 2 ? xs : undefined;
    }, 5000, () => `ccxt myTrades: ${JSON.stringify(Array.from(pro.myTrades ?? []).map((y) => y.id))}`);
    assert.deepEqual(trades.map((x) => x.id).sort(), mine.map((x) => String(x.id)).sort());
    assert.deepEqual(trades.map((x) => x.price).sort(), [Number(fmt(p1)), Number(fmt(p2))].sort());

    // watchBalance: after the fill it equals GET account (ETH and BTC totals).
    const account = totals(await signed(taker, 'GET', '/api/v3/account', {}));
    await until(() => {
      const b = pro.balance?.spot ?? pro.balance;
      return b?.ETH && b?.BTC && dec(String(b.ETH.total.toFixed(8))) === account.ETH &&
        dec(String(b.BTC.total.toFixed(8))) === account.BTC ? true : undefined;
    }, 5000, () => `ccxt balance ${JSON.stringify((pro.balance?.spot ?? pro.balance)?.ETH)} ` +
      `${JSON.stringify((pro.balance?.spot ?? pro.balance)?.BTC)} vs account ETH ${fmt(account.ETH)} BTC ${fmt(account.BTC)}`);
  });
});

// Ed25519 key pair for /api/v1/apiKeys (type=ED25519): the PEM public key with its line breaks
// sent as spaces (docs/api-v1.md), and the PEM private key for @binance/spot.
function ed25519Pair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

async function addEd25519Key(user) {
  const pair = ed25519Pair();
  const res = await rawRequest({ method: 'POST', path: '/api/v1/apiKeys',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${user.token}` },
    body: formEncode({ type: 'ED25519', permissions: 'READ,TRADE',
      publicKey: pair.publicPem.trim().replace(/\n/g, ' ') }) });
  assert.equal(res.status, 200, `ED25519 apiKeys: ${res.text}`);
  return { apiKey: res.json.apiKey, privateKey: pair.privatePem };
}

describe('user data: @binance/spot WebsocketAPI', { skip: SIGNED }, () => {
  let maker;
  let taker;
  let win;
  const conns = [];
  before(async () => {
    maker = await trader('ud-spot-maker');
    taker = await trader('ud-spot-taker');
    win = await freeWindow();
  });
  after(async () => {
    for (const c of conns) await within(c.disconnect(), 5000, 'WebsocketAPI disconnect');
    if (maker) await cancelAll([maker, taker]);
  });

  // Calls go back to back, as an application would send them: the WebSocket API allows 100
  // incoming messages per second per connection (docs/websocket-api.md).
  const call = (what, promise) => within(promise, 5000, what);

  async function connect(config) {
    const client = new Spot({ configurationWebsocketAPI: { wsURL: WS_API, timeout: 5000, ...config } });
    const conn = await within(client.websocketAPI.connect(), 10000, 'websocketAPI.connect');
    conns.push(conn);
    return conn;
  }

  for (const keyType of ['HMAC', 'ED25519']) {
    test(`${keyType}: session.logon, order.place, order.status, openOrders.status, account.status, ` +
      'userDataStream.subscribe, order.cancel', async () => {
      const key = keyType === 'HMAC' ? { apiKey: maker.apiKey, apiSecret: maker.apiSecret }
        : await addEd25519Key(maker);
      const conn = await connect(key);
      const logon = await call('sessionLogon', conn.sessionLogon());
      assert.ok(Array.isArray(logon) && logon.length === 1, 'one answer per pooled connection');
      assert.equal(logon[0].data.apiKey, key.apiKey);
      assert.equal(typeof logon[0].data.authorizedSince, 'number');

      const { response, stream } = await call('userDataStreamSubscribe', conn.userDataStreamSubscribe());
      assert.equal(typeof response.data.subscriptionId, 'number');
      const evs = [];
      stream.on('message', (e) => evs.push(e));

      const p = win.lo + 40n * TICK;
      const placed = (await call('orderPlace', conn.orderPlace({ symbol: SYMBOL, side: 'SELL', type: 'LIMIT',
        timeInForce: 'GTC', quantity: 0.05, price: Number(price(p)) }))).data;
      assert.equal(placed.symbol, SYMBOL);
      assert.equal(placed.status, 'NEW');
      const id = placed.orderId;

      const status = (await call('orderStatus', conn.orderStatus({ symbol: SYMBOL, orderId: id }))).data;
      assert.equal(status.orderId, id);
      assert.equal(status.status, 'NEW');
      assert.equal(dec(status.price), p);
      const open = (await call('openOrdersStatus', conn.openOrdersStatus({ symbol: SYMBOL }))).data;
      assert.deepEqual(open.map((x) => x.orderId), [id]);
      const acct = await call('accountStatus', conn.accountStatus());
      const rest = await signed(maker, 'GET', '/api/v3/account', {});
      assert.deepEqual(totals(acct.data), totals(rest));
      assert.ok(Array.isArray(acct.rateLimits), 'rateLimits reported');

      // A fill by the taker through REST reaches the maker's subscription.
      await order(taker, { side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', quantity: '0.020', price: price(p) });
      const trade = await until(() => evs.find((e) => e.e === 'executionReport' && e.i === id && e.x === 'TRADE'),
        5000, () => `executionReport TRADE: ${JSON.stringify(evs)}`);
      assert.equal(trade.X, 'PARTIALLY_FILLED');
      assert.equal(fmt(dec(trade.l)), '0.02000000');
      assert.ok(evs.some((e) => e.e === 'executionReport' && e.i === id && e.x === 'NEW'), 'NEW came first');

      const canceled = (await call('orderCancel', conn.orderCancel({ symbol: SYMBOL, orderId: id }))).data;
      assert.equal(canceled.status, 'CANCELED');
      assert.equal(fmt(dec(canceled.executedQty)), '0.02000000');
      await until(() => evs.find((e) => e.e === 'executionReport' && e.i === id && e.x === 'CANCELED'),
        5000, () => `executionReport CANCELED: ${JSON.stringify(evs.slice(-2))}`);
    });
  }

  test('errors carry Binance codes: unknown order, insufficient balance', async () => {
    const conn = await connect({ apiKey: taker.apiKey, apiSecret: taker.apiSecret });
    await call('sessionLogon', conn.sessionLogon());
    let err = null;
    try {
      await call('orderStatus', conn.orderStatus({ symbol: SYMBOL, orderId: 999999999 }));
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'orderStatus of an unknown order must fail');
    assert.equal(err.code ?? err.error?.code, -2013, `${err.message} ${JSON.stringify(err)}`);
  });
});

describe('user data: legacy listenKey flow', { skip: SIGNED }, () => {
  let maker;
  let taker;
  let win;
  before(async () => {
    maker = await trader('ud-lk-maker');
    taker = await trader('ud-lk-taker');
    win = await freeWindow();
  });
  after(async () => {
    if (maker) await cancelAll([maker, taker]);
  });

  const keyCall = (user, method, query = '') => rawRequest({ method,
    path: `/api/v3/userDataStream${query}`, headers: { 'X-MBX-APIKEY': user.apiKey } });

  test('POST gives a listenKey; /ws/<listenKey> gets executionReport and outboundAccountPosition; PUT; DELETE ends it',
    async () => {
      const created = await keyCall(taker, 'POST');
      assert.equal(created.status, 200, created.text);
      const { listenKey } = created.json;
      assert.match(listenKey, /^[A-Za-z0-9]{64}$/);
      noteSecret(listenKey);
      const again = await keyCall(taker, 'POST');
      assert.equal(again.json.listenKey, listenKey, 'an open key is returned again');

      const s = await openSocket(`/ws/${listenKey}`);
      const c = await openSocket(`/stream?streams=${listenKey}`);
      await sleep(200);
      const p = win.lo + 50n * TICK;
      await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: price(p) });
      const bid = await order(taker, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: price(p) });
      const got = await until(() => {
        const er = s.messages.filter((e) => e.e === 'executionReport' && e.i === bid.orderId);
        return er.length >= 2 && s.messages.some((e) => e.e === 'outboundAccountPosition') ? s.messages : undefined;
      }, 5000, () => `listenKey events: ${JSON.stringify(s.messages)}`);
      assert.ok(got.every((e) => !('subscriptionId' in e)), 'no WS API wrapper on /ws/<listenKey>');
      assert.deepEqual(got.filter((e) => e.e === 'executionReport').map((e) => e.X), ['NEW', 'FILLED']);
      const combined = await until(() => (c.messages.some((x) => x.data?.e === 'outboundAccountPosition')
        ? c.messages : undefined), 5000, () => `combined: ${JSON.stringify(c.messages)}`);
      for (const x of combined) assert.equal(x.stream, listenKey);

      const put = await keyCall(taker, 'PUT', `?listenKey=${listenKey}`);
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.json, {});
      const other = await trader('ud-lk-other');
      const foreign = await keyCall(other, 'PUT', `?listenKey=${listenKey}`);
      assert.equal(foreign.status, 400, `another user's key: ${foreign.text}`);
      assert.equal(foreign.json.code, -1125, foreign.text);

      const del = await keyCall(taker, 'DELETE', `?listenKey=${listenKey}`);
      assert.equal(del.status, 200, del.text);
      assert.deepEqual(del.json, {});
      const closed = await within(s.closed, 5000, 'the listenKey connection ending after DELETE');
      assert.ok(closed.code === 1000 || closed.code === 1006, `close ${closed.code} ${closed.reason}`);
      await within(c.closed, 5000, 'the combined connection ending after DELETE');

      // The deleted key no longer gives a stream: refused, or closed without events.
      const r = rawSocket(`/ws/${listenKey}`);
      const outcome = await within(
        r.opened.then(() => ({ opened: true }), (e) => ({ refused: e.message })),
        5000, 'reconnecting with a deleted listenKey');
      if (outcome.opened) r.ws.close();
      assert.match(outcome.refused ?? '', /HTTP 400/, `reconnect: ${JSON.stringify(outcome)}`);
      const putGone = await keyCall(taker, 'PUT', `?listenKey=${listenKey}`);
      assert.equal(putGone.status, 400, putGone.text);
      assert.equal(putGone.json.code, -1125, putGone.text);
    });

  test('POST without an API key is refused', async () => {
    const res = await rawRequest({ method: 'POST', path: '/api/v3/userDataStream' });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json.code, -2014, res.text);
  });
});
