// The taker: random intervals, small orders with occasional sweeps, always inside its balance
// and the market-order filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mul, parse } from '../lib/decimal.mjs';
import { filtersFromSymbol } from '../lib/ladder.mjs';
import { Rng } from '../lib/rng.mjs';
import { buyProbability, decideOrder, nextDelayMs } from '../lib/taker.mjs';

const kEthBtc = filtersFromSymbol({
  symbol: 'ETHBTC', baseAsset: 'ETH', quoteAsset: 'BTC',
  filters: [
    { filterType: 'PRICE_FILTER', minPrice: '0.00001000', maxPrice: '1000.00000000', tickSize: '0.00001000' },
    { filterType: 'LOT_SIZE', minQty: '0.00100000', maxQty: '100000.00000000', stepSize: '0.00100000' },
    { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: '2000.00000000', stepSize: '0.00000000' },
    { filterType: 'NOTIONAL', minNotional: '0.00010000', maxNotional: '9000000.00000000' },
  ],
});

const levels = ['0.4', '0.5', '0.625', '0.78'].map(parse);
const rich = { refPrice: parse('0.049'), bidQtys: levels, askQtys: levels,
  freeBase: parse('200'), freeQuote: parse('10') };

test('delays are exponential with the mean and a floor', () => {
  const r = new Rng(11);
  const xs = Array.from({ length: 20000 }, () => nextDelayMs(r, 2600, 200));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean - 2600 - 200 * (1 - Math.exp(-200 / 2600))) < 80, `mean ${mean}`);
  assert.ok(xs.every((x) => x >= 200 && Number.isInteger(x)));
});

test('side probability leans against the inventory, within bounds', () => {
  assert.equal(buyProbability(0), 0.5);
  assert.ok(buyProbability(0.5) < 0.5 && buyProbability(-0.5) > 0.5);
  assert.equal(buyProbability(5), 0.15);
  assert.equal(buyProbability(-5), 0.85);
});

test('orders are small, on the step, inside the filters, with occasional sweeps', () => {
  const r = new Rng(5);
  let sweeps = 0;
  let buys = 0;
  const n = 2000;
  for (let i = 0; i < n; i += 1) {
    const d = decideOrder(r, { ...rich, sweepProb: 0.1 }, kEthBtc);
    assert.ok(d, 'an order fits');
    assert.equal(d.qty % kEthBtc.stepSize, 0n);
    assert.ok(d.qty >= kEthBtc.minQty);
    assert.ok(mul(d.qty, rich.refPrice) >= kEthBtc.minNotional);
    if (d.sweep) {
      sweeps += 1;
      assert.ok(d.qty > levels[0], 'a sweep takes more than the best level');
      assert.ok(d.qty < levels.reduce((a, b) => a + b, 0n));
    } else {
      assert.ok(d.qty <= (levels[0] * 6n) / 10n, 'a small order takes at most 60 % of the best level');
      assert.ok(d.qty >= (levels[0] * 9n) / 100n);
    }
    if (d.side === 'BUY') buys += 1;
  }
  assert.ok(sweeps > n * 0.06 && sweeps < n * 0.14, `sweeps ${sweeps}`);
  assert.ok(buys > n * 0.45 && buys < n * 0.55, `buys ${buys}`);
});

test('orders are bounded by the free balance', () => {
  const r = new Rng(8);
  const poorQuote = { ...rich, freeQuote: parse('0.005'), sweepProb: 1 };
  for (let i = 0; i < 500; i += 1) {
    const d = decideOrder(r, poorQuote, kEthBtc);
    if (d?.side !== 'BUY') continue;
    // cost with the 3 % slippage margin stays within 90 % of the free quote
    assert.ok(mul(d.qty, parse('0.05047')) <= parse('0.0045'), `qty ${d.qty}`);
  }
  const poorBase = { ...rich, freeBase: parse('0.5'), sweepProb: 1 };
  let sells = 0;
  for (let i = 0; i < 500; i += 1) {
    const d = decideOrder(r, poorBase, kEthBtc);
    if (d?.side !== 'SELL') continue;
    sells += 1;
    assert.ok(d.qty <= parse('0.45'), `sell ${d.qty} beyond 90 % of the free base`);
  }
  assert.ok(sells > 100);
  const broke = { ...rich, freeBase: 0n, freeQuote: 0n };
  for (let i = 0; i < 100; i += 1) assert.equal(decideOrder(r, broke, kEthBtc), null);
});

test('nothing is sent into an empty side or below the minimum', () => {
  const r = new Rng(9);
  for (let i = 0; i < 100; i += 1) {
    const d = decideOrder(r, { ...rich, askQtys: [] }, kEthBtc);
    if (d) assert.equal(d.side, 'SELL');
  }
  // Levels too small for the minimum are raised to it when the balance allows.
  const d = decideOrder(new Rng(1), { ...rich, bidQtys: [parse('0.001')], askQtys: [parse('0.001')] }, kEthBtc);
  assert.ok(d.qty >= kEthBtc.minQty && mul(d.qty, rich.refPrice) >= kEthBtc.minNotional);
});

test('a long taker sells more often', () => {
  const r = new Rng(21);
  let sells = 0;
  for (let i = 0; i < 1000; i += 1) if (decideOrder(r, { ...rich, skew: 1 }, kEthBtc).side === 'SELL') sells += 1;
  assert.ok(sells > 780, `sells ${sells}`);
});
