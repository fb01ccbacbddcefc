// Market streams over WebSocket (issue 5, first part) with the real clients: ccxt pro's
// watchOrderBook / watchTrades / watchTicker / watchOHLCV against orders placed through REST,
// and Binance's control protocol over a raw WebSocket (ids echoed with their JSON type,
// LIST_SUBSCRIPTIONS, SET/GET_PROPERTY, error codes 2 and 3, the combined envelope).
// Trades on BNBUSDT between two users made for this file, so other files' books are untouched.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SIGNED, WS_URL, createUser, deposit, makePro, until, within } from './lib.mjs';

const SYM = 'BNB/USDT';

// A raw WebSocket whose messages are queued; next() waits for the next one (JSON-parsed).
function rawSocket(path) {
  const ws = new WebSocket(`${WS_URL}${path}`);
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (waiters.length) waiters.shift()(msg); else queue.push(msg);
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const next = (ms = 5000) => (queue.length ? Promise.resolve(queue.shift())
    : new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no message')), ms);
      waiters.push((m) => { clearTimeout(t); resolve(m); });
    }));
  return { ws, opened, next, send: (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)) };
}

describe('market streams: ccxt pro', { skip: SIGNED }, () => {
  let maker, taker, a, b;
  before(async () => {
    maker = await createUser('ws-maker');
    taker = await createUser('ws-taker');
    await deposit(maker.userId, 'BNB', '100');
    await deposit(taker.userId, 'USDT', '100000');
    a = makePro(taker);
    b = makePro(maker);
    await a.loadHttpProxyAgent();
    await b.loadHttpProxyAgent();
  });
  after(async () => {
    await within(Promise.all([a?.close(), b?.close()]), 5000, 'closing the ccxt pro clients');
  });

  // ccxt pro resolves a watch* promise only for a message that arrives while someone waits
  // (Client.resolve drops it otherwise), so a second watch* call after the messages came would
  // wait forever. Each wait here is bounded, and what the stream delivered is read from ccxt's
  // caches (orderbooks, trades) by polling until a deadline.
  test('watchOrderBook follows the book; watchTrades sees the trades with myTrades ids', async () => {
    const firstBook = within(a.watchOrderBook(SYM), 10000, 'watchOrderBook');
    const firstTrades = within(a.watchTrades(SYM), 10000, 'watchTrades');
    await new Promise((r) => setTimeout(r, 300));
    await b.createOrder(SYM, 'limit', 'sell', 1, 610);
    await b.createOrder(SYM, 'limit', 'sell', 2, 611);
    await firstBook;
    await a.createOrder(SYM, 'market', 'buy', 1.5);
    const trades = await firstTrades;
    assert.ok(trades.length >= 1);
    // The streamed book must come to equal REST depth (the same update-id counter).
    const top = (side) => Array.from(side).slice(0, 5).map(([p, q]) => [p, q]);
    const rest = await a.fetchOrderBook(SYM);
    const book = await until(() => {
      const b2 = a.orderbooks[SYM];
      return (b2?.nonce ?? 0) >= rest.nonce ? b2 : undefined;
    }, 5000, () => `streamed book at ${a.orderbooks[SYM]?.nonce}, REST at ${rest.nonce}`);
    assert.deepEqual(top(book.asks), top(rest.asks));
    assert.deepEqual(top(book.bids), top(rest.bids));
    assert.equal(book.asks[0][0], 611);  // 610 was taken
    // Both trades reach the stream, with the ids of myTrades.
    const streamed = await until(() => {
      const all = Array.from(a.trades[SYM] ?? []);
      return all.some((t) => t.price === 610) && all.some((t) => t.price === 611) ? all : undefined;
    }, 5000, () => `streamed trades: ${JSON.stringify(Array.from(a.trades[SYM] ?? []).map((t) => t.price))}`);
    const mine = await a.fetchMyTrades(SYM);
    for (const t of streamed.slice(-2)) {
      assert.ok(mine.some((m) => m.id === t.id), `stream trade ${t.id} in myTrades`);
    }
  });

  test('watchTicker and watchOHLCV carry the last trade', async () => {
    // Both streams are periodic (1 s and 2 s), so the next message comes without a trade.
    const ticker = await within(a.watchTicker(SYM), 10000, 'watchTicker');
    assert.equal(ticker.last, 611);
    const bars = await within(a.watchOHLCV(SYM, '1m'), 10000, 'watchOHLCV');
    assert.equal(bars[bars.length - 1][4], 611);  // close
  });
});

describe('market streams: Binance control protocol', () => {
  test('SUBSCRIBE acks echo the id with its JSON type; LIST_SUBSCRIPTIONS; properties', async () => {
    const s = rawSocket('/ws/0');
    await s.opened;
    s.send({ method: 'SUBSCRIBE', params: ['btcusdt@trade', 'btcusdt@depth@100ms'], id: 7 });
    assert.deepEqual(await s.next(), { result: null, id: 7 });
    s.send({ method: 'LIST_SUBSCRIPTIONS', id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' });
    const list = await s.next();
    assert.equal(list.id, 'a1b2c3d4e5f60718293a4b5c6d7e8f90');
    assert.deepEqual([...list.result].sort(), ['btcusdt@depth@100ms', 'btcusdt@trade']);
    s.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@trade'], id: 8 });
    assert.deepEqual(await s.next(), { result: null, id: 8 });
    s.send({ method: 'GET_PROPERTY', params: ['combined'], id: 9 });
    assert.deepEqual(await s.next(), { result: false, id: 9 });
    s.send({ method: 'SET_PROPERTY', params: ['combined', true], id: 10 });
    assert.deepEqual(await s.next(), { result: null, id: 10 });
    s.ws.close();
  });

  test('bad control messages get Binance errors and the connection stays usable', async () => {
    const s = rawSocket('/ws');
    await s.opened;
    s.send('{not json');
    assert.equal((await s.next()).code, 3);
    s.send({ method: 'FLY', params: [], id: 1 });
    assert.equal((await s.next()).code, 2);
    s.send({ method: 'SUBSCRIBE', params: ['nosuchsymbol@trade'], id: 2 });
    assert.equal((await s.next()).code, 2);
    s.send({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'], id: 3 });
    assert.deepEqual(await s.next(), { result: null, id: 3 });
    s.ws.close();
  });

  test('/stream?streams= uses the combined envelope; an unknown stream refuses the upgrade', async () => {
    const s = rawSocket('/stream?streams=btcusdt@depth5@100ms');
    await s.opened;
    const msg = await s.next(3000);
    assert.equal(msg.stream, 'btcusdt@depth5@100ms');
    assert.ok(Array.isArray(msg.data.bids) && Array.isArray(msg.data.asks));
    assert.equal(typeof msg.data.lastUpdateId, 'number');
    s.ws.close();
    const bad = rawSocket('/stream?streams=btcusdt@nonsense');
    await assert.rejects(bad.opened, /HTTP 400/);
  });
});
