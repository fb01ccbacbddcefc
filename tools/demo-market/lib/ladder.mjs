// The maker's quote ladder and the diff against its live orders. Pure functions over exact
// decimals (BigInt units, decimal.mjs): nothing here talks to the exchange.
//
// The ladder sits on a grid: level prices are centre ± (halfSpread + i·spacing) ticks, and the
// centre only moves in whole grid steps (nextCenter, with hysteresis). When the mid price moves
// one step, one quote per side changes and every other price stays where it was, so the diff
// replaces one or two orders instead of the whole ladder: the per-account order count is the
// scarce resource (docs/demo-market.md).

import { ceilTo, divCeil, floorTo, max, min, mul, parse, scale } from './decimal.mjs';

// The filters the bots obey, from an exchangeInfo symbol: BigInt units, 0n when absent.
export function filtersFromSymbol(sym) {
  const f = Object.fromEntries((sym.filters ?? []).map((x) => [x.filterType, x]));
  const get = (type, key) => (f[type] && f[type][key] !== undefined ? parse(f[type][key]) : 0n);
  const notional = f.NOTIONAL ? 'NOTIONAL' : 'MIN_NOTIONAL';
  const out = {
    symbol: sym.symbol,
    base: sym.baseAsset,
    quote: sym.quoteAsset,
    tickSize: get('PRICE_FILTER', 'tickSize'),
    minPrice: get('PRICE_FILTER', 'minPrice'),
    maxPrice: get('PRICE_FILTER', 'maxPrice'),
    stepSize: get('LOT_SIZE', 'stepSize'),
    minQty: get('LOT_SIZE', 'minQty'),
    maxQty: get('LOT_SIZE', 'maxQty'),
    marketMinQty: get('MARKET_LOT_SIZE', 'minQty'),
    marketMaxQty: get('MARKET_LOT_SIZE', 'maxQty'),
    minNotional: get(notional, 'minNotional'),
    maxNotional: get(notional, 'maxNotional'),
  };
  if (out.tickSize <= 0n || out.stepSize <= 0n) {
    throw new RangeError(`${sym.symbol}: no tickSize/stepSize in exchangeInfo`);
  }
  return out;
}

// The ladder centre in ticks (BigInt, a multiple of spacingTicks): snaps the mid (in ticks) to
// the grid, but keeps the previous centre while the mid is within `hysteresis` grid steps of it,
// so a mid that hovers around a grid line does not make the ladder flap.
export function nextCenter(prevCenter, midTicks, spacingTicks, hysteresis = 0.75) {
  if (spacingTicks <= 0n) throw new RangeError('spacing must be positive');
  const snapped = ((midTicks + spacingTicks / 2n) / spacingTicks) * spacingTicks;
  if (prevCenter === null || prevCenter === undefined) return snapped;
  const dist = midTicks > prevCenter ? midTicks - prevCenter : prevCenter - midTicks;
  return Number(dist) >= hysteresis * Number(spacingTicks) ? snapped : prevCenter;
}

// Inventory deviation as a skew in [-1, 1]: +1 = holding `band` (a fraction of the target) or
// more above target (too long: sell more, buy less), -1 = that much below.
export function inventorySkew(total, target, band = 0.25) {
  if (target <= 0n) return 0;
  const dev = Number(total - target) / Number(target) / band;
  return Math.max(-1, Math.min(1, dev));
}

// Size factor for one side, quantised to tenths (a small inventory change must not move every
// quote's size) and at least 0.2.
export function sizeFactor(skew, skewSize, side) {
  const raw = side === 'BUY' ? 1 - skew * skewSize : 1 + skew * skewSize;
  return Math.max(0.2, Math.round(raw * 10) / 10);
}

// One quote size: base·factor rounded down to the step, then kept inside LOT_SIZE and
// NOTIONAL (raised to reach minNotional with a 10 % margin, lowered below maxNotional).
// Returns 0n when no valid size exists at this price.
export function quoteQty(baseQty, factor, price, f) {
  let qty = floorTo(scale(baseQty, factor), f.stepSize);
  qty = max(qty, f.minQty > 0n ? ceilTo(f.minQty, f.stepSize) : f.stepSize);
  if (f.minNotional > 0n && mul(price, qty) < f.minNotional + f.minNotional / 10n) {
    qty = ceilTo(divCeil(f.minNotional + f.minNotional / 10n, price), f.stepSize);
  }
  if (f.maxQty > 0n && qty > f.maxQty) qty = floorTo(f.maxQty, f.stepSize);
  if (f.maxNotional > 0n && mul(price, qty) > f.maxNotional) {
    qty = floorTo((f.maxNotional * 10n ** 8n) / price, f.stepSize);
  }
  if (qty <= 0n || (f.minQty > 0n && qty < f.minQty)) return 0n;
  if (f.minNotional > 0n && mul(price, qty) < f.minNotional) return 0n;
  return qty;
}

// The desired ladder: [{side, level, price, qty}] (BigInt units), bids best first then asks
// best first. Parameters:
//   centerTicks  BigInt, from nextCenter        spacingTicks  BigInt grid step
//   halfSpreadTicks  BigInt, centre to best quote (>= 1 tick so the sides never touch)
//   levels  quotes per side (1..50)             baseQty  BigInt units, size of level 0
//   growth  size multiplier per level (Number)  skew  inventorySkew() in [-1, 1]
//   skewSteps  grid steps the whole ladder moves down at skew +1 (up at -1)
//   skewSize  size change at |skew| = 1 (0.5: bids half, asks 1.5x when too long)
export function buildLadder(p, f) {
  const { centerTicks, spacingTicks, halfSpreadTicks, levels, baseQty } = p;
  const { growth = 1, skew = 0, skewSteps = 0, skewSize = 0 } = p;
  if (!(levels >= 1 && levels <= 50)) throw new RangeError('levels must be 1..50');
  if (spacingTicks <= 0n || halfSpreadTicks <= 0n) throw new RangeError('spacing/spread must be > 0');
  const shift = BigInt(Math.round(Math.max(-1, Math.min(1, skew)) * skewSteps)) * spacingTicks;
  const centre = centerTicks - shift;
  const out = [];
  for (const side of ['BUY', 'SELL']) {
    const factor = sizeFactor(skew, skewSize, side);
    for (let i = 0; i < levels; i += 1) {
      const offset = halfSpreadTicks + BigInt(i) * spacingTicks;
      const ticks = side === 'BUY' ? centre - offset : centre + offset;
      const price = ticks * f.tickSize;
      if (ticks <= 0n || (f.minPrice > 0n && price < f.minPrice)) break;
      if (f.maxPrice > 0n && price > f.maxPrice) break;
      const qty = quoteQty(baseQty, factor * growth ** i, price, f);
      if (qty > 0n) out.push({ side, level: i, price, qty });
    }
  }
  return out;
}

// Compares the desired ladder with the live orders ({orderId, side, price, qty: remaining}).
// A live order is kept when a desired quote has its side and exact price and its remaining
// quantity is within ±tolerance of the desired one; every other live order is stale. Returns
// {keep, actions} with actions in the order to send them:
//   1. {type:'cancel', order}  stale orders a desired quote would cross (an ask at or below the
//      new best bid, a bid at or above the new best ask): removed before anything is placed, so
//      the maker never trades with itself;
//   2. per missing quote, inner levels first: {type:'replace', order, want} (cancelReplace of a
//      stale order) while stale orders remain, then {type:'place', want};
//   3. {type:'cancel', order}  the stale orders left over.
export function diffOrders(desired, live, tolerance = 0.34) {
  const liveLeft = [...live].sort((a, b) => cmpId(a.orderId, b.orderId));
  const keep = [];
  const missing = [];
  for (const want of desired) {
    const i = liveLeft.findIndex((o) => o.side === want.side && o.price === want.price &&
      withinTolerance(o.qty, want.qty, tolerance));
    if (i >= 0) {
      keep.push(liveLeft[i]);
      liveLeft.splice(i, 1);
    } else {
      missing.push(want);
    }
  }
  let bestBid = null;
  let bestAsk = null;
  for (const w of desired) {
    if (w.side === 'BUY' && (bestBid === null || w.price > bestBid)) bestBid = w.price;
    if (w.side === 'SELL' && (bestAsk === null || w.price < bestAsk)) bestAsk = w.price;
  }
  const crossing = (o) => (o.side === 'SELL' && bestBid !== null && o.price <= bestBid) ||
    (o.side === 'BUY' && bestAsk !== null && o.price >= bestAsk);
  const actions = [];
  const stale = [];
  for (const o of liveLeft) {
    if (crossing(o)) actions.push({ type: 'cancel', order: o });
    else stale.push(o);
  }
  missing.sort((a, b) => a.level - b.level || (a.side < b.side ? -1 : a.side > b.side ? 1 : 0));
  for (const want of missing) {
    if (stale.length > 0) actions.push({ type: 'replace', order: stale.shift(), want });
    else actions.push({ type: 'place', want });
  }
  for (const o of stale) actions.push({ type: 'cancel', order: o });
  return { keep, actions };
}

// The actions that fit in `orderBudget` new orders (a replace or place costs one, a cancel
// none), keeping their order; the rest waits for the next cycle.
export function withinBudget(actions, orderBudget) {
  let left = Math.max(0, Math.floor(orderBudget));
  const out = [];
  for (const a of actions) {
    if (a.type === 'cancel') {
      out.push(a);
    } else if (left > 0) {
      out.push(a);
      left -= 1;
    }
  }
  return out;
}

function withinTolerance(have, want, tolerance) {
  const lo = scale(want, 1 - tolerance);
  const hi = scale(want, 1 + tolerance);
  return have >= lo && have <= hi;
}

function cmpId(a, b) {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
