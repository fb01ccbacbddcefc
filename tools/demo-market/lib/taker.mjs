// The taker's schedule: small market orders at random (exponential) intervals per symbol, with
// an occasional sweep through a few levels of the book, each bounded by the taker's free
// balance and the MARKET_LOT_SIZE / NOTIONAL filters. Pure: the caller supplies the random
// source, balances and the sizes of the book's levels.

import { ceilTo, divCeil, floorTo, max, min, mul, scale } from './decimal.mjs';

// Milliseconds until the next order of one symbol: exponential with mean meanMs, but at least
// minMs (a Poisson-like flow that cannot burst through the order budget).
export function nextDelayMs(rng, meanMs, minMs = 200) {
  return Math.max(minMs, Math.round(rng.exponential(meanMs)));
}

// Probability of buying given the taker's inventory skew (inventorySkew of its base asset):
// too long -> sell more often. Kept within [0.15, 0.85] so both sides always trade.
export function buyProbability(skew) {
  return Math.max(0.15, Math.min(0.85, 0.5 - 0.45 * skew));
}

// Decides one market order, or null when none fits. Input:
//   rng; skew (taker's base inventory skew); refPrice (BigInt, the current mid, for costing);
//   bidQtys / askQtys: BigInt sizes of the book's levels, best first (the side a BUY takes is
//     the asks); freeBase / freeQuote: BigInt free balances; f: filters (ladder.mjs);
//   sweepProb (0..1), sweepLevels [lo, hi]: levels a sweep takes; smallFrac [lo, hi]: a small
//     order's share of the best level; slippage: cost margin of a buy (0.03 = 3 %).
// Returns {side, qty, sweep} with qty a BigInt multiple of the step inside the filters.
export function decideOrder(rng, p, f) {
  const { skew = 0, refPrice, bidQtys = [], askQtys = [], freeBase, freeQuote } = p;
  const { sweepProb = 0.08, sweepLevels = [2, 4], smallFrac = [0.1, 0.6], slippage = 0.03 } = p;
  const side = rng.next() < buyProbability(skew) ? 'BUY' : 'SELL';
  const levels = side === 'BUY' ? askQtys : bidQtys;
  if (levels.length === 0 || refPrice <= 0n) return null;
  let qty;
  const sweep = levels.length >= 2 && rng.next() < sweepProb;
  if (sweep) {
    const k = Math.min(levels.length, rng.int(sweepLevels[0], sweepLevels[1]));
    qty = levels.slice(0, k).reduce((a, b) => a + b, 0n);
    qty = scale(qty, 0.98); // end inside the last swept level, not exactly at its edge
  } else {
    qty = scale(levels[0], rng.uniform(smallFrac[0], smallFrac[1]));
  }
  // Bounded by the balance: 90 % of the free base for a sell, of the free quote (with a margin
  // for the price moving through the levels) for a buy.
  const cap = side === 'SELL'
    ? scale(freeBase, 0.9)
    : (scale(freeQuote, 0.9) * 10n ** 8n) / scale(refPrice, 1 + slippage);
  qty = min(qty, cap);
  if (f.marketMaxQty > 0n) qty = min(qty, f.marketMaxQty);
  if (f.maxQty > 0n) qty = min(qty, f.maxQty);
  qty = floorTo(qty, f.stepSize);
  // Raise to the minimum if the balance allows it.
  const minQty = max(f.marketMinQty, f.minQty);
  let floorQty = max(minQty, f.stepSize);
  if (f.minNotional > 0n) {
    floorQty = max(floorQty, ceilTo(divCeil(f.minNotional + f.minNotional / 5n, refPrice), f.stepSize));
  }
  if (qty < floorQty) qty = floorQty <= floorTo(cap, f.stepSize) ? floorQty : 0n;
  if (qty <= 0n) return null;
  if (f.minNotional > 0n && mul(refPrice, qty) < f.minNotional) return null;
  return { side, qty, sweep };
}
