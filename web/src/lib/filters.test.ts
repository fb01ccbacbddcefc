// The symbol filters as the order form applies them: rounding and Binance's filter failures.
import { describe, expect, it } from 'vitest';
import { D } from './decimal';
import { checkNotional, checkPercentPrice, checkPrice, checkQty, roundPrice, roundQty, roundQuote, symbolFilters } from './filters';
import type { SymbolInfo } from './types';

const BTCUSDT: SymbolInfo = {
  symbol: 'BTCUSDT', status: 'TRADING', baseAsset: 'BTC', baseAssetPrecision: 8, quoteAsset: 'USDT',
  quotePrecision: 8, quoteAssetPrecision: 8, orderTypes: ['LIMIT', 'MARKET'], ocoAllowed: true,
  filters: [
    { filterType: 'PRICE_FILTER', minPrice: '0.01000000', maxPrice: '1000000.00000000', tickSize: '0.01000000' },
    { filterType: 'LOT_SIZE', minQty: '0.00010000', maxQty: '9000.00000000', stepSize: '0.00010000' },
    { filterType: 'ICEBERG_PARTS', limit: 10 },
    { filterType: 'MARKET_LOT_SIZE', minQty: '0.00100000', maxQty: '100.00000000', stepSize: '0.00000000' },
    { filterType: 'NOTIONAL', minNotional: '5.00000000', applyMinToMarket: true, maxNotional: '9000000.00000000', applyMaxToMarket: false, avgPriceMins: 5 },
    { filterType: 'PERCENT_PRICE_BY_SIDE', bidMultiplierUp: '5', bidMultiplierDown: '0.2', askMultiplierUp: '5', askMultiplierDown: '0.2', avgPriceMins: 5 },
  ],
};

const f = symbolFilters(BTCUSDT);

describe('symbolFilters', () => {
  it('finds the filters and the display decimals', () => {
    expect(f.price?.tickSize).toBe('0.01000000');
    expect(f.lot?.stepSize).toBe('0.00010000');
    expect(f.marketLot?.minQty).toBe('0.00100000');
    expect(f.notional?.minNotional).toBe('5.00000000');
    expect(f.minNotional).toBeUndefined();
    expect(f.priceDecimals).toBe(2);
    expect(f.qtyDecimals).toBe(4);
    expect(f.quoteDecimals).toBe(8);
  });
  it('falls back to the asset precision without filters', () => {
    const g = symbolFilters({ ...BTCUSDT, filters: [] });
    expect(g.priceDecimals).toBe(8);
    expect(g.qtyDecimals).toBe(8);
    expect(checkPrice(g, D('1.123456789'))).toBeNull();
    expect(checkQty(g, D('0.000000001'))).toBeNull();
    expect(checkNotional(g, D('1'), D('0.0001'))).toBeNull();
  });
});

describe('rounding', () => {
  it('rounds a price down to the tick', () => {
    expect(roundPrice(f, D('65000.129'))).toBe('65000.12');
    expect(roundPrice(f, D('65000'))).toBe('65000.00');
  });
  it('rounds a quantity down to the step, the market step falling back to LOT_SIZE', () => {
    expect(roundQty(f, D('0.123456'))).toBe('0.1234');
    expect(roundQty(f, D('0.123456'), true)).toBe('0.1234');
    const g = symbolFilters({ ...BTCUSDT, filters: BTCUSDT.filters.map((x) => (x.filterType === 'MARKET_LOT_SIZE' ? { ...x, stepSize: '0.01' } : x)) });
    expect(roundQty(g, D('0.123456'), true)).toBe('0.1200');
  });
  it('rounds a quote amount down to the quote decimals', () => {
    expect(roundQuote(f, D('10.123456789'))).toBe('10.12345678');
  });
});

describe('PRICE_FILTER', () => {
  it('passes prices on the grid within bounds', () => {
    expect(checkPrice(f, D('65000.12'))).toBeNull();
  });
  it('fails off-tick, below min and above max', () => {
    expect(checkPrice(f, D('65000.123'))?.message).toBe('Filter failure: PRICE_FILTER (tick size 0.01)');
    expect(checkPrice(f, D('0.001'))?.filter).toBe('PRICE_FILTER');
    expect(checkPrice(f, D('0.001'))?.message).toContain('minimum 0.01');
    expect(checkPrice(f, D('1000000.01'))?.message).toContain('maximum 1000000');
    expect(checkPrice(f, D('1.001'), 'stopPrice')?.field).toBe('stopPrice');
  });
  it('treats 0 as no rule', () => {
    const g = symbolFilters({ ...BTCUSDT, filters: [{ filterType: 'PRICE_FILTER', minPrice: '0', maxPrice: '0', tickSize: '0.5' }] });
    expect(checkPrice(g, D('99999999.5'))).toBeNull();
    expect(checkPrice(g, D('1.25'))?.filter).toBe('PRICE_FILTER');
  });
});

describe('LOT_SIZE / MARKET_LOT_SIZE', () => {
  it('checks limit quantities against LOT_SIZE', () => {
    expect(checkQty(f, D('0.0001'))).toBeNull();
    expect(checkQty(f, D('0.00005'))?.message).toBe('Filter failure: LOT_SIZE (minimum 0.0001)');
    expect(checkQty(f, D('0.00015'))?.message).toBe('Filter failure: LOT_SIZE (step size 0.0001)');
    expect(checkQty(f, D('9000.0001'))?.message).toBe('Filter failure: LOT_SIZE (maximum 9000)');
  });
  it('checks market quantities against MARKET_LOT_SIZE with the LOT_SIZE step', () => {
    expect(checkQty(f, D('0.0005'), true)?.message).toBe('Filter failure: MARKET_LOT_SIZE (minimum 0.001)');
    expect(checkQty(f, D('0.00105'), true)?.message).toBe('Filter failure: MARKET_LOT_SIZE (step size 0.0001)');
    expect(checkQty(f, D('101'), true)?.filter).toBe('MARKET_LOT_SIZE');
    expect(checkQty(f, D('0.0011'), true)).toBeNull();
  });
});

describe('NOTIONAL / MIN_NOTIONAL', () => {
  it('checks price x qty', () => {
    expect(checkNotional(f, D('50000'), D('0.0001'))).toBeNull(); // 5.00 exactly
    expect(checkNotional(f, D('49999.99'), D('0.0001'))?.message).toBe('Filter failure: NOTIONAL (minimum total 5)');
    expect(checkNotional(f, D('1000000'), D('9.0001'))?.message).toBe('Filter failure: NOTIONAL (maximum total 9000000)');
  });
  it('applies to market orders only as the filter says', () => {
    expect(checkNotional(f, D('1'), D('1'), true)?.filter).toBe('NOTIONAL'); // applyMinToMarket
    expect(checkNotional(f, D('1000000'), D('10'), true)).toBeNull(); // !applyMaxToMarket
    expect(checkNotional(f, undefined, D('1'), true)).toBeNull(); // no reference price
  });
  it('uses the older MIN_NOTIONAL when NOTIONAL is absent', () => {
    const g = symbolFilters({ ...BTCUSDT, filters: [{ filterType: 'MIN_NOTIONAL', minNotional: '10', applyToMarket: false, avgPriceMins: 5 }] });
    expect(checkNotional(g, D('9.99'), D('1'))?.message).toBe('Filter failure: MIN_NOTIONAL (minimum total 10)');
    expect(checkNotional(g, D('9.99'), D('1'), true)).toBeNull();
  });
});

describe('PERCENT_PRICE_BY_SIDE', () => {
  it('bounds the price around the reference price per side', () => {
    expect(checkPercentPrice(f, 'BUY', D('500000'), D('100000'))).toBeNull();
    expect(checkPercentPrice(f, 'BUY', D('500000.01'), D('100000'))?.filter).toBe('PERCENT_PRICE_BY_SIDE');
    expect(checkPercentPrice(f, 'SELL', D('19999.99'), D('100000'))?.message).toContain('between 20000.00 and 500000.00');
    expect(checkPercentPrice(f, 'SELL', D('1'), undefined)).toBeNull();
  });
});
