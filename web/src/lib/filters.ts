// A symbol's exchange filters (exchangeInfo.symbols[].filters) as the order form applies them
// while the user types: rounding a price down to the tick and a quantity down to the step, and
// the checks the gateway makes before the engine (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
// NOTIONAL / MIN_NOTIONAL, PERCENT_PRICE_BY_SIDE when a reference price is known), each failure
// named as Binance names it ("Filter failure: LOT_SIZE") with what would pass. A value of "0"
// in a filter field disables that rule, as on Binance. All arithmetic is exact (lib/decimal.ts).
import { D, floorToStep, stepDecimals, trimZeros, type Dec } from './decimal';
import type {
  LotSizeFilter, MinNotionalFilter, NotionalFilter, PercentPriceBySideFilter, PriceFilter, Side, SymbolInfo,
} from './types';

/** The filters of one symbol the form uses; absent ones are undefined (no rule). */
export interface Filters {
  price?: PriceFilter;
  lot?: LotSizeFilter;
  marketLot?: LotSizeFilter;
  notional?: NotionalFilter;
  minNotional?: MinNotionalFilter;
  percentBySide?: PercentPriceBySideFilter;
  /** Decimals shown for prices (from tickSize, else the quote precision). */
  priceDecimals: number;
  /** Decimals shown for quantities (from stepSize, else the base precision). */
  qtyDecimals: number;
  /** Decimals of the quote asset (totals, quoteOrderQty). */
  quoteDecimals: number;
}

/** A failed rule: the field it concerns, the filter's name, and the text to show. */
export interface Violation {
  field: 'price' | 'stopPrice' | 'qty' | 'total';
  filter: string;
  message: string;
}

export function symbolFilters(info: SymbolInfo): Filters {
  const find = <T>(type: string) => info.filters.find((f) => f.filterType === type) as T | undefined;
  const price = find<PriceFilter>('PRICE_FILTER');
  const lot = find<LotSizeFilter>('LOT_SIZE');
  const tickOk = price && !D(price.tickSize).isZero();
  const stepOk = lot && !D(lot.stepSize).isZero();
  return {
    price,
    lot,
    marketLot: find<LotSizeFilter>('MARKET_LOT_SIZE'),
    notional: find<NotionalFilter>('NOTIONAL'),
    minNotional: find<MinNotionalFilter>('MIN_NOTIONAL'),
    percentBySide: find<PercentPriceBySideFilter>('PERCENT_PRICE_BY_SIDE'),
    priceDecimals: tickOk ? stepDecimals(price.tickSize) : info.quotePrecision,
    qtyDecimals: stepOk ? stepDecimals(lot.stepSize) : info.baseAssetPrecision,
    quoteDecimals: info.quoteAssetPrecision ?? info.quotePrecision,
  };
}

const isZero = (s: string | undefined) => s === undefined || D(s).isZero();

/** The step of market quantities: MARKET_LOT_SIZE's, else LOT_SIZE's (as the gateway does). */
function marketStep(f: Filters): string | undefined {
  if (f.marketLot && !isZero(f.marketLot.stepSize)) return f.marketLot.stepSize;
  return f.lot?.stepSize;
}

/** `price` rounded down to the tick, as text with the tick's decimals ("" stays ""). */
export function roundPrice(f: Filters, price: Dec): string {
  const tick = f.price?.tickSize;
  const v = tick && !isZero(tick) ? floorToStep(price, tick) : price;
  return v.toFixed(f.priceDecimals);
}

/** `qty` rounded down to the (market) step, as text with the step's decimals. */
export function roundQty(f: Filters, qty: Dec, market = false): string {
  const step = market ? marketStep(f) : f.lot?.stepSize;
  const v = step && !isZero(step) ? floorToStep(qty, step) : qty;
  return v.toFixed(f.qtyDecimals);
}

/** A quote amount (total, quoteOrderQty) rounded down to the quote asset's decimals. */
export function roundQuote(f: Filters, amount: Dec): string {
  return amount.toDecimalPlaces(f.quoteDecimals, 1 /* ROUND_DOWN */).toFixed(f.quoteDecimals);
}

function onGrid(v: Dec, step: string): boolean {
  return isZero(step) || v.mod(D(step)).isZero();
}

/** PRICE_FILTER for a price or a stop price; null when it passes. */
export function checkPrice(f: Filters, price: Dec, field: 'price' | 'stopPrice' = 'price'): Violation | null {
  const pf = f.price;
  if (!pf) return null;
  const fail = (why: string): Violation => ({ field, filter: 'PRICE_FILTER', message: `Filter failure: PRICE_FILTER (${why})` });
  if (!isZero(pf.minPrice) && price.lt(D(pf.minPrice))) return fail(`minimum ${trimZeros(pf.minPrice)}`);
  if (!isZero(pf.maxPrice) && price.gt(D(pf.maxPrice))) return fail(`maximum ${trimZeros(pf.maxPrice)}`);
  if (!onGrid(price, pf.tickSize)) return fail(`tick size ${trimZeros(pf.tickSize)}`);
  return null;
}

/** LOT_SIZE (or MARKET_LOT_SIZE for a market order) for a quantity; null when it passes. */
export function checkQty(f: Filters, qty: Dec, market = false): Violation | null {
  const name = market ? 'MARKET_LOT_SIZE' : 'LOT_SIZE';
  const lf = market ? f.marketLot ?? f.lot : f.lot;
  if (!lf) return null;
  const step = market ? marketStep(f) ?? '0' : lf.stepSize;
  const fail = (why: string): Violation => ({ field: 'qty', filter: name, message: `Filter failure: ${name} (${why})` });
  if (!isZero(lf.minQty) && qty.lt(D(lf.minQty))) return fail(`minimum ${trimZeros(lf.minQty)}`);
  if (!isZero(lf.maxQty) && qty.gt(D(lf.maxQty))) return fail(`maximum ${trimZeros(lf.maxQty)}`);
  if (!onGrid(qty, step)) return fail(`step size ${trimZeros(step)}`);
  return null;
}

/**
 * NOTIONAL (or the older MIN_NOTIONAL) for price × qty. For a market order `price` is the
 * reference price (last or average) and the bounds apply only when the filter says so; pass
 * undefined when no reference is known (no check then).
 */
export function checkNotional(f: Filters, price: Dec | undefined, qty: Dec, market = false): Violation | null {
  if (!price) return null;
  const notional = price.mul(qty);
  if (f.notional) {
    const n = f.notional;
    const fail = (why: string): Violation => ({ field: 'total', filter: 'NOTIONAL', message: `Filter failure: NOTIONAL (${why})` });
    if ((!market || n.applyMinToMarket) && !isZero(n.minNotional) && notional.lt(D(n.minNotional)))
      return fail(`minimum total ${trimZeros(n.minNotional)}`);
    if ((!market || n.applyMaxToMarket) && !isZero(n.maxNotional) && notional.gt(D(n.maxNotional)))
      return fail(`maximum total ${trimZeros(n.maxNotional)}`);
  } else if (f.minNotional) {
    const n = f.minNotional;
    if ((!market || n.applyToMarket) && !isZero(n.minNotional) && notional.lt(D(n.minNotional)))
      return { field: 'total', filter: 'MIN_NOTIONAL', message: `Filter failure: MIN_NOTIONAL (minimum total ${trimZeros(n.minNotional)})` };
  }
  return null;
}

/**
 * PERCENT_PRICE_BY_SIDE: a BUY price within [ref × bidMultiplierDown, ref × bidMultiplierUp], a
 * SELL price within the ask multipliers. `ref` is the average price the exchange would use;
 * undefined skips the check (the server checks again anyway).
 */
export function checkPercentPrice(f: Filters, side: Side, price: Dec, ref: Dec | undefined): Violation | null {
  const pf = f.percentBySide;
  if (!pf || !ref || ref.isZero()) return null;
  const up = D(side === 'BUY' ? pf.bidMultiplierUp : pf.askMultiplierUp);
  const down = D(side === 'BUY' ? pf.bidMultiplierDown : pf.askMultiplierDown);
  const hi = ref.mul(up);
  const lo = ref.mul(down);
  if ((!up.isZero() && price.gt(hi)) || (!down.isZero() && price.lt(lo)))
    return {
      field: 'price',
      filter: 'PERCENT_PRICE_BY_SIDE',
      message: `Filter failure: PERCENT_PRICE_BY_SIDE (between ${roundPrice(f, lo)} and ${roundPrice(f, hi)})`,
    };
  return null;
}
