// Market streams with @binance/spot's WebsocketStreams (trade, bookTicker, kline, and depth
// diffs kept as a local order book by Binance's documented procedure, across a reconnect), and
// malformed input (binary, invalid UTF-8, oversized, too fast, unmasked, unknown method or
// stream) answered with Binance's error or the documented close code (docs/gateway-http.md
// "WebSocket", docs/streams.md), after which the gateway still serves.
//
// The slow consumer is in slowconsumer.test.mjs: node --test's timeout applies to a whole file
// too, and it needs most of one.
//
// Trades on ETHBTC between users made for this file, at prices strictly inside whatever spread
// the earlier files left, so no order here matches another file's order; every order placed
// here is filled or cancelled before its test ends (wslib.mjs).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Spot } from '@binance/spot';
import { BASE_URL, SIGNED, WS_URL, dec, fmt, rawRequest, signedRequest, until, within } from './lib.mjs';
import {
  LOWER, SYMBOL, TICK, cancelAll, closeSockets, freeWindow, order, price, publicGet, rand,
  rawSocket, signed, sleep, trader, tradesOf,
} from './wslib.mjs';

after(closeSockets); // whatever a failed test left open, so the file can end

async function assertHealthy() {
  const res = await rawRequest({ path: '/health' });
  assert.equal(res.status, 200, `/health after the test: ${res.status} ${res.text}`);
  // And the stream endpoint still serves a new connection.
  const s = rawSocket('/ws');
  await within(s.opened, 5000, 'a new /ws connection');
  s.send({ method: 'LIST_SUBSCRIPTIONS', id: 1 });
  assert.deepEqual(await s.next(), { result: [], id: 1 });
  s.ws.close();
}

// ---------------------------------------------------------------------------------------------
// Local order book (BINANCE_API.md §8 "The client's sync procedure"), fed by @binance/spot.

class LocalBook {
  constructor(api) {
    this.api = api;
    this.buffer = [];
    this.book = null; // {id, bids: Map price->qty, asks}
    this.errors = [];
    this.events = 0;
  }

  onDiff(d) {
    this.events += 1;
    if ('pu' in d) this.errors.push(`spot depth event with pu: ${JSON.stringify(d)}`);
    if (d.e !== 'depthUpdate' || d.s !== SYMBOL) this.errors.push(`not an ETHBTC diff: ${JSON.stringify(d)}`);
    if (!this.book) this.buffer.push(d); else this.apply(d);
  }

  apply(d) {
    if (d.u <= this.book.id) return;
    if (d.U > this.book.id + 1) {
      this.errors.push(`gap: book at ${this.book.id}, next event U=${d.U} u=${d.u}`);
      return;
    }
    for (const [side, levels] of [['bids', d.b], ['asks', d.a]]) {
      for (const [p, q] of levels) {
        if (dec(q) === 0n) this.book[side].delete(p); else this.book[side].set(p, q);
      }
    }
    this.book.id = d.u;
  }

  // Steps 2-4: a REST snapshot no older than the first buffered event, then the buffer.
  async sync() {
    await until(() => (this.buffer.length ? true : undefined), 10000, () => 'a first depth diff');
    for (let attempt = 0; ; attempt++) {
      const snap = await (await this.api.depth({ symbol: SYMBOL, limit: 1000 })).data();
      if (snap.lastUpdateId + 1 < this.buffer[0].U) {
        assert.ok(attempt < 20, 'REST depth never caught up with the stream');
        await sleep(100);
        continue;
      }
      this.book = { id: snap.lastUpdateId, bids: new Map(snap.bids), asks: new Map(snap.asks) };
      const pending = this.buffer.filter((d) => d.u > snap.lastUpdateId);
      this.buffer = [];
      if (pending.length) {
        assert.ok(pending[0].U <= snap.lastUpdateId + 1 && snap.lastUpdateId + 1 <= pending[0].u,
          `first event after the snapshot ${snap.lastUpdateId}: U=${pending[0].U} u=${pending[0].u}`);
      }
      for (const d of pending) this.apply(d);
      return;
    }
  }

  reset() {
    this.book = null;
    this.buffer = [];
  }
}

// Levels as sorted [price, qty] pairs of exact decimals, for comparing books.
const levels = (entries) => [...entries].map(([p, q]) => [fmt(dec(p)), fmt(dec(q))])
  .sort((x, y) => (dec(x[0]) < dec(y[0]) ? -1 : 1));

// Waits until REST depth and the local book are at the same update id, then compares them.
async function assertBookMatchesRest(local, spotApi) {
  let snap;
  await until(async () => {
    snap = await (await spotApi.depth({ symbol: SYMBOL, limit: 1000 })).data();
    return local.book && local.book.id === snap.lastUpdateId ? true : undefined;
  }, 10000, () => `local book at ${local.book?.id}, REST depth at ${snap?.lastUpdateId}`);
  assert.deepEqual(local.errors, []);
  assert.deepEqual(levels(local.book.bids), levels(snap.bids), `bids at ${snap.lastUpdateId}`);
  assert.deepEqual(levels(local.book.asks), levels(snap.asks), `asks at ${snap.lastUpdateId}`);
}

describe('@binance/spot WebsocketStreams', { skip: SIGNED }, () => {
  let maker;
  let taker;
  let client;
  let conn;
  let win;
  before(async () => {
    maker = await trader('wsc-maker');
    taker = await trader('wsc-taker');
    win = await freeWindow();
    client = new Spot({
      configurationRestAPI: { basePath: BASE_URL, timeout: 5000, retries: 0 },
      configurationWebsocketStreams: { wsURL: WS_URL, reconnectDelay: 500 },
    });
    conn = await within(client.websocketStreams.connect(), 10000, 'websocketStreams.connect');
  });
  after(async () => {
    if (conn) await within(conn.disconnect(), 5000, 'websocketStreams.disconnect');
    if (maker) await cancelAll([maker, taker]);
  });

  test('trade, bookTicker and kline_1m streams follow orders placed through REST', async () => {
    const trades = [];
    const tickers = [];
    const klines = [];
    conn.trade({ symbol: LOWER }).on('message', (d) => trades.push(d));
    await sleep(250); // SUBSCRIBE messages stay under 5 per second
    conn.bookTicker({ symbol: LOWER }).on('message', (d) => tickers.push(d));
    await sleep(250);
    conn.kline({ symbol: LOWER, interval: '1m' }).on('message', (d) => klines.push(d));
    await sleep(500); // the acks: @binance/spot does not wait for them

    const p1 = win.lo + 10n * TICK;
    const p2 = win.lo + 11n * TICK;
    await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.050',
      price: price(p2) });
    await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.020',
      price: price(p1) });
    // The best ask is now ours at p1.
    await until(() => (tickers.some((t) => dec(t.a) === p1 && dec(t.A) === dec('0.02')) ? true
      : undefined), 5000, () => `bookTicker with ask ${fmt(p1)}: ${JSON.stringify(tickers.at(-1))}`);
    // Takes all of p1 and 0.01 of p2: two trades.
    const taken = await order(taker, { side: 'BUY', type: 'LIMIT', timeInForce: 'IOC',
      quantity: '0.030', price: price(p2), newOrderRespType: 'FULL' });
    assert.equal(taken.status, 'FILLED');
    assert.equal(taken.fills.length, 2);

    const got = await until(() => (trades.length >= 2 ? trades.slice(-2) : undefined), 5000,
      () => `two trades, got ${JSON.stringify(trades)}`);
    const mine = await tradesOf(taker, taken.orderId, 2);
    assert.deepEqual(got.map((t) => t.t), mine.map((t) => t.id), 'stream t = myTrades id');
    assert.deepEqual(got.map((t) => t.t), taken.fills.map((f) => f.tradeId));
    for (const [i, t] of got.entries()) {
      assert.equal(t.e, 'trade');
      assert.equal(t.s, SYMBOL);
      assert.equal(dec(t.p), dec(mine[i].price));
      assert.equal(dec(t.q), dec(mine[i].qty));
      assert.equal(t.m, false, 'the buyer took: buyer is not the maker');
      assert.equal(typeof t.T, 'number');
    }

    // bookTicker: the ask is back at p2 with the rest of that order; it equals REST bookTicker.
    const last = await until(() => {
      const t = tickers.at(-1);
      return t && dec(t.a) === p2 && dec(t.A) === dec('0.04') ? t : undefined;
    }, 5000, () => `bookTicker with ask ${fmt(p2)} x 0.04: ${JSON.stringify(tickers.at(-1))}`);
    const rest = await publicGet(`/api/v3/ticker/bookTicker?symbol=${SYMBOL}`);
    assert.equal(last.s, SYMBOL);
    for (const k of ['b', 'B', 'a', 'A']) {
      const rk = { b: 'bidPrice', B: 'bidQty', a: 'askPrice', A: 'askQty' }[k];
      assert.equal(dec(last[k]), dec(rest[rk]), `bookTicker ${k}`);
    }
    const depth = await publicGet(`/api/v3/depth?symbol=${SYMBOL}&limit=1`);
    assert.equal(last.u, depth.lastUpdateId, 'bookTicker u is the book update id');
    const ids = tickers.map((t) => t.u);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'bookTicker u never goes back');

    // kline_1m (every 2 s): closes at the last trade price, counts the trades of the bar.
    const bar = await until(() => {
      const k = klines.at(-1)?.k;
      return k && k.L >= got[1].t ? k : undefined;
    }, 6000, () => `a kline with the trades: ${JSON.stringify(klines.at(-1))}`);
    assert.equal(klines.at(-1).e, 'kline');
    assert.equal(bar.s, SYMBOL);
    assert.equal(bar.i, '1m');
    assert.equal(dec(bar.c), p2);
    assert.ok(dec(bar.h) >= p2 && dec(bar.l) <= p1, `high/low ${bar.h}/${bar.l}`);
    assert.equal(bar.T - bar.t, 59999);
    await signed(maker, 'DELETE', '/api/v3/openOrders', { symbol: SYMBOL });
  });

  test('diffBookDepth kept as a local order book equals REST depth, also after a reconnect',
    async () => {
      const local = new LocalBook(makeRest());
      const stream = conn.diffBookDepth({ symbol: LOWER, updateSpeed: '100ms' });
      stream.on('message', (d) => local.onDiff(d));
      await sleep(500);
      const [seller1, buyer1] = [maker, taker];
      const seller2 = await trader('wsc-seller');
      const buyer2 = await trader('wsc-buyer');
      const mid = (win.lo + win.hi) / 2n;
      const flow = new RandomFlow([seller1, seller2], [buyer1, buyer2], mid);

      await flow.run(30);
      await local.sync();
      await flow.run(120);
      await assertBookMatchesRest(local, makeRest());
      assert.ok(local.events >= 100, `diff events seen: ${local.events}`);

      // Reconnect: a new stream (a new connection), a new snapshot, and the book matches again.
      stream.unsubscribe();
      await conn.disconnect();
      local.reset();
      await flow.run(20); // missed while disconnected
      conn = await within(client.websocketStreams.connect(), 10000, 'reconnect');
      conn.diffBookDepth({ symbol: LOWER, updateSpeed: '100ms' }).on('message', (d) => local.onDiff(d));
      await sleep(500);
      await flow.run(10);
      await local.sync();
      await flow.run(80);
      await assertBookMatchesRest(local, makeRest());

      // Everything cancelled: the book is back to what other files left.
      await cancelAll([seller1, seller2, buyer1, buyer2]);
      await assertBookMatchesRest(local, makeRest());
      assert.ok(![...local.book.asks.keys()].some((p) => dec(p) >= win.lo && dec(p) <= win.hi));
    });
});

const makeRest = () => new Spot({
  configurationRestAPI: { basePath: BASE_URL, timeout: 5000, retries: 0 },
}).restAPI;

// Random limit orders around `mid` from sellers and buyers (never the same user on both sides,
// so every match is between two users), some crossing, some cancelled later. All prices stay
// within 40 ticks of mid, inside the free window.
class RandomFlow {
  constructor(sellers, buyers, mid) {
    this.sellers = sellers;
    this.buyers = buyers;
    this.mid = mid;
    this.open = []; // [user, orderId]
  }

  async step() {
    const r = rand(10);
    if (r < 2 && this.open.length) {
      const [u, id] = this.open.splice(rand(this.open.length), 1)[0];
      const res = await rawRequest(signedRequest(u, 'DELETE', '/api/v3/order',
        { symbol: SYMBOL, orderId: id }, { localAddress: u.ip }));
      // -2011: it was filled meanwhile
      assert.ok(res.status === 200 || res.json?.code === -2011, `cancel: ${res.text}`);
      return;
    }
    const sell = rand(2) === 0;
    const users = sell ? this.sellers : this.buyers;
    const u = users[rand(users.length)];
    // Mostly resting on its own side, sometimes up to 5 ticks across.
    const off = BigInt(rand(25) - 5) * TICK;
    const p = sell ? this.mid + TICK + off : this.mid - TICK - off;
    const qty = `0.${String(10 + rand(90)).padStart(3, '0')}`;
    const res = await order(u, { side: sell ? 'SELL' : 'BUY', type: 'LIMIT', timeInForce: 'GTC',
      quantity: qty, price: price(p) });
    this.open.push([u, res.orderId]);
  }

  async run(n) {
    for (let i = 0; i < n; i++) await this.step();
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed and abusive input.

// A WebSocket handshake on a raw TCP socket, then `frame` (raw bytes); resolves the close code
// the server sent (null if none) and whether it closed the TCP connection within `ms`.
function rawFrame(frame, ms = 5000) {
  const url = new URL(BASE_URL);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const finish = (closedByServer) => {
      clearTimeout(timer);
      sock.destroy();
      const body = upgraded ? buf : Buffer.alloc(0);
      // Server frames are unmasked; look for a close frame (opcode 8) among them.
      let code = null;
      for (let i = 0; i + 1 < body.length;) {
        const op = body[i] & 0x0f;
        let len = body[i + 1] & 0x7f;
        let off = i + 2;
        if (len === 126) { len = body.readUInt16BE(off); off += 2; }
        if (len === 127) { len = Number(body.readBigUInt64BE(off)); off += 8; }
        if (op === 8 && len >= 2) code = body.readUInt16BE(off);
        i = off + len;
      }
      resolve({ code, closed: closedByServer });
    };
    const timer = setTimeout(() => finish(false), ms);
    sock.on('connect', () => sock.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Sec-WebSocket-Version: 13\r\n\r\n'));
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(head)) {
          clearTimeout(timer);
          sock.destroy();
          reject(new Error(`no upgrade: ${head}`));
          return;
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        sock.write(frame);
      }
    });
    sock.on('error', (e) => {
      if (upgraded) {
        finish(true);
      } else {
        clearTimeout(timer);
        reject(e);
      }
    });
    sock.on('end', () => finish(true));
  });
}

describe('malformed and abusive WebSocket input', () => {
  test('a binary message is closed with 1003', async () => {
    const s = rawSocket('/ws');
    await within(s.opened, 5000, 'open');
    s.ws.send(Buffer.from('{"method":"LIST_SUBSCRIPTIONS","id":1}'), { binary: true });
    const c = await within(s.closed, 5000, 'close');
    assert.equal(c.code, 1003);
    await assertHealthy();
  });

  test('a text message that is not UTF-8 is closed with 1007', async () => {
    const s = rawSocket('/ws');
    await within(s.opened, 5000, 'open');
    s.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    const c = await within(s.closed, 5000, 'close');
    assert.equal(c.code, 1007, `close ${c.code} ${c.reason}`);
    await assertHealthy();
  });

  test('a message over 4 KiB is closed with 1009', async () => {
    const s = rawSocket('/stream?streams=');
    await within(s.opened, 5000, 'open');
    const params = Array.from({ length: 300 }, (_, i) => `${LOWER}@kline_${i}`);
    const text = JSON.stringify({ method: 'SUBSCRIBE', params, id: 1 });
    assert.ok(text.length > 4096);
    s.send(text);
    const c = await within(s.closed, 5000, 'close');
    assert.equal(c.code, 1009);
    assert.equal(s.messages.length, 0, 'no reply to the oversized message');
    await assertHealthy();
  });

  test('a message of exactly 4 KiB is still served', async () => {
    const s = rawSocket('/ws');
    await within(s.opened, 5000, 'open');
    const base = JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 1, pad: '' });
    const text = JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 1, pad: 'x'.repeat(4096 - base.length) });
    assert.equal(text.length, 4096);
    s.send(text);
    assert.deepEqual(await s.next(), { result: [], id: 1 });
    s.ws.close();
  });

  test('more than 5 messages in a second are closed with 1008 "Too many requests"', async () => {
    const s = rawSocket('/ws');
    await within(s.opened, 5000, 'open');
    for (let i = 1; i <= 12; i++) s.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    const c = await within(s.closed, 5000, 'close');
    assert.equal(c.code, 1008);
    assert.equal(c.reason, 'Too many requests');
    assert.ok(s.messages.length <= 5, `${s.messages.length} replies before the close`);
    await assertHealthy();
  });

  test('5 messages a second are fine', async () => {
    const s = rawSocket('/ws');
    await within(s.opened, 5000, 'open');
    for (let i = 1; i <= 8; i++) {
      s.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
      assert.deepEqual(await s.next(), { result: [], id: i });
      await sleep(260);
    }
    s.ws.close();
  });

  test('an unmasked client frame and a reserved opcode are closed with 1002', async () => {
    const text = Buffer.from('{"method":"LIST_SUBSCRIPTIONS","id":1}');
    const unmasked = Buffer.concat([Buffer.from([0x81, text.length]), text]);
    const r1 = await rawFrame(unmasked);
    assert.equal(r1.code, 1002);
    assert.ok(r1.closed, 'TCP connection closed');
    const reserved = Buffer.from([0x83, 0x80, 1, 2, 3, 4]); // opcode 3, masked, empty
    const r2 = await rawFrame(reserved);
    assert.equal(r2.code, 1002);
    await assertHealthy();
  });

  test('unknown method, bad JSON and unknown streams get Binance errors; the connection stays usable',
    async () => {
      const s = rawSocket('/ws');
      await within(s.opened, 5000, 'open');
      s.send({ method: 'FLY', params: [], id: 1 });
      assert.deepEqual(await s.next(), { code: 2, msg: 'Invalid request: unknown variant `FLY`, ' +
        'expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`' });
      s.send('[1,');
      const bad = await s.next();
      assert.equal(bad.code, 3);
      assert.match(bad.msg, /^Invalid JSON: /);
      await sleep(1100);
      s.send({ method: 'SUBSCRIBE', params: ['nosuchusdt@trade'], id: 2 });
      assert.deepEqual(await s.next(), { code: 2, msg: 'Invalid request: unknown symbol `nosuchusdt`' });
      s.send({ method: 'SUBSCRIBE', params: [`${LOWER}@trade`, `${LOWER}@nonsense`], id: 3 });
      assert.deepEqual(await s.next(), { code: 2, msg: `Invalid request: invalid stream name \`${LOWER}@nonsense\`` });
      s.send({ method: 'LIST_SUBSCRIPTIONS', id: 4 });
      assert.deepEqual(await s.next(), { result: [], id: 4 }, 'all-or-nothing: nothing subscribed');
      await sleep(1100);
      s.send({ method: 'SUBSCRIBE', params: [`${LOWER}@trade`], id: 5 });
      assert.deepEqual(await s.next(), { result: null, id: 5 });
      s.ws.close();

      // In the URL: /ws ignores segments that are not stream names (ccxt's /ws/0), /stream
      // refuses the upgrade.
      const w = rawSocket(`/ws/${LOWER}@nonsense/nosuchusdt@trade`);
      await within(w.opened, 5000, 'open');
      w.send({ method: 'LIST_SUBSCRIPTIONS', id: 1 });
      assert.deepEqual(await w.next(), { result: [], id: 1 });
      w.ws.close();
      const r = await rawRequest({ path: `/stream?streams=nosuchusdt@trade`, headers: {
        Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13' } });
      assert.equal(r.status, 400);
      await assertHealthy();
    });
});
