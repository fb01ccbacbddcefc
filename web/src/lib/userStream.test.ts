// Applying the user stream's events to the account state, and resync on top of a snapshot.
import { describe, expect, it, vi } from 'vitest';
import { applyEvent, backoffMs, emptyUserState, stateFromSnapshot, type ExecutionReport, type UserState } from './userStream';

const report = (o: Partial<ExecutionReport>): ExecutionReport => ({
  e: 'executionReport', E: 1000, s: 'BTCUSDT', c: 'cid', C: '', S: 'BUY', o: 'LIMIT', f: 'GTC', q: '1.0000', p: '100.00',
  P: '0.00', g: -1, x: 'NEW', X: 'NEW', i: 7, l: '0.0000', z: '0.0000', L: '0.00', n: '0', N: null, T: 1000, t: -1,
  w: true, m: false, O: 1000, Z: '0.00', Y: '0.00', ...o,
});
const run = (evs: object[], s: UserState = emptyUserState(), sym = 'BTCUSDT') =>
  evs.reduce<UserState>((st, ev) => applyEvent(st, ev as ExecutionReport, sym), s);

describe('executionReport', () => {
  it('opens, fills partly, then fills an order; trades recorded once', () => {
    const fill1 = report({ x: 'TRADE', X: 'PARTIALLY_FILLED', l: '0.4000', z: '0.4000', L: '100.00', Y: '40.00', t: 11, n: '0.0004', N: 'BTC', T: 1001, m: true });
    let s = run([report({}), fill1]);
    expect(s.openOrders.map((o) => [o.orderId, o.status, o.executedQty])).toEqual([[7, 'PARTIALLY_FILLED', '0.4000']]);
    expect(s.trades).toEqual([{ symbol: 'BTCUSDT', id: 11, orderId: 7, price: '100.00', qty: '0.4000', quoteQty: '40.00', commission: '0.0004', commissionAsset: 'BTC', time: 1001, isBuyer: true, isMaker: true }]);
    s = run([fill1, report({ x: 'TRADE', X: 'FILLED', l: '0.6000', z: '1.0000', L: '100.00', t: 12, T: 1002, w: false })], s);
    expect(s.openOrders).toEqual([]);
    expect(s.orders.map((o) => [o.orderId, o.status, o.executedQty])).toEqual([[7, 'FILLED', '1.0000']]);
    expect(s.trades.map((t) => t.id)).toEqual([12, 11]);
  });
  it('a cancel removes the open order and keeps the original client id', () => {
    const s = run([report({}), report({ x: 'CANCELED', X: 'CANCELED', c: 'cancel-1', C: 'cid', T: 1005, w: false })]);
    expect(s.openOrders).toEqual([]);
    expect(s.orders[0]).toMatchObject({ status: 'CANCELED', clientOrderId: 'cid' });
  });
  it('never moves an order backwards (a late NEW after the snapshot shows it filled)', () => {
    const snap = run([report({}), report({ x: 'TRADE', X: 'FILLED', z: '1.0000', l: '1.0000', t: 3, T: 1002 })]);
    const s = run([report({})], snap);
    expect(s.openOrders).toEqual([]);
    expect(s.orders[0]?.status).toBe('FILLED');
  });
  it('other symbols change open orders only', () => {
    const s = run([report({ s: 'ETHUSDT', i: 9 }), report({ s: 'ETHUSDT', i: 9, x: 'TRADE', X: 'PARTIALLY_FILLED', z: '0.5', l: '0.5', t: 4, T: 1001 })]);
    expect(s.openOrders.map((o) => o.symbol)).toEqual(['ETHUSDT']);
    expect(s.orders).toEqual([]);
    expect(s.trades).toEqual([]);
  });
});

describe('balances', () => {
  it('outboundAccountPosition replaces the assets it lists, older ones ignored', () => {
    const snap = stateFromSnapshot({ balances: [{ asset: 'USDT', free: '100', locked: '0' }, { asset: 'BTC', free: '1', locked: '0' }], balanceTime: 500, openOrders: [], orders: [], trades: [] });
    let s = run([{ e: 'outboundAccountPosition', E: 600, u: 600, B: [{ a: 'USDT', f: '90.00', l: '10.00' }] }], snap);
    expect(s.balances).toEqual([{ asset: 'BTC', free: '1', locked: '0' }, { asset: 'USDT', free: '90.00', locked: '10.00' }]);
    s = run([{ e: 'outboundAccountPosition', E: 400, u: 400, B: [{ a: 'USDT', f: '1', l: '0' }] }], s);
    expect(s.balances.find((b) => b.asset === 'USDT')?.free).toBe('90.00');
  });
  it('balanceUpdate adds the delta exactly', () => {
    const s = run([{ e: 'balanceUpdate', E: 1, a: 'ETH', d: '0.1', T: 1 }, { e: 'balanceUpdate', E: 2, a: 'ETH', d: '0.2', T: 2 }]);
    expect(s.balances).toEqual([{ asset: 'ETH', free: '0.3', locked: '0' }]);
  });
});

describe('backoff', () => {
  it('doubles to 10 s with jitter in [0.5, 1)', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 0.999)).toBe(500);
    expect(backoffMs(3, () => 0)).toBe(2000);
    expect(backoffMs(30, () => 0.999)).toBeLessThanOrEqual(10_000);
    expect(backoffMs(30, () => 0)).toBe(5000);
  });
});

describe('UserStream connection', () => {
  // A stand-in for the browser's WebSocket: records instances, lets the test open/close them.
  class FakeSocket {
    static all: FakeSocket[] = [];
    onopen: (() => void) | null = null;
    onmessage: ((m: { data: unknown }) => void) | null = null;
    onclose: (() => void) | null = null;
    onerror: (() => void) | null = null;
    closed = false;
    constructor(readonly url: string) {
      FakeSocket.all.push(this);
    }
    close() {
      this.closed = true;
    }
  }

  it('reports open, events and closes, reconnects with back-off, stops for good', async () => {
    const { UserStream } = await import('./userStream');
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeSocket);
    FakeSocket.all = [];
    const log: string[] = [];
    const s = new UserStream('ws://x/api/v1/web/userStream', {
      onOpen: () => log.push('open'),
      onEvent: (e) => log.push(`event ${e.e}`),
      onClose: (ms) => log.push(`close ${ms > 0 && ms <= 500 ? 'soon' : ms}`),
    });
    s.start();
    expect(FakeSocket.all).toHaveLength(1);
    const a = FakeSocket.all[0]!;
    a.onopen?.();
    a.onmessage?.({ data: '{"e":"outboundAccountPosition","E":1,"u":1,"B":[]}' });
    a.onmessage?.({ data: 'not json' });
    a.onmessage?.({ data: '{"no":"type"}' });
    a.onclose?.();
    expect(log).toEqual(['open', 'event outboundAccountPosition', 'close soon']);
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2); // reconnected
    FakeSocket.all[1]!.onclose?.(); // the reconnect failed: a longer wait
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(501);
    expect(FakeSocket.all).toHaveLength(3);
    s.stop();
    expect(FakeSocket.all[2]!.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(3); // no reconnect after stop
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });
});
