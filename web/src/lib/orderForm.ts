// The order form's logic without React: what the user typed (decimal text) -> the checks the
// exchange would make (lib/filters.ts) and the exact request parameters sent, for Limit,
// Market (quantity, or quoteOrderQty: spend/receive an amount of quote), Stop-limit
// (STOP_LOSS_LIMIT or TAKE_PROFIT_LIMIT, chosen by the stop against the last price as Binance's
// trigger rules require) and OCO (POST /api/v3/orderList/oco with aboveType/belowType: a
// LIMIT_MAKER take-profit leg and a STOP_LOSS(_LIMIT) leg). Also the 25/50/75/100 % helpers.
// Pure functions on strings; every amount is exact (lib/decimal.ts), never a Number.
import { D, parseDec, type Dec } from './decimal';
import {
  checkNotional, checkPercentPrice, checkPrice, checkQty, roundQty, roundQuote, type Filters,
} from './filters';
import type { Side } from './types';

export type FormType = 'LIMIT' | 'MARKET' | 'STOP_LOSS_LIMIT' | 'OCO';

/** What the user typed, field by field (empty string = not filled in). */
export interface FormInput {
  side: Side;
  type: FormType;
  /** LIMIT price; Stop-limit: the limit price once triggered. */
  price: string;
  qty: string;
  /** MARKET only, used when qty is empty: the quote amount (quoteOrderQty). */
  total: string;
  /** Stop-limit and OCO: the trigger price. */
  stopPrice: string;
  /** OCO: the take-profit (LIMIT_MAKER) leg's price. */
  limitPrice: string;
  /** OCO: the stop leg's limit price; empty = a STOP_LOSS (market) leg. */
  stopLimitPrice: string;
}

export interface FormContext {
  symbol: string;
  filters: Filters;
  /** Last trade price, if known: chooses the stop type and checks OCO price order. */
  lastPrice?: string;
  /** Reference price for PERCENT_PRICE_BY_SIDE and market notional (avgPrice), if known. */
  refPrice?: string;
}

export type FormField = 'price' | 'qty' | 'total' | 'stopPrice' | 'limitPrice' | 'stopLimitPrice' | 'form';

export interface FormError {
  field: FormField;
  message: string;
}

export interface OrderRequest {
  path: '/api/v3/order' | '/api/v3/orderList/oco';
  /** Exactly the parameters sent (form body), all strings. */
  params: Record<string, string>;
}

export type BuildResult = { ok: true; request: OrderRequest } | { ok: false; errors: FormError[] };

export const emptyInput = (side: Side = 'BUY', type: FormType = 'LIMIT'): FormInput => ({
  side, type, price: '', qty: '', total: '', stopPrice: '', limitPrice: '', stopLimitPrice: '',
});

/** A positive decimal from a field, or an error for it. */
function positive(text: string, field: FormField, label: string, errors: FormError[]): Dec | undefined {
  if (text.trim() === '') {
    errors.push({ field, message: `Enter ${label}` });
    return undefined;
  }
  const v = parseDec(text);
  if (!v) {
    errors.push({ field, message: `${label[0]!.toUpperCase()}${label.slice(1)} is not a number` });
    return undefined;
  }
  if (v.isZero()) {
    errors.push({ field, message: `${label[0]!.toUpperCase()}${label.slice(1)} must be above 0` });
    return undefined;
  }
  return v;
}

const txt = (v: Dec) => v.toFixed();

function push(errors: FormError[], field: FormField, v: { message: string } | null) {
  if (v) errors.push({ field, message: v.message });
}

/**
 * The stop order type Binance requires for a stop at `stop` given the last price: a BUY stop
 * above the market and a SELL stop below it are STOP_LOSS_LIMIT, the others TAKE_PROFIT_LIMIT.
 * A stop equal to the last price would trigger at once (the server refuses it): null.
 * Without a last price, STOP_LOSS_LIMIT (the server decides).
 */
export function stopLimitType(side: Side, stop: Dec, last: Dec | undefined): 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT_LIMIT' | null {
  if (!last || last.isZero()) return 'STOP_LOSS_LIMIT';
  if (stop.eq(last)) return null;
  const above = stop.gt(last);
  return (side === 'BUY') === above ? 'STOP_LOSS_LIMIT' : 'TAKE_PROFIT_LIMIT';
}

/** Validates the form and builds the request; all problems at once, by field. */
export function buildOrder(input: FormInput, ctx: FormContext): BuildResult {
  const f = ctx.filters;
  const errors: FormError[] = [];
  const last = ctx.lastPrice ? parseDec(ctx.lastPrice) : undefined;
  const ref = ctx.refPrice ? parseDec(ctx.refPrice) : last;
  const base = { symbol: ctx.symbol, side: input.side };

  if (input.type === 'LIMIT') {
    const price = positive(input.price, 'price', 'a price', errors);
    const qty = positive(input.qty, 'qty', 'an amount', errors);
    if (price) push(errors, 'price', checkPrice(f, price) ?? checkPercentPrice(f, input.side, price, ref));
    if (qty) push(errors, 'qty', checkQty(f, qty));
    if (price && qty && errors.length === 0) push(errors, 'total', checkNotional(f, price, qty));
    if (errors.length || !price || !qty) return { ok: false, errors };
    return {
      ok: true,
      request: {
        path: '/api/v3/order',
        params: { ...base, type: 'LIMIT', timeInForce: 'GTC', quantity: txt(qty), price: txt(price), newOrderRespType: 'RESULT' },
      },
    };
  }

  if (input.type === 'MARKET') {
    if (input.qty.trim() === '' && input.total.trim() !== '') {
      const total = positive(input.total, 'total', 'a total', errors);
      if (!total) return { ok: false, errors };
      if (total.decimalPlaces() > f.quoteDecimals)
        return { ok: false, errors: [{ field: 'total', message: `At most ${f.quoteDecimals} decimals` }] };
      return {
        ok: true,
        request: { path: '/api/v3/order', params: { ...base, type: 'MARKET', quoteOrderQty: txt(total), newOrderRespType: 'RESULT' } },
      };
    }
    const qty = positive(input.qty, 'qty', 'an amount', errors);
    if (qty) push(errors, 'qty', checkQty(f, qty, true));
    if (qty && errors.length === 0) push(errors, 'total', checkNotional(f, ref, qty, true));
    if (errors.length || !qty) return { ok: false, errors };
    return {
      ok: true,
      request: { path: '/api/v3/order', params: { ...base, type: 'MARKET', quantity: txt(qty), newOrderRespType: 'RESULT' } },
    };
  }

  if (input.type === 'STOP_LOSS_LIMIT') {
    const stop = positive(input.stopPrice, 'stopPrice', 'a stop price', errors);
    const price = positive(input.price, 'price', 'a limit price', errors);
    const qty = positive(input.qty, 'qty', 'an amount', errors);
    if (stop) push(errors, 'stopPrice', checkPrice(f, stop, 'stopPrice'));
    if (price) push(errors, 'price', checkPrice(f, price));
    if (qty) push(errors, 'qty', checkQty(f, qty));
    if (price && qty && errors.length === 0) push(errors, 'total', checkNotional(f, price, qty));
    let type: ReturnType<typeof stopLimitType> = 'STOP_LOSS_LIMIT';
    if (stop) {
      type = stopLimitType(input.side, stop, last);
      if (!type) errors.push({ field: 'stopPrice', message: 'The stop equals the last price: the order would trigger immediately' });
    }
    if (errors.length || !stop || !price || !qty || !type) return { ok: false, errors };
    return {
      ok: true,
      request: {
        path: '/api/v3/order',
        params: {
          ...base, type, timeInForce: 'GTC', quantity: txt(qty), price: txt(price), stopPrice: txt(stop), newOrderRespType: 'RESULT',
        },
      },
    };
  }

  // OCO: SELL = take profit above (LIMIT_MAKER) + stop below; BUY = stop above + limit below.
  const limit = positive(input.limitPrice, 'limitPrice', 'a limit price', errors);
  const stop = positive(input.stopPrice, 'stopPrice', 'a stop price', errors);
  const stopLimit = input.stopLimitPrice.trim() === '' ? undefined : positive(input.stopLimitPrice, 'stopLimitPrice', 'a stop-limit price', errors);
  const qty = positive(input.qty, 'qty', 'an amount', errors);
  if (limit) push(errors, 'limitPrice', checkPrice(f, limit));
  if (stop) push(errors, 'stopPrice', checkPrice(f, stop, 'stopPrice'));
  if (stopLimit) push(errors, 'stopLimitPrice', checkPrice(f, stopLimit));
  if (qty) push(errors, 'qty', checkQty(f, qty));
  if (limit && qty && errors.length === 0) push(errors, 'total', checkNotional(f, limit, qty));
  if (stopLimit && qty && errors.length === 0) push(errors, 'total', checkNotional(f, stopLimit, qty));
  if (limit && stop && errors.length === 0) {
    const [above, below] = input.side === 'SELL' ? [limit, stop] : [stop, limit];
    const aboveName = input.side === 'SELL' ? 'limit price' : 'stop price';
    const belowName = input.side === 'SELL' ? 'stop price' : 'limit price';
    if (last && !last.isZero()) {
      if (!above.gt(last) || !below.lt(last))
        errors.push({ field: 'form', message: `The ${aboveName} must be above the last price (${txt(last)}) and the ${belowName} below it` });
    } else if (!above.gt(below)) {
      errors.push({ field: 'form', message: `The ${aboveName} must be above the ${belowName}` });
    }
  }
  if (errors.length || !limit || !stop || !qty) return { ok: false, errors };
  const limitLeg = (p: 'above' | 'below') => ({ [`${p}Type`]: 'LIMIT_MAKER', [`${p}Price`]: txt(limit) });
  const stopLeg = (p: 'above' | 'below') =>
    stopLimit
      ? { [`${p}Type`]: 'STOP_LOSS_LIMIT', [`${p}StopPrice`]: txt(stop), [`${p}Price`]: txt(stopLimit), [`${p}TimeInForce`]: 'GTC' }
      : { [`${p}Type`]: 'STOP_LOSS', [`${p}StopPrice`]: txt(stop) };
  const legs = input.side === 'SELL' ? { ...limitLeg('above'), ...stopLeg('below') } : { ...stopLeg('above'), ...limitLeg('below') };
  return {
    ok: true,
    request: { path: '/api/v3/orderList/oco', params: { ...base, quantity: txt(qty), ...legs, newOrderRespType: 'RESULT' } },
  };
}

/** The errors of one field (for inline display). */
export function fieldErrors(errors: FormError[], field: FormField): string | undefined {
  return errors.filter((e) => e.field === field).map((e) => e.message)[0];
}

/**
 * The % buttons. BUY spends pct of the free quote: at `price` that is a quantity rounded down
 * to the step (LIMIT, stop-limit, OCO); for a MARKET BUY it is the quote amount itself
 * (quoteOrderQty, rounded down to the quote decimals). SELL sells pct of the free base, rounded
 * down to the step. Returns the field(s) to fill; an empty object when nothing can be computed
 * (no price for a priced BUY, unparsable balances).
 */
export function percentFill(f: Filters, side: Side, type: FormType, pct: number,
  freeBase: string, freeQuote: string, price: string): { qty?: string; total?: string } {
  const share = D(pct).div(100);
  const market = type === 'MARKET';
  if (side === 'SELL') {
    const b = parseDec(freeBase);
    if (!b) return {};
    return { qty: roundQty(f, b.mul(share), market) };
  }
  const q = parseDec(freeQuote);
  if (!q) return {};
  const spend = q.mul(share);
  if (market) return { total: roundQuote(f, spend) };
  const p = parseDec(price);
  if (!p || p.isZero()) return {};
  return { qty: roundQty(f, spend.div(p)) };
}

/** price × qty at the quote decimals, or '' when either is not a number. */
export function totalOf(f: Filters, price: string, qty: string): string {
  const p = parseDec(price);
  const q = parseDec(qty);
  if (!p || !q) return '';
  return roundQuote(f, p.mul(q));
}

/** The quantity a total buys at a price (rounded down to the step), or ''. */
export function qtyFromTotal(f: Filters, total: string, price: string): string {
  const t = parseDec(total);
  const p = parseDec(price);
  if (!t || !p || p.isZero()) return '';
  return roundQty(f, t.div(p));
}
