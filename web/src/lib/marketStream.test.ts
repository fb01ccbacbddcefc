// The market stream's connection handling against a fake WebSocket and a fake REST server:
// subscriptions change on the open socket, a lost socket is retried with back-off and the book,
// trades and klines are fetched again, silence turns the link stale and then reconnects.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, MarketStore, backoffMs, changePercent } from './marketStream';
import type { LinkState } from './types';

class FakeSocket {
  static all: FakeSocket[] = [];
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string) {
    this.sent.push(s);
  }
  close() {
    this.closed = true;
  }
  // test side
  open() {
    this.onopen?.();
  }
  push(stream: string, data: unknown) {
    this.onmessage?.({ data: JSON.stringify({ stream, data }) });
  }
  drop() {
    this.closed = true;
    this.onclose?.();
  }
}

/** The REST server: the depth snapshot is whatever `depth` holds when asked. */
let depth = { lastUpdateId: 100, bids: [['10.00', '1']], asks: [['11.00', '1']] };
const requests: string[] = [];
function fakeFetch(url: string) {
  requests.push(url);
  const path = url.split('?')[0];
  const body =
    path === '/api/v3/depth' ? depth
    : path === '/api/v3/trades' ? [{ id: 7, price: '10.50', qty: '1', time: 1, isBuyerMaker: false }]
    : path === '/api/v3/klines' ? [[60000, '10', '11', '9', '10.5', '3', 119999]]
    : path === '/api/v3/ticker/24hr' ? []
    : null;
  const text = JSON.stringify(body);
  return Promise.resolve({ ok: body !== null, status: body !== null ? 200 : 404, statusText: '', text: () => Promise.resolve(text) });
}

let links: LinkState[] = [];
const lastSocket = () => FakeSocket.all[FakeSocket.all.length - 1]!;

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  requests.length = 0;
  links = [];
  depth = { lastUpdateId: 100, bids: [['10.00', '1']], asks: [['11.00', '1']] };
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('location', { protocol: 'http:', host: 'x.test' });
  vi.stubGlobal('fetch', vi.fn(fakeFetch));
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

async function started(): Promise<MarketStore> {
  const store = new MarketStore();
  store.acquire('BTCUSDT', (s) => links.push(s));
  const ws = lastSocket();
  expect(ws.url).toBe('ws://x.test/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@kline_1m/btcusdt@ticker/!miniTicker@arr');
  ws.open();
  await vi.advanceTimersByTimeAsync(200);
  return store;
}

describe('MarketStore', () => {
  it('seeds the book from a snapshot taken after the socket opened, then follows the diffs', async () => {
    const store = await started();
    expect(links).toEqual(['live']);
    const s = store.getState();
    expect(s.book.status).toBe('synced');
    expect(s.book.lastUpdateId).toBe(100);
    expect(s.trades.map((t) => t.id)).toEqual([7]);
    expect(s.klines).toHaveLength(1);
    lastSocket().push('btcusdt@depth@100ms', { e: 'depthUpdate', U: 101, u: 101, b: [['10.00', '2']], a: [] });
    expect(store.getState().book.lastUpdateId).toBe(101);
    // A gap asks for a new snapshot by itself.
    depth = { lastUpdateId: 110, bids: [['10.00', '5']], asks: [['11.00', '1']] };
    lastSocket().push('btcusdt@depth@100ms', { e: 'depthUpdate', U: 105, u: 105, b: [], a: [] });
    expect(store.getState().book.status).toBe('resyncing');
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.getState().book.lastUpdateId).toBe(110);
    expect(store.getState().book.bids[0]!.qtyText).toBe('5');
  });

  it('changes symbol and interval by SUBSCRIBE/UNSUBSCRIBE on the open socket and drops old streams', async () => {
    const store = await started();
    const ws = lastSocket();
    store.setInterval('1h');
    store.setSymbol('ETHUSDT');
    expect(FakeSocket.all).toHaveLength(1);
    const msgs = ws.sent.map((m) => JSON.parse(m) as { method: string; params: string[] });
    expect(msgs[0]).toMatchObject({ method: 'UNSUBSCRIBE', params: ['btcusdt@kline_1m'] });
    expect(msgs[1]).toMatchObject({ method: 'SUBSCRIBE', params: ['btcusdt@kline_1h'] });
    expect(msgs[2]!.method).toBe('UNSUBSCRIBE');
    expect(msgs[2]!.params.sort()).toEqual(['btcusdt@depth@100ms', 'btcusdt@kline_1h', 'btcusdt@ticker', 'btcusdt@trade']);
    expect(msgs[3]!.params.sort()).toEqual(['ethusdt@depth@100ms', 'ethusdt@kline_1h', 'ethusdt@ticker', 'ethusdt@trade']);
    await vi.advanceTimersByTimeAsync(200);
    expect(requests.some((r) => r.startsWith('/api/v3/klines?symbol=ETHUSDT&interval=1h'))).toBe(true);
    // A trade of the old symbol still in flight is not shown.
    ws.push('btcusdt@trade', { e: 'trade', t: 99, p: '1', q: '1', T: 1, m: false });
    ws.push('ethusdt@trade', { e: 'trade', t: 8, p: '2', q: '1', T: 1, m: true });
    expect(store.getState().trades.map((t) => t.id)).toEqual([8, 7]);
  });

  it('reconnects with back-off after a drop and resyncs the book, trades and klines', async () => {
    const store = await started();
    lastSocket().drop();
    expect(links[links.length - 1]).toBe('reconnecting');
    expect(store.getState().book.status).toBe('resyncing');
    const before = requests.length;
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS * 0.7);
    expect(FakeSocket.all).toHaveLength(1); // not before the back-off
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS);
    expect(FakeSocket.all).toHaveLength(2);
    // The second attempt fails too: the next wait is longer.
    lastSocket().drop();
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS * 1.3);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS * 1.5);
    expect(FakeSocket.all).toHaveLength(3);
    depth = { lastUpdateId: 200, bids: [['10.00', '3']], asks: [['11.00', '1']] };
    lastSocket().open();
    await vi.advanceTimersByTimeAsync(200);
    expect(links[links.length - 1]).toBe('live');
    expect(store.getState().book.status).toBe('synced');
    expect(store.getState().book.lastUpdateId).toBe(200);
    const again = requests.slice(before).map((r) => r.split('?')[0]);
    expect(again).toEqual(expect.arrayContaining(['/api/v3/depth', '/api/v3/trades', '/api/v3/klines']));
  });

  it('turns stale after 5 s of silence, live on the next message, and reconnects after 20 s', async () => {
    await started();
    await vi.advanceTimersByTimeAsync(4000);
    expect(links[links.length - 1]).toBe('live');
    await vi.advanceTimersByTimeAsync(2500);
    expect(links[links.length - 1]).toBe('stale');
    lastSocket().push('btcusdt@ticker', { e: '24hrTicker', s: 'BTCUSDT', c: '10', o: '10', h: '10', l: '10', v: '0', q: '0', p: '0', P: '0' });
    expect(links[links.length - 1]).toBe('live');
    await vi.advanceTimersByTimeAsync(21_500);
    expect(FakeSocket.all[0]!.closed).toBe(true);
    expect(links).toContain('reconnecting');
    await vi.advanceTimersByTimeAsync(BACKOFF_MAX_MS);
    expect(FakeSocket.all.length).toBeGreaterThanOrEqual(2);
  });
});

describe('helpers', () => {
  it('backs off from 0.5 s doubling to at most 10 s, with jitter', () => {
    expect(backoffMs(0, 0.5)).toBe(500);
    expect(backoffMs(1, 0.5)).toBe(1000);
    expect(backoffMs(3, 0.5)).toBe(4000);
    expect(backoffMs(30, 1)).toBe(BACKOFF_MAX_MS);
    expect(backoffMs(0, 0)).toBe(BACKOFF_MIN_MS);
    expect(backoffMs(2, 0)).toBe(1500);
    expect(backoffMs(2, 1)).toBe(2500);
  });

  it('computes the 24 h change exactly', () => {
    expect(changePercent('100', '101.255')).toBe('+1.26');
    expect(changePercent('0.3', '0.1')).toBe('-66.67');
    expect(changePercent('100', '100')).toBe('+0.00');
    expect(changePercent('0', '5')).toBeNull();
  });
});
