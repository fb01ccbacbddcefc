// ccxt (binance class, REST, pinned in package-lock.json) against a running Spotex: market data,
// balances, the order lifecycle, a trade between the two demo users whose balances must move by
// exactly the traded amounts minus the reported commission, and error classes. Amounts are
// compared as exact decimals from the raw response strings (ccxt's parsed numbers are floats).
//
// Run through run.sh, which starts the stack and sets SPOTEX_BASE_URL and SPOTEX_USERS.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import {
  MARKETS, REF_PRICE, SIGNED, USERS, clientId, dec, eventually, fmt, makeCcxt, mul, sum,
  totals,
} from './lib.mjs';

const SYMBOLS = { BTCUSDT: 'BTC/USDT', ETHUSDT: 'ETH/USDT', BNBUSDT: 'BNB/USDT', ETHBTC: 'ETH/BTC' };

describe('ccxt public market data', () => {
  const ex = makeCcxt();
  before(async () => {
    await ex.loadMarkets();
  });

  test('loadMarkets lists the four spot markets with the filters of etc/markets.toml', () => {
    assert.deepEqual(Object.keys(ex.markets).sort(), Object.values(SYMBOLS).sort());
    for (const [id, symbol] of Object.entries(SYMBOLS)) {
      const m = ex.markets[symbol];
      const want = MARKETS[id];
      assert.equal(m.id, id);
      assert.equal(m.base, want.base);
      assert.equal(m.quote, want.quote);
      assert.equal(m.spot, true);
      assert.equal(m.active, true, `${symbol} status TRADING`);
      // TICK_SIZE precision mode: precision.price/amount are the tick and step sizes.
      assert.equal(m.precision.price, Number(want.tickSize), `${symbol} tick size`);
      assert.equal(m.precision.amount, Number(want.stepSize), `${symbol} step size`);
      assert.equal(m.limits.amount.min, Number(want.minQty), `${symbol} minQty`);
      assert.equal(m.limits.amount.max, Number(want.maxQty), `${symbol} maxQty`);
      assert.equal(m.limits.price.min, Number(want.minPrice), `${symbol} minPrice`);
      assert.equal(m.limits.price.max, Number(want.maxPrice), `${symbol} maxPrice`);
      assert.equal(m.limits.cost.min, Number(want.minNotional), `${symbol} minNotional`);
    }
  });

  test('fetchTime is the server clock (same machine: within 5 s of ours)', async () => {
    const t = await ex.fetchTime();
    assert.ok(Number.isInteger(t), `integer ms, got ${t}`);
    assert.ok(Math.abs(t - Date.now()) < 5000, `server time ${t} vs local ${Date.now()}`);
  });

  test('fetchOrderBook: bids descending, asks ascending, at most limit levels', async () => {
    for (const symbol of Object.values(SYMBOLS)) {
      const book = await ex.fetchOrderBook(symbol, 5);
      assert.equal(book.symbol, symbol);
      assert.ok(Number.isInteger(book.nonce), 'nonce = lastUpdateId');
      assert.ok(book.bids.length <= 5 && book.asks.length <= 5);
      for (const side of [book.bids, book.asks]) {
        for (const [price, amount] of side) assert.ok(price > 0 && amount > 0);
      }
      for (let i = 1; i < book.bids.length; i++) assert.ok(book.bids[i - 1][0] > book.bids[i][0]);
      for (let i = 1; i < book.asks.length; i++) assert.ok(book.asks[i - 1][0] < book.asks[i][0]);
      if (book.bids.length && book.asks.length) assert.ok(book.bids[0][0] < book.asks[0][0]);
    }
  });

  test('fetchTicker and fetchTickers (all, and a list)', async () => {
    const t = await ex.fetchTicker('BTC/USDT');
    assert.equal(t.symbol, 'BTC/USDT');
    assert.equal(t.info.symbol, 'BTCUSDT');
    assert.ok(Number.isInteger(t.timestamp));
    for (const k of ['lastPrice', 'volume', 'quoteVolume', 'openPrice', 'highPrice', 'lowPrice']) {
      dec(t.info[k]); // a decimal string
    }
    const all = await ex.fetchTickers();
    assert.deepEqual(Object.keys(all).sort(), Object.values(SYMBOLS).sort());
    const two = await ex.fetchTickers(['ETH/BTC', 'BNB/USDT']);
    assert.deepEqual(Object.keys(two).sort(), ['BNB/USDT', 'ETH/BTC']);
  });

  test('fetchTrades (aggTrades): well-formed, oldest first', async () => {
    const trades = await ex.fetchTrades('BTC/USDT', undefined, 50);
    assert.ok(Array.isArray(trades) && trades.length <= 50);
    for (const tr of trades) {
      assert.equal(tr.symbol, 'BTC/USDT');
      assert.ok(tr.price > 0 && tr.amount > 0 && Number.isInteger(tr.timestamp));
      assert.ok(tr.side === 'buy' || tr.side === 'sell');
    }
    for (let i = 1; i < trades.length; i++) {
      assert.ok(trades[i - 1].timestamp <= trades[i].timestamp);
    }
  });

  test('fetchOHLCV: one-minute bars, ascending, on minute boundaries', async () => {
    const bars = await ex.fetchOHLCV('BTC/USDT', '1m', undefined, 10);
    assert.ok(Array.isArray(bars) && bars.length <= 10);
    for (const [ts, o, h, l, c, v] of bars) {
      assert.equal(ts % 60000, 0);
      assert.ok(l <= o && o <= h && l <= c && c <= h && v >= 0);
    }
    for (let i = 1; i < bars.length; i++) assert.ok(bars[i - 1][0] < bars[i][0]);
  });

  test('implicit API: unknown symbol is BadSymbol (-1121)', async () => {
    await assert.rejects(ex.publicGetDepth({ symbol: 'NOPE' }), (e) => {
      assert.ok(e instanceof ccxt.BadSymbol, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, /-1121/);
      return true;
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Signed: the two demo users, A (maker) and B (taker).

// Raw /api/v3/account totals (free + locked) of a client's user.
async function balances(ex) {
  return totals((await ex.fetchBalance()).info);
}

// Cancels every open order of the clients on `symbol` (none open is fine).
async function cancelAll(symbol, ...clients) {
  for (const ex of clients) {
    try {
      await ex.cancelAllOrders(symbol);
    } catch (e) {
      if (!(e instanceof ccxt.OrderNotFound)) throw e; // -2011: nothing to cancel
    }
    assert.deepEqual(await ex.fetchOpenOrders(symbol), [], `${symbol} orders left open`);
  }
}

// A LIMIT order that passes every symbol filter (tick, step, min/max quantity and notional,
// price within x0.25..x4 of the reference price) but needs more than the free balance:
// {id, side, qty, price} as scaled decimals, or null.
function orderBeyondBalance(free) {
  const maxNotional = dec('9000000');
  const roundUp = (v, step) => ((v + step - 1n) / step) * step;
  for (const [id, m] of Object.entries(MARKETS)) {
    const step = dec(m.stepSize);
    const tick = dec(m.tickSize);
    const ref = dec(REF_PRICE[id]);
    const fits = (qty, price) => {
      const notional = mul(qty, price);
      return qty >= dec(m.minQty) && qty <= dec(m.maxQty) && notional >= dec(m.minNotional) &&
        notional <= maxNotional;
    };
    // SELL more base than is free, at a low price (small notional).
    const sellPrice = roundUp(ref / 4n, tick);
    const sellQty = roundUp(free[m.base] + step, step);
    if (fits(sellQty, sellPrice)) return { id, side: 'sell', qty: sellQty, price: sellPrice };
    // BUY for more quote than is free, at a high price (small quantity).
    const buyPrice = (ref * 4n / tick) * tick;
    const buyQty = roundUp((free[m.quote] * 10n ** 8n) / buyPrice + step, step);
    if (fits(buyQty, buyPrice)) return { id, side: 'buy', qty: buyQty, price: buyPrice };
  }
  return null;
}

describe('ccxt signed endpoints', { skip: SIGNED }, () => {
  let a;
  let b;
  before(async () => {
    a = makeCcxt(USERS[0]);
    b = makeCcxt(USERS[1]);
    await a.loadMarkets();
    await b.loadMarkets();
  });

  test('fetchBalance: both users hold BTC, ETH, USDT and BNB; total = free + used', async () => {
    for (const ex of [a, b]) {
      const bal = await ex.fetchBalance();
      const raw = totals(bal.info);
      for (const asset of ['BTC', 'ETH', 'USDT', 'BNB']) {
        assert.ok(raw[asset] > 0n, `${asset} funded`);
        assert.ok(Math.abs(bal[asset].total - (bal[asset].free + bal[asset].used)) < 1e-8);
        assert.ok(Math.abs(bal[asset].total - Number(fmt(raw[asset]))) < 1e-6);
      }
    }
  });

  test('limit order rests, is found, locks its quote, and is cancelled', async () => {
    await cancelAll('BTC/USDT', a);
    const before = (await a.fetchBalance()).info.balances.find((x) => x.asset === 'USDT');
    const cid = clientId('cx');
    const o = await a.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 40000, { clientOrderId: cid });
    assert.equal(o.status, 'open');
    assert.equal(o.clientOrderId, cid);
    assert.equal(o.info.type, 'LIMIT');
    assert.equal(o.info.timeInForce, 'GTC');
    assert.equal(o.filled, 0);

    const q = await a.fetchOrder(o.id, 'BTC/USDT');
    assert.equal(q.id, o.id);
    assert.equal(q.clientOrderId, cid);
    assert.equal(q.status, 'open');
    assert.equal(q.side, 'buy');
    assert.equal(dec(q.info.price), dec('40000'));
    assert.equal(dec(q.info.origQty), dec('0.001'));

    const open = await a.fetchOpenOrders('BTC/USDT');
    assert.deepEqual(open.map((x) => x.id), [o.id]);

    // A resting BUY locks price x quantity of the quote asset.
    const during = (await a.fetchBalance()).info.balances.find((x) => x.asset === 'USDT');
    assert.equal(dec(during.locked) - dec(before.locked), dec('40'));
    assert.equal(dec(before.free) - dec(during.free), dec('40'));

    const c = await a.cancelOrder(o.id, 'BTC/USDT');
    assert.equal(c.id, o.id);
    assert.equal(c.status, 'canceled');
    assert.equal((await a.fetchOrder(o.id, 'BTC/USDT')).status, 'canceled');
    assert.deepEqual(await a.fetchOpenOrders('BTC/USDT'), []);
    const after = (await a.fetchBalance()).info.balances.find((x) => x.asset === 'USDT');
    assert.equal(after.free, before.free);
    assert.equal(after.locked, before.locked);
  });

  test('trade A (maker sell) x B (taker market buy): balances move by exactly amount minus commission',
    async () => {
      const symbol = 'BTC/USDT';
      const qty = '0.01';
      const price = REF_PRICE.BTCUSDT;
      await cancelAll(symbol, a, b);
      const a0 = await balances(a);
      const b0 = await balances(b);

      const sell = await a.createOrder(symbol, 'limit', 'sell', Number(qty), Number(price),
        { clientOrderId: clientId('cx-mk') });
      assert.equal(sell.status, 'open');
      const buy = await b.createOrder(symbol, 'market', 'buy', Number(qty), undefined,
        { clientOrderId: clientId('cx-tk') });

      // The taker's FULL response: filled at the maker's price, commission in BTC.
      assert.equal(buy.status, 'closed');
      assert.equal(buy.info.status, 'FILLED');
      assert.equal(buy.info.type, 'MARKET');
      assert.equal(dec(buy.info.executedQty), dec(qty));
      const fills = buy.info.fills;
      assert.ok(Array.isArray(fills) && fills.length === 1, `one fill, got ${JSON.stringify(fills)}`);
      assert.equal(dec(fills[0].price), dec(price));
      assert.equal(dec(fills[0].qty), dec(qty));
      assert.equal(fills[0].commissionAsset, 'BTC');
      const notional = mul(dec(qty), dec(price));
      assert.equal(dec(buy.info.cummulativeQuoteQty), notional);
      assert.equal(buy.filled, Number(qty));
      assert.equal(buy.average, Number(price));
      assert.equal(buy.cost, Number(fmt(notional)));
      const bFee = sum(fills.map((f) => dec(f.commission)));
      assert.ok(bFee > 0n && bFee < dec(qty) / 100n, `taker fee ${fmt(bFee)}`);
      assert.equal(buy.fee.currency, 'BTC');

      // The maker's order is filled; its trade reports its commission in USDT.
      const sold = await eventually(async () => {
        const o = await a.fetchOrder(sell.id, symbol);
        return o.status === 'closed' ? o : null;
      });
      assert.ok(sold, 'maker order closed');
      assert.equal(dec(sold.info.executedQty), dec(qty));
      assert.equal(dec(sold.info.cummulativeQuoteQty), notional);
      const aTrades = await a.fetchMyTrades(symbol, undefined, undefined, { orderId: sell.id });
      assert.equal(aTrades.length, 1);
      const at = aTrades[0];
      assert.equal(at.order, sell.id);
      assert.equal(at.side, 'sell');
      assert.equal(at.takerOrMaker, 'maker');
      assert.equal(at.info.commissionAsset, 'USDT');
      assert.equal(at.fee.currency, 'USDT');
      assert.equal(dec(at.info.price), dec(price));
      assert.equal(dec(at.info.qty), dec(qty));
      assert.equal(dec(at.info.quoteQty), notional);
      const aFee = dec(at.info.commission);
      assert.ok(aFee > 0n && aFee < notional / 100n, `maker fee ${fmt(aFee)}`);

      // The taker's trade is the same trade id, seen from the buyer.
      const bTrades = await b.fetchMyTrades(symbol, undefined, undefined, { orderId: buy.id });
      assert.equal(bTrades.length, 1);
      assert.equal(bTrades[0].id, at.id);
      assert.equal(String(fills[0].tradeId), bTrades[0].id);
      assert.equal(bTrades[0].side, 'buy');
      assert.equal(bTrades[0].takerOrMaker, 'taker');
      assert.equal(dec(bTrades[0].info.commission), bFee);

      // Exact balance changes (totals = free + locked), every other asset unchanged.
      const want = (t0, deltas) => ({ ...t0, ...Object.fromEntries(
        Object.entries(deltas).map(([k, d]) => [k, t0[k] + d])) });
      const aWant = want(a0, { BTC: -dec(qty), USDT: notional - aFee });
      const bWant = want(b0, { BTC: dec(qty) - bFee, USDT: -notional });
      const show = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fmt(v)]));
      let a1;
      let b1;
      await eventually(async () => {
        a1 = await balances(a);
        b1 = await balances(b);
        return JSON.stringify(show(a1)) === JSON.stringify(show(aWant)) &&
          JSON.stringify(show(b1)) === JSON.stringify(show(bWant));
      });
      assert.deepEqual(show(a1), show(aWant), 'maker balances');
      assert.deepEqual(show(b1), show(bWant), 'taker balances');

      // Public market data shows the trade.
      const last = await eventually(async () => {
        const t = await a.fetchTrades(symbol, undefined, 20);
        return t.length && t[t.length - 1].timestamp >= at.timestamp ? t[t.length - 1] : null;
      });
      assert.ok(last, 'fetchTrades shows the trade');
      assert.equal(last.price, Number(price));
      assert.equal(last.side, 'buy'); // the taker bought
      const ticker = await a.fetchTicker(symbol);
      assert.equal(dec(ticker.info.lastPrice), dec(price));
      const bars = await a.fetchOHLCV(symbol, '1m', undefined, 5);
      const bar = bars.find((x) => x[0] === Math.floor(at.timestamp / 60000) * 60000);
      assert.ok(bar, 'a bar for the minute of the trade');
      assert.ok(bar[5] >= Number(qty), `bar volume ${bar[5]}`);
    });

  test('fetchOrders and fetchClosedOrders (allOrders) show filled and cancelled orders',
    async () => {
      const symbol = 'ETH/USDT';
      await cancelAll(symbol, a, b);
      const rest = await a.createOrder(symbol, 'limit', 'buy', 0.01, 2000,
        { clientOrderId: clientId('cx-all') });
      await a.cancelOrder(rest.id, symbol);
      const sell = await a.createOrder(symbol, 'limit', 'sell', 0.01, Number(REF_PRICE.ETHUSDT),
        { clientOrderId: clientId('cx-all') });
      const buy = await b.createOrder(symbol, 'market', 'buy', 0.01);
      assert.equal(buy.status, 'closed');

      const all = await a.fetchOrders(symbol);
      const byId = Object.fromEntries(all.map((o) => [o.id, o]));
      assert.equal(byId[rest.id]?.status, 'canceled');
      assert.equal(byId[sell.id]?.status, 'closed');
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].timestamp <= all[i].timestamp);
      const closed = await a.fetchClosedOrders(symbol);
      assert.ok(closed.some((o) => o.id === sell.id), 'filled order among closed orders');
      assert.ok(!closed.some((o) => o.id === rest.id), 'cancelled order is not "closed"');
      const canceled = await a.fetchCanceledOrders(symbol);
      assert.ok(canceled.some((o) => o.id === rest.id));
    });

  test('cancelAllOrders cancels every open order of the symbol', async () => {
    const symbol = 'BNB/USDT';
    await cancelAll(symbol, a);
    const ids = [];
    for (const price of [400, 410, 420]) {
      ids.push((await a.createOrder(symbol, 'limit', 'buy', 0.1, price)).id);
    }
    assert.deepEqual((await a.fetchOpenOrders(symbol)).map((o) => o.id).sort(), [...ids].sort());
    const cancelled = await a.cancelAllOrders(symbol);
    assert.deepEqual(cancelled.map((o) => o.id).sort(), [...ids].sort());
    for (const o of cancelled) assert.equal(o.status, 'canceled');
    assert.deepEqual(await a.fetchOpenOrders(symbol), []);
  });

  test('an order beyond the balance is InsufficientFunds', async () => {
    const free = Object.fromEntries((await a.fetchBalance()).info.balances
      .map((x) => [x.asset, dec(x.free)]));
    const order = orderBeyondBalance(free);
    assert.ok(order, `no order passes the filters yet exceeds ${JSON.stringify(free, (k, v) =>
      (typeof v === 'bigint' ? fmt(v) : v))}`);
    await assert.rejects(
      a.createOrder(SYMBOLS[order.id], 'limit', order.side, Number(fmt(order.qty)),
        Number(fmt(order.price))),
      (e) => {
        assert.ok(e instanceof ccxt.InsufficientFunds, `${e.constructor.name}: ${e.message}`);
        return true;
      });
  });

  test('cancel or fetch of an unknown order is OrderNotFound', async () => {
    await assert.rejects(a.cancelOrder('987654321987', 'BTC/USDT'), (e) => {
      assert.ok(e instanceof ccxt.OrderNotFound, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, /-2011/);
      return true;
    });
    await assert.rejects(a.fetchOrder('987654321987', 'BTC/USDT'), (e) => {
      assert.ok(e instanceof ccxt.OrderNotFound, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, /-2013/);
      return true;
    });
  });

  test('a post-only (LIMIT_MAKER) order that would cross is InvalidOrder', async () => {
    const symbol = 'ETH/BTC';
    await cancelAll(symbol, a, b);
    const ask = await a.createOrder(symbol, 'limit', 'sell', 0.01, Number(REF_PRICE.ETHBTC));
    try {
      await assert.rejects(
        b.createOrder(symbol, 'limit', 'buy', 0.01, Number(REF_PRICE.ETHBTC), { postOnly: true }),
        (e) => {
          assert.ok(e instanceof ccxt.InvalidOrder, `${e.constructor.name}: ${e.message}`);
          assert.match(e.message, /Order would immediately match and take/);
          return true;
        });
      // Below the ask it rests, as a LIMIT_MAKER.
      const maker = await b.createOrder(symbol, 'limit', 'buy', 0.01, 0.05, { postOnly: true });
      assert.equal(maker.status, 'open');
      assert.equal((await b.fetchOrder(maker.id, symbol)).info.type, 'LIMIT_MAKER');
      await b.cancelOrder(maker.id, symbol);
    } finally {
      await a.cancelOrder(ask.id, symbol);
    }
  });
});
