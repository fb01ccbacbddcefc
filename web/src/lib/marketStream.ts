// The screen's market data: one combined-stream WebSocket (`/stream?streams=...`) carrying the
// selected symbol's `@depth@100ms`, `@trade`, `@kline_<interval>` and `@ticker`, plus
// `!miniTicker@arr` for the market list, and the REST requests that seed and resync them.
//
// - Symbol or interval changes re-subscribe on the open socket (UNSUBSCRIBE/SUBSCRIBE messages),
//   never reconnect; messages of streams no longer wanted are dropped by name.
// - The order book is lib/orderbook.ts's LocalOrderBook: diffs are buffered while the REST
//   snapshot (limit 1000) is fetched; a gap or a crossed state asks for a new snapshot.
// - Reconnect with exponential back-off and jitter, 0.5 s .. 10 s. After every (re)connect the
//   book is resynced, and recent trades, the last klines and the tickers are fetched again, so
//   the page is consistent without a reload (events missed while down are never replayed).
// - Link state (useApp().setMarketLink): 'connecting' before the first open, 'live' while
//   messages flow, 'reconnecting' while the socket is down, 'stale' when the socket is open but
//   nothing arrived for STALE_MS. Liveness heuristic: the browser cannot see WebSocket pings, and
//   `@depth` / `@trade` only send on changes, but the gateway sends `@ticker` every second and
//   the kline every 2 s whether or not anything traded (docs/streams.md, "Periodic payloads"), so
//   silence of more than 5 s means the link or the server is stuck, not that the market is quiet.
//   After DEAD_MS of silence the socket is closed and reconnected.
//
// One store per page (module singleton): every market panel calls useMarketData(); the first
// one mounted opens the socket, which then stays for the page's lifetime (so no provider is
// needed in App.tsx, and StrictMode's mount-unmount-mount does not reconnect). Single-threaded
// like all page code.
import { useEffect, useSyncExternalStore } from 'react';
import { get, wsUrl } from './api';
import { LocalOrderBook, type DepthDiff, type DepthSnapshot } from './orderbook';
import { D, stepDecimals } from './decimal';
import type { Kline, LinkState, SymbolInfo, Ticker24h, Trade } from './types';

export const INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export type ChartInterval = (typeof INTERVALS)[number];

export const STALE_MS = 5000;
export const DEAD_MS = 20000;
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 10000;
const MAX_TRADES = 50;
const MAX_KLINES = 1000;
const KLINE_LIMIT = 500;
const NOTIFY_MS = 100;

/** Back-off before reconnect attempt `attempt` (0-based): 0.5 s doubling to 10 s, with +-25 %
 *  jitter so many pages dropped by one gateway do not come back at the same instant. */
export function backoffMs(attempt: number, rand: number = Math.random()): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10));
  const jittered = base * (0.75 + 0.5 * rand);
  return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered)));
}

/** One symbol's entry of `!miniTicker@arr`. */
export interface MiniTicker { symbol: string; close: string; open: string; high: string; low: string; volume: string }

export interface MarketState {
  symbol: string;
  interval: ChartInterval;
  /** The local book (read it in render; bookVersion changes when it did). */
  book: LocalOrderBook;
  bookVersion: number;
  /** Newest first. */
  trades: Trade[];
  /** Oldest first. */
  klines: Kline[];
  /** Changes when `klines` was replaced wholesale (symbol, interval, reconnect), not on a live
   *  update of the last candles: the chart then reloads instead of updating. */
  klinesEpoch: number;
  ticker: Ticker24h | null;
  minis: Record<string, MiniTicker>;
}

type Listener = () => void;

interface Wire { stream?: string; data?: unknown; result?: unknown; id?: unknown; code?: number; e?: string }

export class MarketStore {
  private state: MarketState;
  private listeners = new Set<Listener>();
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private users = 0;
  private ws: WebSocket | null = null;
  private wsOpen = false;
  /** Streams the server holds for the current socket (as far as we asked). */
  private subscribed = new Set<string>();
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private lastMessageAt = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private link: LinkState = 'connecting';
  private setLink: (s: LinkState) => void = () => {};
  private snapshotInFlight = false;
  private snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  private snapshotTries = 0;
  private controlId = 1;
  /** Increments on each symbol/interval/connection change: REST answers of an older one are dropped. */
  private epoch = 0;

  constructor() {
    this.state = {
      symbol: '', interval: '1m', book: new LocalOrderBook(), bookVersion: 0, trades: [], klines: [],
      klinesEpoch: 0, ticker: null, minis: {},
    };
  }

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getState = (): MarketState => this.state;

  /** A panel mounted: start (or keep) the feed for `symbol`. */
  acquire(symbol: string, setLink: (s: LinkState) => void): void {
    this.setLink = setLink;
    this.users++;
    this.setSymbol(symbol);
    if (!this.ws && !this.reconnectTimer) this.connect();
    if (!this.watchdog) this.watchdog = setInterval(() => this.checkLiveness(), 1000);
  }

  /** A panel unmounted. The feed stays up for the page's lifetime (the account pages keep the
   *  link indicator truthful, and coming back to the trading screen is instant). */
  release(): void {
    this.users = Math.max(0, this.users - 1);
  }

  setSymbol(symbol: string): void {
    if (symbol === this.state.symbol) return;
    this.epoch++;
    this.state = {
      ...this.state, symbol, book: new LocalOrderBook(), bookVersion: this.state.bookVersion + 1,
      trades: [], klines: [], klinesEpoch: this.state.klinesEpoch + 1, ticker: null,
    };
    this.snapshotInFlight = false;
    this.notifyNow();
    this.syncSubscriptions();
    if (this.wsOpen) this.refetchAll();
  }

  setInterval(interval: ChartInterval): void {
    if (interval === this.state.interval) return;
    this.state = { ...this.state, interval, klines: [], klinesEpoch: this.state.klinesEpoch + 1 };
    this.notifyNow();
    this.syncSubscriptions();
    if (this.wsOpen) void this.fetchKlines(this.epoch);
  }

  // --- streams -----------------------------------------------------------------------------

  private streamNames(): { depth: string; trade: string; kline: string; ticker: string; minis: string } {
    const s = this.state.symbol.toLowerCase();
    return {
      depth: `${s}@depth@100ms`, trade: `${s}@trade`, kline: `${s}@kline_${this.state.interval}`,
      ticker: `${s}@ticker`, minis: '!miniTicker@arr',
    };
  }

  private wanted(): string[] {
    if (!this.state.symbol) return ['!miniTicker@arr'];
    return Object.values(this.streamNames());
  }

  /** Bring the open socket's subscriptions to what is wanted now. */
  private syncSubscriptions(): void {
    const ws = this.ws;
    if (!ws || !this.wsOpen) return;
    const want = new Set(this.wanted());
    const drop = [...this.subscribed].filter((s) => !want.has(s));
    const add = [...want].filter((s) => !this.subscribed.has(s));
    if (drop.length) ws.send(JSON.stringify({ method: 'UNSUBSCRIBE', params: drop, id: this.controlId++ }));
    if (add.length) ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: add, id: this.controlId++ }));
    this.subscribed = want;
  }

  private connect(): void {
    this.reconnectTimer = null;
    const streams = this.wanted();
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl(`/stream?streams=${streams.join('/')}`));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.wsOpen = false;
    this.subscribed = new Set(streams);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.wsOpen = true;
      this.attempt = 0;
      this.lastMessageAt = Date.now();
      this.updateLink('live');
      // The symbol or interval may have changed while connecting.
      this.syncSubscriptions();
      // Whatever happened while we were away is lost: start the book over, refetch the rest.
      this.state.book.resync();
      this.refetchAll();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastMessageAt = Date.now();
      if (this.link === 'stale') this.updateLink('live');
      if (typeof ev.data === 'string') this.onMessage(ev.data);
    };
    ws.onclose = () => this.lost(ws);
    // onerror is always followed by onclose, which handles it.
    ws.onerror = () => {};
  }

  /** The socket is gone (closed by the server, failed, or given up on as dead). */
  private lost(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.wsOpen = false;
    this.subscribed.clear();
    // Not kept up to date any more: show it as resyncing rather than as a live book.
    this.state.book.resync();
    this.bumpBook();
    this.updateLink('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer) return;
    const delay = backoffMs(this.attempt++);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private checkLiveness(): void {
    if (!this.ws || !this.wsOpen) return;
    const silent = Date.now() - this.lastMessageAt;
    if (silent > DEAD_MS) {
      // Half-open or stuck: give up on it now (a close handshake with a stuck server may take
      // long) and reconnect.
      const ws = this.ws;
      this.lost(ws);
      ws.close();
      return;
    }
    if (silent > STALE_MS && this.link === 'live') this.updateLink('stale');
  }

  private updateLink(s: LinkState): void {
    this.link = s;
    this.setLink(s);
  }

  private onMessage(text: string): void {
    let msg: Wire;
    try {
      msg = JSON.parse(text) as Wire;
    } catch {
      return;
    }
    if (typeof msg.stream !== 'string') return; // control replies, serverShutdown: nothing to do
    const n = this.streamNames();
    const data = msg.data as Record<string, unknown>;
    switch (msg.stream) {
      case n.depth:
        this.onDepth(data as unknown as DepthDiff);
        break;
      case n.trade:
        this.onTrade(data);
        break;
      case n.kline:
        this.onKline(data);
        break;
      case n.ticker:
        this.onTicker(data);
        break;
      case n.minis:
        this.onMinis(msg.data);
        break;
      default:
        break; // a stream of the previous symbol or interval still in flight
    }
  }

  private onDepth(d: DepthDiff): void {
    const book = this.state.book;
    book.applyDiff(d);
    if (book.needsSnapshot) this.requestSnapshot();
    this.bumpBook();
  }

  private onTrade(d: Record<string, unknown>): void {
    const t: Trade = {
      id: Number(d.t), price: String(d.p), qty: String(d.q), time: Number(d.T), isBuyerMaker: d.m === true,
    };
    const newest = this.state.trades[0];
    if (newest && t.id <= newest.id) return;
    this.state = { ...this.state, trades: [t, ...this.state.trades].slice(0, MAX_TRADES) };
    this.notify();
  }

  private onKline(d: Record<string, unknown>): void {
    const k = d.k as Record<string, unknown> | undefined;
    if (!k || k.i !== this.state.interval) return;
    const bar: Kline = {
      openTime: Number(k.t), closeTime: Number(k.T), open: String(k.o), high: String(k.h), low: String(k.l),
      close: String(k.c), volume: String(k.v),
    };
    // A symbol that never traded sends flat zero bars: nothing to draw.
    if (D(bar.close).isZero()) return;
    const ks = this.state.klines;
    const last = ks[ks.length - 1];
    let next: Kline[];
    if (!last || bar.openTime > last.openTime) next = [...ks, bar].slice(-MAX_KLINES);
    else if (bar.openTime === last.openTime) next = [...ks.slice(0, -1), bar];
    else return; // an older bar (the closing message of a bar already replaced): keep ours
    this.state = { ...this.state, klines: next };
    this.notify();
  }

  private onTicker(d: Record<string, unknown>): void {
    if (d.s !== this.state.symbol) return;
    const ticker: Ticker24h = {
      symbol: String(d.s), priceChange: String(d.p), priceChangePercent: String(d.P), lastPrice: String(d.c),
      highPrice: String(d.h), lowPrice: String(d.l), volume: String(d.v), quoteVolume: String(d.q),
      openPrice: String(d.o), count: Number(d.n ?? 0),
    };
    this.state = { ...this.state, ticker };
    this.notify();
  }

  private onMinis(data: unknown): void {
    if (!Array.isArray(data)) return;
    const minis = { ...this.state.minis };
    for (const m of data as Record<string, unknown>[]) {
      const symbol = String(m.s);
      minis[symbol] = { symbol, close: String(m.c), open: String(m.o), high: String(m.h), low: String(m.l), volume: String(m.v) };
    }
    this.state = { ...this.state, minis };
    this.notify();
  }

  // --- REST --------------------------------------------------------------------------------

  private refetchAll(): void {
    const epoch = ++this.epoch;
    this.snapshotInFlight = false;
    this.snapshotTries = 0;
    if (this.state.book.needsSnapshot) this.requestSnapshot();
    void this.fetchTrades(epoch);
    void this.fetchKlines(epoch);
    void this.fetchTickers(epoch);
  }

  private requestSnapshot(): void {
    if (this.snapshotInFlight || this.snapshotTimer || !this.wsOpen) return;
    // Back off when snapshots keep failing to line up (or the REST call fails).
    const delay = this.snapshotTries === 0 ? 0 : Math.min(5000, 250 * 2 ** Math.min(this.snapshotTries, 5));
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      void this.fetchSnapshot();
    }, delay);
  }

  private async fetchSnapshot(): Promise<void> {
    const book = this.state.book;
    if (!book.needsSnapshot || this.snapshotInFlight) return;
    this.snapshotInFlight = true;
    const gen = book.generation;
    const symbol = this.state.symbol;
    try {
      const snap = await get<DepthSnapshot>('/api/v3/depth', { symbol, limit: 1000 });
      if (this.state.book !== book || !this.snapshotInFlight) return;
      this.snapshotInFlight = false;
      const r = book.applySnapshot(snap, gen);
      this.snapshotTries = r === 'applied' ? 0 : this.snapshotTries + 1;
      this.bumpBook();
    } catch {
      if (this.state.book !== book) return;
      this.snapshotInFlight = false;
      this.snapshotTries++;
    }
    if (book.needsSnapshot) this.requestSnapshot();
  }

  private async fetchTrades(epoch: number): Promise<void> {
    const symbol = this.state.symbol;
    try {
      const rows = await get<Trade[]>('/api/v3/trades', { symbol, limit: MAX_TRADES });
      if (epoch !== this.epoch) return;
      // REST is oldest first; live trades that arrived meanwhile are newer and stay on top.
      const live = this.state.trades;
      const newestRest = rows.length ? rows[rows.length - 1]!.id : -1;
      const fresh = live.filter((t) => t.id > newestRest);
      const rest = rows.map((r) => ({ id: r.id, price: r.price, qty: r.qty, time: r.time, isBuyerMaker: r.isBuyerMaker })).reverse();
      this.state = { ...this.state, trades: [...fresh, ...rest].slice(0, MAX_TRADES) };
      this.notify();
    } catch {
      /* the stream still fills the list; the next reconnect refetches */
    }
  }

  private async fetchKlines(epoch: number): Promise<void> {
    const { symbol, interval } = this.state;
    try {
      const rows = await get<unknown[][]>('/api/v3/klines', { symbol, interval, limit: KLINE_LIMIT });
      if (epoch !== this.epoch || interval !== this.state.interval) return;
      const ks: Kline[] = rows.map((r) => ({
        openTime: Number(r[0]), open: String(r[1]), high: String(r[2]), low: String(r[3]), close: String(r[4]),
        volume: String(r[5]), closeTime: Number(r[6]),
      }));
      // A live bar newer than the REST answer (it raced the request) is kept.
      const live = this.state.klines[this.state.klines.length - 1];
      const last = ks[ks.length - 1];
      if (live && (!last || live.openTime > last.openTime)) ks.push(live);
      else if (live && last && live.openTime === last.openTime) ks[ks.length - 1] = live;
      this.state = { ...this.state, klines: ks, klinesEpoch: this.state.klinesEpoch + 1 };
      this.notifyNow();
    } catch {
      /* the next reconnect or interval change refetches */
    }
  }

  private async fetchTickers(epoch: number): Promise<void> {
    const symbol = this.state.symbol;
    try {
      const all = await get<Ticker24h[]>('/api/v3/ticker/24hr');
      if (epoch !== this.epoch) return;
      const minis = { ...this.state.minis };
      let ticker = this.state.ticker;
      for (const t of all) {
        minis[t.symbol] = { symbol: t.symbol, close: t.lastPrice, open: t.openPrice, high: t.highPrice, low: t.lowPrice, volume: t.volume };
        if (t.symbol === symbol && !ticker) ticker = t;
      }
      this.state = { ...this.state, minis, ticker };
      this.notify();
    } catch {
      /* the streams fill them */
    }
  }

  // --- change notification -----------------------------------------------------------------

  private bumpBook(): void {
    this.state = { ...this.state, bookVersion: this.state.bookVersion + 1 };
    this.notify();
  }

  /** Coalesce renders: at most one per NOTIFY_MS. */
  private notify(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      for (const l of this.listeners) l();
    }, NOTIFY_MS);
  }

  private notifyNow(): void {
    if (this.notifyTimer) {
      clearTimeout(this.notifyTimer);
      this.notifyTimer = null;
    }
    for (const l of this.listeners) l();
  }
}

const store = new MarketStore();

/**
 * The market data of the selected symbol, kept live. Call it from every market panel with the
 * page's symbol and setMarketLink (useApp()); re-renders at most every 100 ms.
 */
export function useMarketData(symbol: string, setLink: (s: LinkState) => void): MarketState {
  useEffect(() => {
    store.acquire(symbol, setLink);
    return () => store.release();
  }, [symbol, setLink]);
  return useSyncExternalStore(store.subscribe, store.getState);
}

/** Choose the chart's interval (re-subscribes the kline stream, refetches klines). */
export function setChartInterval(interval: ChartInterval): void {
  store.setInterval(interval);
}

/** The symbol's tickSize and stepSize and how many decimals each shows. */
export function symbolSteps(info: SymbolInfo | null): { tickSize: string; stepSize: string; priceDecimals: number; qtyDecimals: number } {
  let tickSize = '0.01';
  let stepSize = '0.00001';
  for (const f of info?.filters ?? []) {
    if (f.filterType === 'PRICE_FILTER' && typeof f.tickSize === 'string' && !D(f.tickSize).isZero()) tickSize = f.tickSize;
    if (f.filterType === 'LOT_SIZE' && typeof f.stepSize === 'string' && !D(f.stepSize).isZero()) stepSize = f.stepSize;
  }
  return { tickSize, stepSize, priceDecimals: stepDecimals(tickSize), qtyDecimals: stepDecimals(stepSize) };
}

/** 24 h change in percent of `close` against `open`, two decimals with sign ("+1.25", "-0.40");
 *  null when there is no open price. */
export function changePercent(open: string, close: string): string | null {
  const o = D(open);
  if (o.isZero()) return null;
  const pct = D(close).sub(o).div(o).mul(100).toDecimalPlaces(2, 4 /* ROUND_HALF_UP */);
  return (pct.isNeg() && !pct.isZero() ? '-' + pct.abs().toFixed(2) : '+' + pct.abs().toFixed(2));
}
