// The signed-in user's live account data: the session user stream (WebSocket
// /api/v1/web/userStream, authenticated by the HttpOnly session cookie; Binance's user data
// events as plain JSON frames) and the pure functions that apply its events to the state the
// screen shows (balances, open orders, the current symbol's order history and trades).
//
// Consistency: after every (re)connect the owner reloads everything by REST (resync) while
// this connection buffers the events that arrive meanwhile; the buffered events are then
// applied on top of the snapshot. Applying is idempotent and never moves an order backwards
// (an event older than what the snapshot shows is ignored), so the result equals the server's
// state whatever the interleaving. Reconnects back off exponentially with jitter.
import { D, parseDec } from './decimal';
import type { Balance, MyTrade, Order, Side } from './types';

export interface UserState {
  balances: Balance[];
  /** All symbols' open orders, newest first. */
  openOrders: Order[];
  /** The current symbol's orders (open and finished), newest first, at most HISTORY_MAX. */
  orders: Order[];
  /** The current symbol's trades, newest first, at most HISTORY_MAX. */
  trades: MyTrade[];
  /** updateTime of the account snapshot / the newest outboundAccountPosition applied. */
  balanceTime: number;
}

export const HISTORY_MAX = 100;

export const emptyUserState = (): UserState => ({ balances: [], openOrders: [], orders: [], trades: [], balanceTime: 0 });

/** Binance's executionReport (only the fields used here). */
export interface ExecutionReport {
  e: 'executionReport'; E: number; s: string; c: string; C?: string; S: Side; o: string; f: string;
  q: string; p: string; P: string; g: number; x: string; X: string; i: number; l: string; z: string;
  L: string; n: string; N: string | null; T: number; t: number; w: boolean; m: boolean; O: number;
  Z: string; Y: string; Q?: string;
}
export interface AccountPosition { e: 'outboundAccountPosition'; E: number; u: number; B: { a: string; f: string; l: string }[] }
export interface BalanceUpdate { e: 'balanceUpdate'; E: number; a: string; d: string; T: number }
export type UserEvent = ExecutionReport | AccountPosition | BalanceUpdate | { e: string };

const FINAL = new Set(['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED', 'EXPIRED_IN_MATCH', 'PENDING_CANCEL']);
export const isOpenStatus = (status: string) => status === 'NEW' || status === 'PARTIALLY_FILLED';

/** The order an executionReport describes, in REST's shape. */
export function orderFromReport(r: ExecutionReport): Order {
  return {
    symbol: r.s, orderId: r.i, orderListId: r.g,
    clientOrderId: r.x === 'CANCELED' && r.C ? r.C : r.c,
    price: r.p, origQty: r.q, executedQty: r.z, cummulativeQuoteQty: r.Z, status: r.X,
    timeInForce: r.f, type: r.o, side: r.S, stopPrice: r.P, time: r.O, updateTime: r.T, isWorking: r.w,
  };
}

/** Whether `next` is not older than `prev` (same order): never move an order backwards. */
function notOlder(prev: Order, next: Order): boolean {
  if (FINAL.has(prev.status) && !FINAL.has(next.status)) return false;
  const a = parseDec(prev.executedQty);
  const b = parseDec(next.executedQty);
  if (a && b && b.lt(a)) return false;
  return next.updateTime >= prev.updateTime || FINAL.has(next.status);
}

const newestFirst = (a: Order, b: Order) => b.time - a.time || b.orderId - a.orderId;

/** `list` with `o` inserted or replaced (by orderId), newest first; unchanged if `o` is older. */
function upsertOrder(list: Order[], o: Order, max = Infinity): Order[] {
  const i = list.findIndex((x) => x.orderId === o.orderId);
  if (i >= 0) {
    const prev = list[i]!;
    if (!notOlder(prev, o)) return list;
    // A report of an order placed before the gateway started may lack static data: keep ours.
    const merged: Order = { ...o, time: o.time > 0 ? o.time : prev.time, clientOrderId: o.clientOrderId || prev.clientOrderId };
    const out = list.slice();
    out[i] = merged;
    return out;
  }
  return [...list, o].sort(newestFirst).slice(0, max);
}

/**
 * One event applied to the state. `symbol` is the symbol whose history and trades are held.
 * An event older than what the state shows of its order (a final order, more executed) leaves
 * the order as it is, so a late NEW cannot reopen a filled order.
 */
export function applyEvent(state: UserState, ev: UserEvent, symbol: string): UserState {
  if (ev.e === 'executionReport') {
    const r = ev as ExecutionReport;
    const o = orderFromReport(r);
    let { openOrders, orders, trades } = state;
    const known = orders.find((x) => x.orderId === o.orderId) ?? openOrders.find((x) => x.orderId === o.orderId);
    const stale = known !== undefined && !notOlder(known, o);
    if (!stale) {
      if (isOpenStatus(o.status)) openOrders = upsertOrder(openOrders, o);
      else openOrders = openOrders.filter((x) => x.orderId !== o.orderId);
    }
    if (r.s === symbol) {
      orders = upsertOrder(orders, o, HISTORY_MAX);
      if (r.x === 'TRADE' && r.t >= 0 && !trades.some((t) => t.id === r.t)) {
        const trade: MyTrade = {
          symbol: r.s, id: r.t, orderId: r.i, price: r.L, qty: r.l, quoteQty: r.Y,
          commission: r.n, commissionAsset: r.N ?? '', time: r.T, isBuyer: r.S === 'BUY', isMaker: r.m,
        };
        trades = [trade, ...trades].sort((a, b) => b.time - a.time || b.id - a.id).slice(0, HISTORY_MAX);
      }
    }
    return { ...state, openOrders, orders, trades };
  }
  if (ev.e === 'outboundAccountPosition') {
    const p = ev as AccountPosition;
    if (p.u < state.balanceTime) return state;
    const map = new Map(state.balances.map((b) => [b.asset, b]));
    for (const b of p.B) map.set(b.a, { asset: b.a, free: b.f, locked: b.l });
    return { ...state, balances: sortBalances([...map.values()]), balanceTime: p.u };
  }
  if (ev.e === 'balanceUpdate') {
    // A deposit or withdrawal; the outboundAccountPosition that follows carries the totals.
    const u = ev as BalanceUpdate;
    if (u.T < state.balanceTime) return state;
    const map = new Map(state.balances.map((b) => [b.asset, b]));
    const prev = map.get(u.a) ?? { asset: u.a, free: '0', locked: '0' };
    map.set(u.a, { ...prev, free: D(prev.free).add(D(u.d)).toFixed() });
    return { ...state, balances: sortBalances([...map.values()]) };
  }
  return state; // listStatus and others: the legs' executionReports say it all.
}

/** Balances with something in them first (by asset name), then the empty ones. */
export function sortBalances(list: Balance[]): Balance[] {
  const empty = (b: Balance) => D(b.free).isZero() && D(b.locked).isZero();
  return list.slice().sort((a, b) => Number(empty(a)) - Number(empty(b)) || a.asset.localeCompare(b.asset));
}

/** The REST snapshot as state (orders newest first). */
export function stateFromSnapshot(s: { balances: Balance[]; balanceTime: number; openOrders: Order[]; orders: Order[]; trades: MyTrade[] }): UserState {
  return {
    balances: sortBalances(s.balances),
    balanceTime: s.balanceTime,
    openOrders: s.openOrders.slice().sort(newestFirst),
    orders: s.orders.slice().sort(newestFirst).slice(0, HISTORY_MAX),
    trades: s.trades.slice().sort((a, b) => b.time - a.time || b.id - a.id).slice(0, HISTORY_MAX),
  };
}

/** Reconnect delay after `attempt` failures: 0.5 s doubling to 10 s, times a jitter in [0.5, 1). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + random() / 2));
}

export interface StreamHandlers {
  /** Connected: the owner should resync by REST now (events meanwhile still arrive). */
  onOpen(): void;
  onEvent(ev: UserEvent): void;
  /** Disconnected; a reconnect is scheduled after `retryInMs`. */
  onClose(retryInMs: number): void;
}

/** The session user stream connection, reconnecting until stop(). */
export class UserStream {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly h: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
    }
  }

  private connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.h.onOpen();
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string' || m.data.length > 1_000_000) return;
      let ev: unknown;
      try {
        ev = JSON.parse(m.data);
      } catch {
        return;
      }
      if (ev && typeof ev === 'object' && typeof (ev as { e?: unknown }).e === 'string') this.h.onEvent(ev as UserEvent);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffMs(this.attempt++);
    this.h.onClose(delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
