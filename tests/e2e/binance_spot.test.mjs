// @binance/spot (Spot class, REST, pinned in package-lock.json) against a running Spotex: every
// market-data call, the account, orders (LIMIT, MARKET with FULL fills, test orders), queries,
// cancels, trades, and the Binance error codes its error objects carry. Amounts are compared as
// exact decimals. @binance/spot sends everything in the query string, also for POST (§2).
//
// Run through run.sh, which starts the stack and sets SPOTEX_BASE_URL and SPOTEX_USERS.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError, UnauthorizedError } from '@binance/spot';
import {
  MARKETS, REF_PRICE, SIGNED, USERS, clientId, dec, eventually, fmt, makeSpot, mul,
  rejectsWithCode, totals,
} from './lib.mjs';

// Awaits a REST call and returns its parsed body.
async function body(call) {
  const res = await call;
  assert.equal(res.status, 200);
  return res.data();
}

const isDecimal = (s) => typeof s === 'string' && /^\d+(\.\d+)?$/.test(s);
const isId = (v) => Number.isSafeInteger(Number(v)) && typeof v !== 'string';

describe('@binance/spot public market data', () => {
  const api = makeSpot().restAPI;

  test('ping and time', async () => {
    assert.deepEqual(await body(api.ping()), {});
    const { serverTime } = await body(api.time());
    assert.ok(Math.abs(Number(serverTime) - Date.now()) < 5000, `serverTime ${serverTime}`);
  });

  test('exchangeInfo: all symbols with the filters of etc/markets.toml, and one symbol', async () => {
    const info = await body(api.exchangeInfo());
    assert.equal(info.timezone, 'UTC');
    assert.ok(info.rateLimits.some((r) => r.rateLimitType === 'REQUEST_WEIGHT'));
    assert.deepEqual(info.symbols.map((s) => s.symbol).sort(), Object.keys(MARKETS).sort());
    for (const s of info.symbols) {
      const want = MARKETS[s.symbol];
      assert.equal(s.status, 'TRADING');
      assert.equal(s.baseAsset, want.base);
      assert.equal(s.quoteAsset, want.quote);
      assert.ok(s.orderTypes.includes('LIMIT') && s.orderTypes.includes('MARKET') &&
        s.orderTypes.includes('LIMIT_MAKER'));
      const f = Object.fromEntries(s.filters.map((x) => [x.filterType, x]));
      assert.equal(f.PRICE_FILTER.tickSize, want.tickSize, `${s.symbol} tickSize`);
      assert.equal(f.PRICE_FILTER.minPrice, want.minPrice);
      assert.equal(f.PRICE_FILTER.maxPrice, want.maxPrice);
      assert.equal(f.LOT_SIZE.stepSize, want.stepSize, `${s.symbol} stepSize`);
      assert.equal(f.LOT_SIZE.minQty, want.minQty);
      assert.equal(f.LOT_SIZE.maxQty, want.maxQty);
      assert.equal(f.NOTIONAL.minNotional, want.minNotional);
    }
    const one = await body(api.exchangeInfo({ symbol: 'ETHBTC' }));
    assert.deepEqual(one.symbols.map((s) => s.symbol), ['ETHBTC']);
    const two = await body(api.exchangeInfo({ symbols: ['BNBUSDT', 'BTCUSDT'] }));
    assert.deepEqual(two.symbols.map((s) => s.symbol).sort(), ['BNBUSDT', 'BTCUSDT']);
  });

  test('depth: lastUpdateId, bids descending, asks ascending', async () => {
    const d = await body(api.depth({ symbol: 'BTCUSDT', limit: 5 }));
    assert.ok(isId(d.lastUpdateId));
    assert.ok(d.bids.length <= 5 && d.asks.length <= 5);
    for (const [p, q] of [...d.bids, ...d.asks]) assert.ok(isDecimal(p) && isDecimal(q));
    for (let i = 1; i < d.bids.length; i++) assert.ok(dec(d.bids[i - 1][0]) > dec(d.bids[i][0]));
    for (let i = 1; i < d.asks.length; i++) assert.ok(dec(d.asks[i - 1][0]) < dec(d.asks[i][0]));
  });

  test('getTrades and aggTrades: well-formed, oldest first', async () => {
    const trades = await body(api.getTrades({ symbol: 'BTCUSDT', limit: 10 }));
    assert.ok(Array.isArray(trades) && trades.length <= 10);
    for (const t of trades) {
      assert.ok(isId(t.id) && isDecimal(t.price) && isDecimal(t.qty) && isDecimal(t.quoteQty));
      assert.equal(dec(t.quoteQty), mul(dec(t.price), dec(t.qty)));
      assert.equal(typeof t.isBuyerMaker, 'boolean');
    }
    for (let i = 1; i < trades.length; i++) assert.ok(Number(trades[i - 1].id) < Number(trades[i].id));
    const agg = await body(api.aggTrades({ symbol: 'BTCUSDT', limit: 10 }));
    assert.ok(Array.isArray(agg) && agg.length <= 10);
    for (const t of agg) {
      assert.ok(isId(t.a) && isId(t.f) && isId(t.l) && Number(t.f) <= Number(t.l));
      assert.ok(isDecimal(t.p) && isDecimal(t.q) && typeof t.m === 'boolean');
    }
  });

  test('klines: 12 fields per bar, ascending open times', async () => {
    const bars = await body(api.klines({ symbol: 'ETHUSDT', interval: '1m', limit: 5 }));
    assert.ok(Array.isArray(bars) && bars.length <= 5);
    for (const k of bars) {
      assert.equal(k.length, 12);
      assert.equal(Number(k[6]), Number(k[0]) + 59999, 'close time');
      for (const i of [1, 2, 3, 4, 5, 7, 9, 10]) assert.ok(isDecimal(k[i]), `field ${i}: ${k[i]}`);
    }
    for (let i = 1; i < bars.length; i++) assert.ok(Number(bars[i - 1][0]) < Number(bars[i][0]));
  });

  test('ticker24hr, tickerPrice, tickerBookTicker and avgPrice', async () => {
    const t = await body(api.ticker24hr({ symbol: 'BTCUSDT' }));
    assert.equal(t.symbol, 'BTCUSDT');
    for (const k of ['priceChange', 'lastPrice', 'bidPrice', 'askPrice', 'openPrice', 'highPrice',
      'lowPrice', 'volume', 'quoteVolume']) {
      assert.ok(isDecimal(t[k]), `${k}: ${t[k]}`);
    }
    const ts = await body(api.ticker24hr({ symbols: ['ETHBTC', 'BNBUSDT'] }));
    assert.deepEqual(ts.map((x) => x.symbol).sort(), ['BNBUSDT', 'ETHBTC']);
    const all = await body(api.ticker24hr());
    assert.deepEqual(all.map((x) => x.symbol).sort(), Object.keys(MARKETS).sort());

    const p = await body(api.tickerPrice({ symbol: 'ETHUSDT' }));
    assert.equal(p.symbol, 'ETHUSDT');
    assert.ok(isDecimal(p.price));
    const ps = await body(api.tickerPrice());
    assert.deepEqual(ps.map((x) => x.symbol).sort(), Object.keys(MARKETS).sort());

    const bt = await body(api.tickerBookTicker({ symbol: 'ETHUSDT' }));
    assert.equal(bt.symbol, 'ETHUSDT');
    for (const k of ['bidPrice', 'bidQty', 'askPrice', 'askQty']) assert.ok(isDecimal(bt[k]));

    const avg = await body(api.avgPrice({ symbol: 'BNBUSDT' }));
    assert.equal(Number(avg.mins), 5);
    assert.ok(isDecimal(avg.price));
  });

  test('an unknown symbol is -1121 (BadRequestError)', async () => {
    const e = await rejectsWithCode(api.depth({ symbol: 'NOPE' }), -1121, BadRequestError);
    assert.equal(e.message, 'Invalid symbol.');
    await rejectsWithCode(api.ticker24hr({ symbol: 'NOPE' }), -1121, BadRequestError);
  });
});

// ---------------------------------------------------------------------------------------------
// Signed: the two demo users, A (maker) and B (taker).

// Cancels every open order of the clients on `symbol` (none open, -2011, is fine).
async function cancelAll(symbol, ...apis) {
  for (const api of apis) {
    try {
      await api.deleteOpenOrders({ symbol });
    } catch (e) {
      if (e.code !== -2011) throw e;
    }
    assert.deepEqual(await body(api.getOpenOrders({ symbol })), []);
  }
}

describe('@binance/spot signed endpoints', { skip: SIGNED }, () => {
  let a;
  let b;
  before(() => {
    a = makeSpot(USERS[0]).restAPI;
    b = makeSpot(USERS[1]).restAPI;
  });

  test('getAccount: balances, commission rates, permissions', async () => {
    for (const api of [a, b]) {
      const acc = await body(api.getAccount());
      assert.equal(acc.canTrade, true);
      assert.equal(acc.accountType, 'SPOT');
      for (const k of ['maker', 'taker', 'buyer', 'seller']) {
        assert.ok(isDecimal(acc.commissionRates[k]));
      }
      const t = totals(acc);
      for (const asset of ['BTC', 'ETH', 'USDT', 'BNB']) assert.ok(t[asset] > 0n, `${asset} funded`);
    }
  });

  test('LIMIT order: newOrder, getOrder, getOpenOrders, deleteOrder', async () => {
    const symbol = 'ETHUSDT';
    await cancelAll(symbol, a);
    const cid = clientId('bs');
    const o = await body(a.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC',
      quantity: 0.01, price: 2500, newClientOrderId: cid, newOrderRespType: 'RESULT' }));
    assert.equal(o.symbol, symbol);
    assert.equal(o.clientOrderId, cid);
    assert.equal(o.status, 'NEW');
    assert.equal(o.type, 'LIMIT');
    assert.equal(o.side, 'BUY');
    assert.equal(Number(o.orderListId), -1);
    assert.equal(dec(o.price), dec('2500'));
    assert.equal(dec(o.origQty), dec('0.01'));
    assert.equal(dec(o.executedQty), 0n);
    assert.ok(isId(o.orderId));

    const byId = await body(a.getOrder({ symbol, orderId: o.orderId }));
    const byCid = await body(a.getOrder({ symbol, origClientOrderId: cid }));
    assert.deepEqual(byCid, byId);
    assert.equal(String(byId.orderId), String(o.orderId));
    assert.equal(byId.status, 'NEW');
    assert.equal(byId.isWorking, true);

    const open = await body(a.getOpenOrders({ symbol }));
    assert.deepEqual(open.map((x) => String(x.orderId)), [String(o.orderId)]);

    const c = await body(a.deleteOrder({ symbol, origClientOrderId: cid }));
    assert.equal(c.status, 'CANCELED');
    assert.equal(c.origClientOrderId, cid);
    assert.equal(String(c.orderId), String(o.orderId));
    assert.equal((await body(a.getOrder({ symbol, orderId: o.orderId }))).status, 'CANCELED');
    assert.deepEqual(await body(a.getOpenOrders({ symbol })), []);
    // Cancelling it again: -2011.
    await rejectsWithCode(a.deleteOrder({ symbol, orderId: o.orderId }), -2011, BadRequestError);
  });

  test('MARKET order with FULL fills against a resting LIMIT: exact balances, myTrades', async () => {
    const symbol = 'ETHUSDT';
    const qty = '0.1';
    const price = REF_PRICE.ETHUSDT;
    await cancelAll(symbol, a, b);
    const a0 = totals(await body(a.getAccount()));
    const b0 = totals(await body(b.getAccount()));

    const sell = await body(a.newOrder({ symbol, side: 'SELL', type: 'LIMIT', timeInForce: 'GTC',
      quantity: Number(qty), price: Number(price), newClientOrderId: clientId('bs-mk') }));
    assert.equal(sell.status, 'NEW');
    assert.deepEqual(sell.fills, []);
    const buy = await body(b.newOrder({ symbol, side: 'BUY', type: 'MARKET', quantity: Number(qty),
      newOrderRespType: 'FULL', newClientOrderId: clientId('bs-tk') }));
    assert.equal(buy.status, 'FILLED');
    assert.equal(buy.type, 'MARKET');
    assert.equal(dec(buy.executedQty), dec(qty));
    const notional = mul(dec(qty), dec(price));
    assert.equal(dec(buy.cummulativeQuoteQty), notional);
    assert.equal(buy.fills.length, 1);
    const fill = buy.fills[0];
    assert.equal(dec(fill.price), dec(price));
    assert.equal(dec(fill.qty), dec(qty));
    assert.equal(fill.commissionAsset, 'ETH');
    const bFee = dec(fill.commission);
    assert.ok(bFee > 0n && bFee < dec(qty) / 100n, `taker fee ${fmt(bFee)}`);

    const sold = await eventually(async () => {
      const o = await body(a.getOrder({ symbol, orderId: sell.orderId }));
      return o.status === 'FILLED' ? o : null;
    });
    assert.ok(sold, 'maker order FILLED');
    assert.equal(dec(sold.cummulativeQuoteQty), notional);

    // Either replica may answer: poll until its event stream has the fill (history-queries.md).
    const aTrades = await eventually(async () => {
      const xs = await body(a.myTrades({ symbol, orderId: sell.orderId }));
      return xs.length ? xs : null;
    });
    assert.equal(aTrades.length, 1);
    const at = aTrades[0];
    assert.equal(String(at.id), String(fill.tradeId));
    assert.equal(at.isMaker, true);
    assert.equal(at.isBuyer, false);
    assert.equal(at.commissionAsset, 'USDT');
    assert.equal(dec(at.quoteQty), notional);
    const aFee = dec(at.commission);
    assert.ok(aFee > 0n && aFee < notional / 100n, `maker fee ${fmt(aFee)}`);
    const bTrades = await eventually(async () => {
      const xs = await body(b.myTrades({ symbol, orderId: buy.orderId }));
      return xs.length ? xs : null;
    });
    assert.equal(bTrades.length, 1);
    assert.equal(String(bTrades[0].id), String(fill.tradeId));
    assert.equal(bTrades[0].isMaker, false);
    assert.equal(bTrades[0].isBuyer, true);
    assert.equal(dec(bTrades[0].commission), bFee);
    // Without orderId, the trade is among the user's latest trades of the symbol.
    const recent = await body(b.myTrades({ symbol, limit: 10 }));
    assert.ok(recent.some((t) => String(t.id) === String(fill.tradeId)));

    const show = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fmt(v)]));
    const aWant = show({ ...a0, ETH: a0.ETH - dec(qty), USDT: a0.USDT + notional - aFee });
    const bWant = show({ ...b0, ETH: b0.ETH + dec(qty) - bFee, USDT: b0.USDT - notional });
    let a1;
    let b1;
    await eventually(async () => {
      a1 = show(totals(await body(a.getAccount())));
      b1 = show(totals(await body(b.getAccount())));
      return JSON.stringify(a1) === JSON.stringify(aWant) && JSON.stringify(b1) === JSON.stringify(bWant);
    });
    assert.deepEqual(a1, aWant, 'maker balances');
    assert.deepEqual(b1, bWant, 'taker balances');

    // Public data shows the trade.
    const trades = await eventually(async () => {
      const t = await body(b.getTrades({ symbol, limit: 5 }));
      return t.some((x) => String(x.id) === String(fill.tradeId)) ? t : null;
    });
    assert.ok(trades, 'getTrades shows the trade');
    const pub = trades.find((x) => String(x.id) === String(fill.tradeId));
    assert.equal(dec(pub.price), dec(price));
    assert.equal(dec(pub.qty), dec(qty));
    assert.equal(pub.isBuyerMaker, false);
    assert.equal(dec((await body(b.tickerPrice({ symbol }))).price), dec(price));
  });

  test('deleteOpenOrders cancels all of the symbol; with none open it is -2011', async () => {
    const symbol = 'BNBUSDT';
    await cancelAll(symbol, b);
    const ids = [];
    for (const price of [500, 510]) {
      const o = await body(b.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC',
        quantity: 0.1, price }));
      ids.push(String(o.orderId));
    }
    const cancelled = await body(b.deleteOpenOrders({ symbol }));
    assert.deepEqual(cancelled.map((o) => String(o.orderId)).sort(), ids.sort());
    for (const o of cancelled) assert.equal(o.status, 'CANCELED');
    assert.deepEqual(await body(b.getOpenOrders({ symbol })), []);
    await rejectsWithCode(b.deleteOpenOrders({ symbol }), -2011, BadRequestError);
  });

  test('allOrders lists the account\'s orders of the symbol, oldest first, with their status',
    async () => {
      const symbol = 'ETHBTC';
      const cid = clientId('bs-all');
      const o = await body(b.newOrder({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC',
        quantity: 0.01, price: 0.05, newClientOrderId: cid }));
      await body(b.deleteOrder({ symbol, orderId: o.orderId }));
      const all = await body(b.allOrders({ symbol, limit: 500 }));
      const mine = all.find((x) => x.clientOrderId === cid);
      assert.ok(mine, 'the cancelled order is listed');
      assert.equal(mine.status, 'CANCELED');
      assert.equal(String(mine.orderId), String(o.orderId));
      for (let i = 1; i < all.length; i++) {
        assert.ok(Number(all[i - 1].orderId) < Number(all[i].orderId));
      }
      const since = await body(b.allOrders({ symbol, orderId: o.orderId }));
      assert.equal(String(since[0].orderId), String(o.orderId));
    });

  test('orderTest validates without placing; a bad tick is -1013', async () => {
    const symbol = 'BTCUSDT';
    await cancelAll(symbol, a);
    const r = await body(a.orderTest({ symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC',
      quantity: 0.001, price: 40000 }));
    assert.deepEqual(r, {});
    assert.deepEqual(await body(a.getOpenOrders({ symbol })), []);
    const e = await rejectsWithCode(a.orderTest({ symbol, side: 'BUY', type: 'LIMIT',
      timeInForce: 'GTC', quantity: 0.001, price: 40000.001 }), -1013, BadRequestError);
    assert.match(e.message, /PRICE_FILTER/);
  });

  test('unknown order is -2013; wrong secret is -1022; unknown key is -2015', async () => {
    await rejectsWithCode(a.getOrder({ symbol: 'BTCUSDT', orderId: 987654321987 }), -2013,
      BadRequestError);
    const wrongSecret = makeSpot(USERS[0], 'x'.repeat(64)).restAPI;
    await rejectsWithCode(wrongSecret.getAccount(), -1022, BadRequestError);
    const unknownKey = makeSpot({ apiKey: 'Z'.repeat(64), apiSecret: 'y'.repeat(64) }).restAPI;
    await rejectsWithCode(unknownKey.getAccount(), -2015, UnauthorizedError);
  });
});
