// The order form's validation and the exact requests it sends.
import { describe, expect, it } from 'vitest';
import { symbolFilters } from './filters';
import { buildOrder, emptyInput, fieldErrors, percentFill, qtyFromTotal, stopLimitType, totalOf, type FormInput } from './orderForm';
import { D } from './decimal';
import type { SymbolInfo } from './types';

const info: SymbolInfo = {
  symbol: 'BTCUSDT', status: 'TRADING', baseAsset: 'BTC', baseAssetPrecision: 8, quoteAsset: 'USDT',
  quotePrecision: 8, quoteAssetPrecision: 2, orderTypes: [], ocoAllowed: true,
  filters: [
    { filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000', tickSize: '0.01' },
    { filterType: 'LOT_SIZE', minQty: '0.0001', maxQty: '9000', stepSize: '0.0001' },
    { filterType: 'MARKET_LOT_SIZE', minQty: '0.001', maxQty: '100', stepSize: '0' },
    { filterType: 'NOTIONAL', minNotional: '5', applyMinToMarket: true, maxNotional: '0', applyMaxToMarket: false, avgPriceMins: 5 },
  ],
};
const ctx = { symbol: 'BTCUSDT', filters: symbolFilters(info), lastPrice: '65000.00' };
const form = (o: Partial<FormInput>): FormInput => ({ ...emptyInput(), ...o });

describe('LIMIT', () => {
  it('builds the exact parameters', () => {
    const r = buildOrder(form({ side: 'BUY', price: '64000.50', qty: '0.0150' }), ctx);
    expect(r).toEqual({
      ok: true,
      request: {
        path: '/api/v3/order',
        params: { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.015', price: '64000.5', newOrderRespType: 'RESULT' },
      },
    });
  });
  it('reports every problem by field', () => {
    const r = buildOrder(form({ price: '', qty: 'x' }), ctx);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(fieldErrors(r.errors, 'price')).toBe('Enter a price');
    expect(fieldErrors(r.errors, 'qty')).toBe('An amount is not a number');
  });
  it('applies the filters', () => {
    const bad = (o: Partial<FormInput>) => {
      const r = buildOrder(form(o), ctx);
      return r.ok ? [] : r.errors.map((e) => `${e.field} ${e.message}`);
    };
    expect(bad({ price: '64000.001', qty: '1' })).toEqual(['price Filter failure: PRICE_FILTER (tick size 0.01)']);
    expect(bad({ price: '64000', qty: '0.00001' })).toEqual(['qty Filter failure: LOT_SIZE (minimum 0.0001)']);
    expect(bad({ price: '1', qty: '1' })).toEqual(['total Filter failure: NOTIONAL (minimum total 5)']);
    expect(bad({ price: '0', qty: '1' })).toEqual(['price A price must be above 0']);
    expect(bad({ price: '-5', qty: '1' })).toEqual(['price A price is not a number']);
  });
});

describe('MARKET', () => {
  it('sends a quantity, checked against MARKET_LOT_SIZE and the notional at the last price', () => {
    const r = buildOrder(form({ type: 'MARKET', side: 'SELL', qty: '0.002' }), ctx);
    expect(r.ok && r.request.params).toEqual({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002', newOrderRespType: 'RESULT' });
    const small = buildOrder(form({ type: 'MARKET', qty: '0.0005' }), ctx);
    expect(!small.ok && small.errors[0]?.message).toBe('Filter failure: MARKET_LOT_SIZE (minimum 0.001)');
    const cheap = buildOrder(form({ type: 'MARKET', qty: '0.001' }), { ...ctx, lastPrice: '1' });
    expect(!cheap.ok && cheap.errors[0]?.message).toBe('Filter failure: NOTIONAL (minimum total 5)');
  });
  it('sends quoteOrderQty when only a total is given, never price or timeInForce', () => {
    const r = buildOrder(form({ type: 'MARKET', side: 'BUY', total: '100.50', price: '1' }), ctx);
    expect(r.ok && r.request.params).toEqual({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: '100.5', newOrderRespType: 'RESULT' });
    const fine = buildOrder(form({ type: 'MARKET', total: '1.001' }), ctx);
    expect(!fine.ok && fine.errors[0]?.field).toBe('total');
  });
});

describe('Stop-limit', () => {
  it('chooses STOP_LOSS_LIMIT or TAKE_PROFIT_LIMIT by the stop against the last price', () => {
    expect(stopLimitType('BUY', D('70000'), D('65000'))).toBe('STOP_LOSS_LIMIT');
    expect(stopLimitType('BUY', D('60000'), D('65000'))).toBe('TAKE_PROFIT_LIMIT');
    expect(stopLimitType('SELL', D('60000'), D('65000'))).toBe('STOP_LOSS_LIMIT');
    expect(stopLimitType('SELL', D('70000'), D('65000'))).toBe('TAKE_PROFIT_LIMIT');
    expect(stopLimitType('SELL', D('65000'), D('65000'))).toBeNull();
    expect(stopLimitType('SELL', D('65000'), undefined)).toBe('STOP_LOSS_LIMIT');
  });
  it('builds a GTC stop-limit order', () => {
    const r = buildOrder(form({ type: 'STOP_LOSS_LIMIT', side: 'SELL', stopPrice: '70000', price: '69990', qty: '0.01' }), ctx);
    expect(r.ok && r.request.params).toEqual({
      symbol: 'BTCUSDT', side: 'SELL', type: 'TAKE_PROFIT_LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '69990', stopPrice: '70000', newOrderRespType: 'RESULT',
    });
    const now = buildOrder(form({ type: 'STOP_LOSS_LIMIT', stopPrice: '65000', price: '65000', qty: '0.01' }), ctx);
    expect(!now.ok && now.errors[0]?.field).toBe('stopPrice');
    const tick = buildOrder(form({ type: 'STOP_LOSS_LIMIT', stopPrice: '70000.001', price: '70000', qty: '0.01' }), ctx);
    expect(!tick.ok && tick.errors[0]?.message).toBe('Filter failure: PRICE_FILTER (tick size 0.01)');
  });
});

describe('OCO', () => {
  it('SELL: take profit above (LIMIT_MAKER), stop-limit below', () => {
    const r = buildOrder(form({ type: 'OCO', side: 'SELL', limitPrice: '70000', stopPrice: '60000', stopLimitPrice: '59900', qty: '0.01' }), ctx);
    expect(r.ok && r.request).toEqual({
      path: '/api/v3/orderList/oco',
      params: {
        symbol: 'BTCUSDT', side: 'SELL', quantity: '0.01', aboveType: 'LIMIT_MAKER', abovePrice: '70000',
        belowType: 'STOP_LOSS_LIMIT', belowStopPrice: '60000', belowPrice: '59900', belowTimeInForce: 'GTC', newOrderRespType: 'RESULT',
      },
    });
  });
  it('BUY: stop above, limit below; a stop leg without a limit price is STOP_LOSS', () => {
    const r = buildOrder(form({ type: 'OCO', side: 'BUY', limitPrice: '60000', stopPrice: '70000', qty: '0.01' }), ctx);
    expect(r.ok && r.request.params).toEqual({
      symbol: 'BTCUSDT', side: 'BUY', quantity: '0.01', aboveType: 'STOP_LOSS', aboveStopPrice: '70000',
      belowType: 'LIMIT_MAKER', belowPrice: '60000', newOrderRespType: 'RESULT',
    });
  });
  it('refuses prices on the wrong side of the last price', () => {
    const r = buildOrder(form({ type: 'OCO', side: 'SELL', limitPrice: '64000', stopPrice: '60000', qty: '0.01' }), ctx);
    expect(!r.ok && r.errors[0]?.field).toBe('form');
    const noLast = buildOrder(form({ type: 'OCO', side: 'SELL', limitPrice: '64000', stopPrice: '60000', qty: '0.01' }), { ...ctx, lastPrice: undefined });
    expect(noLast.ok).toBe(true);
    const inverted = buildOrder(form({ type: 'OCO', side: 'SELL', limitPrice: '60000', stopPrice: '64000', qty: '0.01' }), { ...ctx, lastPrice: undefined });
    expect(!inverted.ok && inverted.errors[0]?.message).toBe('The limit price must be above the stop price');
  });
  it('checks each leg against the filters', () => {
    const r = buildOrder(form({ type: 'OCO', side: 'SELL', limitPrice: '70000', stopPrice: '60000', stopLimitPrice: '0.01', qty: '0.01' }), ctx);
    expect(!r.ok && r.errors.map((e) => e.message)).toEqual(['Filter failure: NOTIONAL (minimum total 5)']);
  });
});

describe('percent of available', () => {
  const fl = ctx.filters;
  it('BUY: free quote / price, rounded down to the step', () => {
    expect(percentFill(fl, 'BUY', 'LIMIT', 25, '1', '1000', '30000')).toEqual({ qty: '0.0083' });
    expect(percentFill(fl, 'BUY', 'LIMIT', 100, '1', '1000', '30000')).toEqual({ qty: '0.0333' });
    expect(percentFill(fl, 'BUY', 'LIMIT', 50, '1', '1000', '')).toEqual({});
  });
  it('MARKET BUY: the quote amount itself', () => {
    expect(percentFill(fl, 'BUY', 'MARKET', 75, '1', '1000.999', '')).toEqual({ total: '750.74' });
  });
  it('SELL: free base, rounded down to the step', () => {
    expect(percentFill(fl, 'SELL', 'LIMIT', 50, '0.12345', '0', '30000')).toEqual({ qty: '0.0617' });
    expect(percentFill(fl, 'SELL', 'MARKET', 100, '0.12345', '0', '')).toEqual({ qty: '0.1234' });
  });
  it('totals both ways', () => {
    expect(totalOf(fl, '65000.5', '0.0123')).toBe('799.50');
    expect(totalOf(fl, '', '1')).toBe('');
    expect(qtyFromTotal(fl, '100', '30000')).toBe('0.0033');
  });
});
