// The maker's ladder: grid prices, sizes inside the filters, inventory skew, and the diff that
// touches only quotes that moved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, mul, parse } from '../lib/decimal.mjs';
import {
  buildLadder, diffOrders, filtersFromSymbol, inventorySkew, nextCenter, quoteQty, sizeFactor,
  withinBudget,
} from '../lib/ladder.mjs';

// BTCUSDT as exchangeInfo shows it (etc/markets.toml).
const kBtc = filtersFromSymbol({
  symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT',
  filters: [
    { filterType: 'PRICE_FILTER', minPrice: '0.01000000', maxPrice: '1000000.00000000', tickSize: '0.01000000' },
    { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
    { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: '100.00000000', stepSize: '0.00000000' },
    { filterType: 'NOTIONAL', minNotional: '5.00000000', maxNotional: '9000000.00000000' },
  ],
});

const show = (ladder) => ladder.map((q) => `${q.side} ${format(q.price, 2)} ${format(q.qty, 5)}`);

function base(over = {}) {
  return {
    centerTicks: 6500000n, spacingTicks: 1000n, halfSpreadTicks: 500n, levels: 3,
    baseQty: parse('0.02'), growth: 1.5, ...over,
  };
}

test('filters are read from exchangeInfo as exact units', () => {
  assert.equal(kBtc.tickSize, parse('0.01'));
  assert.equal(kBtc.stepSize, parse('0.00001'));
  assert.equal(kBtc.minNotional, parse('5'));
  assert.equal(kBtc.marketMaxQty, parse('100'));
  assert.equal(kBtc.base, 'BTC');
  assert.throws(() => filtersFromSymbol({ symbol: 'X', filters: [] }), RangeError);
});

test('a neutral ladder is symmetric on the grid with growing sizes', () => {
  assert.deepEqual(show(buildLadder(base(), kBtc)), [
    'BUY 64995.00 0.02000', 'BUY 64985.00 0.03000', 'BUY 64975.00 0.04500',
    'SELL 65005.00 0.02000', 'SELL 65015.00 0.03000', 'SELL 65025.00 0.04500',
  ]);
});

test('sizes are rounded down to the step and raised to reach minNotional', () => {
  // 0.0123456 * 1.5 = 0.0185184 -> 0.01851 (step 0.00001), never more decimals.
  const l = buildLadder(base({ baseQty: parse('0.0123456'), levels: 2 }), kBtc);
  assert.deepEqual(l.map((q) => format(q.qty, 5)), ['0.01234', '0.01851', '0.01234', '0.01851']);
  // A dust size is raised above 5 USDT (+10 % margin): 5.5 / 64995 -> 0.00009 after rounding up.
  const q = quoteQty(parse('0.00001'), 1, parse('64995'), kBtc);
  assert.equal(format(q, 5), '0.00009');
  assert.ok(mul(q, parse('64995')) >= parse('5.5'));
  // Above maxQty: cut to it.
  assert.equal(quoteQty(parse('20000'), 1, parse('1'), { ...kBtc, maxNotional: 0n }), parse('9000'));
  // Above maxNotional: cut below it on the step.
  const big = quoteQty(parse('1000'), 1, parse('65000'), kBtc);
  assert.ok(mul(big, parse('65000')) <= parse('9000000'));
  assert.equal(big % kBtc.stepSize, 0n);
});

test('every quote is on the tick and step grid and inside the filters', () => {
  for (const c of [6500000n, 6500137n, 4321n]) {
    for (const skew of [-1, -0.3, 0, 0.6, 1]) {
      const l = buildLadder(base({ centerTicks: c, levels: 6, skew, skewSteps: 2, skewSize: 0.5 }), kBtc);
      for (const q of l) {
        assert.equal(q.price % kBtc.tickSize, 0n);
        assert.equal(q.qty % kBtc.stepSize, 0n);
        assert.ok(q.qty >= kBtc.minQty && q.qty <= kBtc.maxQty);
        assert.ok(mul(q.price, q.qty) >= kBtc.minNotional, `${format(q.price)} x ${format(q.qty)}`);
      }
      const bids = l.filter((q) => q.side === 'BUY').map((q) => q.price);
      const asks = l.filter((q) => q.side === 'SELL').map((q) => q.price);
      if (bids.length && asks.length) assert.ok(bids[0] < asks[0], 'never crossed');
    }
  }
});

test('quotes that would be at or below zero or the min price are left out', () => {
  const l = buildLadder(base({ centerTicks: 2500n, levels: 5 }), kBtc);
  assert.deepEqual(l.filter((q) => q.side === 'BUY').map((q) => format(q.price, 2)), ['20.00', '10.00']);
  assert.equal(l.filter((q) => q.side === 'SELL').length, 5);
});

test('a long inventory moves the ladder down and sells more than it buys', () => {
  const neutral = buildLadder(base({ skewSteps: 2, skewSize: 0.5 }), kBtc);
  const long = buildLadder(base({ skew: 1, skewSteps: 2, skewSize: 0.5 }), kBtc);
  assert.deepEqual(show(long), [
    'BUY 64975.00 0.01000', 'BUY 64965.00 0.01500', 'BUY 64955.00 0.02250',
    'SELL 64985.00 0.03000', 'SELL 64995.00 0.04500', 'SELL 65005.00 0.06750',
  ]);
  const short = buildLadder(base({ skew: -1, skewSteps: 2, skewSize: 0.5 }), kBtc);
  assert.equal(format(short[0].price, 2), '65015.00');
  assert.equal(format(short[0].qty, 5), '0.03000');
  assert.equal(format(short[3].qty, 5), '0.01000');
  assert.notDeepEqual(show(neutral), show(long));
});

test('inventory skew and size factors are bounded and quantised', () => {
  assert.equal(inventorySkew(parse('10'), parse('10')), 0);
  assert.equal(inventorySkew(parse('11.25'), parse('10'), 0.25), 0.5);
  assert.equal(inventorySkew(parse('50'), parse('10'), 0.25), 1);
  assert.equal(inventorySkew(parse('0'), parse('10'), 0.25), -1);
  assert.equal(inventorySkew(parse('5'), 0n), 0);
  assert.equal(sizeFactor(0.04, 0.5, 'BUY'), 1); // a small change does not move sizes
  assert.equal(sizeFactor(0.5, 0.5, 'BUY'), 0.8);
  assert.equal(sizeFactor(0.5, 0.5, 'SELL'), 1.3);
  assert.equal(sizeFactor(1, 2, 'BUY'), 0.2);
});

test('the centre snaps to the grid and moves only past the hysteresis', () => {
  assert.equal(nextCenter(null, 6500420n, 1000n), 6500000n);
  assert.equal(nextCenter(null, 6500500n, 1000n), 6501000n);
  assert.equal(nextCenter(6500000n, 6500700n, 1000n, 0.75), 6500000n); // inside: keep
  assert.equal(nextCenter(6500000n, 6499300n, 1000n, 0.75), 6500000n);
  assert.equal(nextCenter(6500000n, 6500760n, 1000n, 0.75), 6501000n); // past: snap
  assert.equal(nextCenter(6500000n, 6497400n, 1000n, 0.75), 6497000n); // big move: jump
});

// Live orders as the maker reads them from openOrders.
let nextId = 1;
const liveOf = (ladder) => ladder.map((q) => ({ orderId: nextId++, side: q.side, price: q.price, qty: q.qty }));

test('an unchanged ladder needs no action', () => {
  const want = buildLadder(base(), kBtc);
  const { keep, actions } = diffOrders(want, liveOf(want));
  assert.equal(keep.length, 6);
  assert.deepEqual(actions, []);
});

test('a one-step move costs one new order per side, whatever the sizes', () => {
  // growth 1.25 < 1/(1 - 0.34): a quote whose level index changed keeps its size tolerance.
  const p = base({ levels: 6, growth: 1.25 });
  const live = liveOf(buildLadder(p, kBtc));
  for (const [c, crossedSide] of [[6501000n, 'SELL'], [6499000n, 'BUY']]) {
    const { keep, actions } = diffOrders(buildLadder({ ...p, centerTicks: c }, kBtc), live, 0.34);
    assert.equal(keep.length, 10);
    assert.deepEqual(actions.map((a) => a.type), ['cancel', 'replace', 'place']);
    assert.equal(actions[0].order.side, crossedSide); // the quote the move crossed goes first
  }
  // Growth beyond the tolerance would churn the whole ladder: the tolerance is what saves it.
  const steep = base({ levels: 6, growth: 2 });
  const r = diffOrders(buildLadder({ ...steep, centerTicks: 6501000n }, kBtc),
    liveOf(buildLadder(steep, kBtc)), 0.34);
  assert.ok(r.actions.length > 6);
});

test('the diff keeps quotes whose price and size still match and replaces moved ones', () => {
  const grid = (c) => buildLadder(base({ centerTicks: c, growth: 1 }), kBtc); // equal sizes
  const live = liveOf(grid(6500000n));
  const { keep, actions } = diffOrders(grid(6501000n), live);
  // Bids 65005/64995/64985 wanted; live bids 64995/64985/64975: two kept, 64975 replaced by
  // 65005. Asks 65015/65025/65035 wanted; live asks 65005/65015/65025: two kept, 65005 is
  // crossed by the new best bid 65005 and is cancelled first, then 65035 placed.
  assert.deepEqual(keep.map((o) => `${o.side} ${format(o.price, 2)}`).sort(),
    ['BUY 64985.00', 'BUY 64995.00', 'SELL 65015.00', 'SELL 65025.00']);
  assert.deepEqual(actions.map((a) => `${a.type} ${a.order ? `${a.order.side} ${format(a.order.price, 2)}` : ''}` +
    `${a.want ? ` -> ${a.want.side} ${format(a.want.price, 2)}` : ''}`), [
    'cancel SELL 65005.00',
    'replace BUY 64975.00 -> BUY 65005.00',
    'place  -> SELL 65035.00',
  ]);
});

test('partially filled quotes are refreshed only past the tolerance', () => {
  const want = buildLadder(base({ levels: 1 }), kBtc); // 0.02 each side
  const live = liveOf(want);
  live[0].qty = parse('0.015'); // 25 % taken: within 34 %
  live[1].qty = parse('0.012'); // 40 % taken: refresh
  const { keep, actions } = diffOrders(want, live, 0.34);
  assert.deepEqual(keep.map((o) => o.side), ['BUY']);
  assert.equal(actions.length, 1);
  assert.equal(actions[0].type, 'replace');
  assert.equal(actions[0].order.orderId, live[1].orderId);
  assert.equal(actions[0].want.qty, parse('0.02'));
});

test('duplicates and strays are cancelled; missing inner levels come first', () => {
  const want = buildLadder(base(), kBtc);
  const live = liveOf(want);
  const dup = { ...live[0], orderId: 999 }; // a second order at the best bid
  const stray = { orderId: 1000, side: 'BUY', price: parse('60000'), qty: parse('1') };
  live.splice(0, 1); // best bid missing
  const r1 = diffOrders(want, [...live, dup, stray]);
  // dup fills the best bid slot; the stray is cancelled.
  assert.deepEqual(r1.actions.map((a) => [a.type, a.order?.orderId]), [['cancel', 1000]]);
  const r2 = diffOrders(want, liveOf(want).slice(2)); // the two best bids missing
  assert.deepEqual(r2.actions.map((a) => `${a.type} ${a.want.side} ${a.want.level}`),
    ['place BUY 0', 'place BUY 1']);
});

test('withinBudget keeps cancels and the first N order-consuming actions', () => {
  const acts = [
    { type: 'cancel', order: { orderId: 1 } },
    { type: 'replace', order: { orderId: 2 }, want: { level: 0 } },
    { type: 'place', want: { level: 1 } },
    { type: 'place', want: { level: 2 } },
    { type: 'cancel', order: { orderId: 3 } },
  ];
  assert.deepEqual(withinBudget(acts, 2).map((a) => a.type), ['cancel', 'replace', 'place', 'cancel']);
  assert.deepEqual(withinBudget(acts, 0).map((a) => a.type), ['cancel', 'cancel']);
  assert.equal(withinBudget(acts, 10).length, 5);
});
