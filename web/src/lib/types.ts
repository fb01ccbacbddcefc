// Shapes of the Spotex (Binance-compatible) API the screen reads. Money is always a decimal
// string as the server sent it; convert with lib/decimal.ts, never with Number().

export type Side = 'BUY' | 'SELL';

export interface PriceFilter { filterType: 'PRICE_FILTER'; minPrice: string; maxPrice: string; tickSize: string }
export interface LotSizeFilter { filterType: 'LOT_SIZE' | 'MARKET_LOT_SIZE'; minQty: string; maxQty: string; stepSize: string }
export interface NotionalFilter {
  filterType: 'NOTIONAL';
  minNotional: string; applyMinToMarket: boolean;
  maxNotional: string; applyMaxToMarket: boolean;
  avgPriceMins: number;
}
export interface MinNotionalFilter { filterType: 'MIN_NOTIONAL'; minNotional: string; applyToMarket: boolean; avgPriceMins: number }
export interface PercentPriceBySideFilter {
  filterType: 'PERCENT_PRICE_BY_SIDE';
  bidMultiplierUp: string; bidMultiplierDown: string;
  askMultiplierUp: string; askMultiplierDown: string;
  avgPriceMins: number;
}
export interface OtherFilter { filterType: string; [k: string]: unknown }
export type SymbolFilter =
  | PriceFilter | LotSizeFilter | NotionalFilter | MinNotionalFilter | PercentPriceBySideFilter | OtherFilter;

export interface SymbolInfo {
  symbol: string;
  status: string;
  baseAsset: string;
  baseAssetPrecision: number;
  quoteAsset: string;
  quotePrecision: number;
  quoteAssetPrecision: number;
  orderTypes: string[];
  ocoAllowed: boolean;
  filters: SymbolFilter[];
}

export interface ExchangeInfo { timezone: string; serverTime: number; symbols: SymbolInfo[] }

/** `GET /api/v1/web/config`: what the screen needs to know that Binance's API does not say. */
export interface WebConfig { demoSymbols: string[] }

/** The signed-in user (`GET /api/v1/me`). */
export interface Me { userId: number; email: string; status: 'ACTIVE' | 'FROZEN' }

/** `GET /api/v1/web/session`: 200 whether signed in or not (no 401 for a signed-out page). */
export type WebSessionState = ({ signedIn: true } & Me) | { signedIn: false };

/** The signed-in user of a WebSessionState, or null. */
export function meOf(s: WebSessionState): Me | null {
  return s.signedIn ? { userId: s.userId, email: s.email, status: s.status } : null;
}

export interface Ticker24h {
  symbol: string; priceChange: string; priceChangePercent: string; lastPrice: string;
  highPrice: string; lowPrice: string; volume: string; quoteVolume: string;
  openPrice: string; count: number;
}

export interface Trade { id: number; price: string; qty: string; time: number; isBuyerMaker: boolean }

/** One candle; times in ms since the epoch. */
export interface Kline {
  openTime: number; open: string; high: string; low: string; close: string; volume: string; closeTime: number;
}

export interface Balance { asset: string; free: string; locked: string }

export interface Order {
  symbol: string; orderId: number; orderListId: number; clientOrderId: string;
  price: string; origQty: string; executedQty: string; cummulativeQuoteQty: string;
  status: string; timeInForce: string; type: string; side: Side; stopPrice: string;
  time: number; updateTime: number; isWorking: boolean;
}

export interface MyTrade {
  symbol: string; id: number; orderId: number; price: string; qty: string; quoteQty: string;
  commission: string; commissionAsset: string; time: number; isBuyer: boolean; isMaker: boolean;
}

/** State of a live connection, shown by the "reconnecting / stale" indicator. */
export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'stale';
