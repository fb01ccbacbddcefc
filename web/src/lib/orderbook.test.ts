// The local order book against Binance's documented procedure: each case here is one a naive
// "apply whatever arrives" book gets wrong.
import { describe, expect, it } from 'vitest';
import { LocalOrderBook, groupLevels, groupingSteps, type DepthDiff, type DepthSnapshot, type Level } from './orderbook';

const snap = (lastUpdateId: number, bids: [string, string][], asks: [string, string][]): DepthSnapshot => ({
  lastUpdateId, bids, asks,
});
const diff = (U: number, u: number, b: [string, string][] = [], a: [string, string][] = []): DepthDiff => ({ U, u, b, a });
const side = (levels: readonly Level[]) => levels.map((l) => [l.price.toFixed(), l.qty.toFixed()]);

function synced(): LocalOrderBook {
  const book = new LocalOrderBook();
  expect(book.applySnapshot(snap(100, [['10.00', '1'], ['9.50', '2']], [['11.00', '3'], ['12.00', '4']]))).toBe('applied');
  return book;
}

describe('LocalOrderBook', () => {
  it('buffers events until the snapshot, drops those it covers, applies the rest in order', () => {
    const book = new LocalOrderBook();
    expect(book.status).toBe('resyncing');
    expect(book.needsSnapshot).toBe(true);
    // Before the snapshot: all buffered; the first two are covered by lastUpdateId 100.
    expect(book.applyDiff(diff(95, 98, [['10.00', '7']]))).toBe('buffered');
    expect(book.applyDiff(diff(99, 100, [['9.00', '7']]))).toBe('buffered');
    expect(book.applyDiff(diff(101, 102, [['10.00', '5']], [['11.00', '0']]))).toBe('buffered');
    expect(book.applyDiff(diff(103, 103, [], [['11.50', '0.5']]))).toBe('buffered');
    expect(book.applySnapshot(snap(100, [['10.00', '1'], ['9.50', '2']], [['11.00', '3'], ['12.00', '4']]))).toBe('applied');
    expect(book.status).toBe('synced');
    expect(book.lastUpdateId).toBe(103);
    // 9.00 x 7 (u=100, covered by the snapshot) must not be there.
    expect(side(book.bids)).toEqual([['10', '5'], ['9.5', '2']]);
    expect(side(book.asks)).toEqual([['11.5', '0.5'], ['12', '4']]);
    // Live events continue the sequence.
    expect(book.applyDiff(diff(104, 105, [['10.50', '1']]))).toBe('applied');
    expect(book.bids[0]!.priceText).toBe('10.50');
    expect(book.lastUpdateId).toBe(105);
    expect(book.resyncs).toBe(0);
  });

  it('accepts as first event only one that straddles lastUpdateId + 1', () => {
    // Straddling: U=95 <= 101 <= u=104. Applied, although it starts before the snapshot.
    const a = new LocalOrderBook();
    a.applyDiff(diff(95, 104, [['10.00', '9']]));
    expect(a.applySnapshot(snap(100, [['10.00', '1']], [['11.00', '1']]))).toBe('applied');
    expect(a.lastUpdateId).toBe(104);
    expect(a.bids[0]!.qty.toFixed()).toBe('9');

    // First event after the snapshot starts past lastUpdateId + 1: ids 101..102 are missing.
    const b = new LocalOrderBook();
    b.applyDiff(diff(103, 104, [['10.00', '9']]));
    expect(b.applySnapshot(snap(100, [['10.00', '1']], [['11.00', '1']]))).toBe('resync');
    expect(b.needsSnapshot).toBe(true);
    expect(b.bids).toHaveLength(0);
    // A newer snapshot lines up with the kept event.
    expect(b.applySnapshot(snap(102, [['10.00', '1']], [['11.00', '1']]), b.generation)).toBe('applied');
    expect(b.lastUpdateId).toBe(104);
    expect(b.bids[0]!.qty.toFixed()).toBe('9');

    // Same rule for the first live event after a snapshot with nothing buffered.
    const c = new LocalOrderBook();
    c.applySnapshot(snap(100, [['10.00', '1']], [['11.00', '1']]));
    expect(c.applyDiff(diff(102, 102, [['10.00', '2']]))).toBe('resync');
    expect(c.status).toBe('resyncing');
  });

  it('detects a gap after the first event and resyncs with a new snapshot', () => {
    const book = synced();
    expect(book.applyDiff(diff(101, 101, [['10.00', '2']]))).toBe('applied');
    const gen = book.generation;
    // 102 is lost.
    expect(book.applyDiff(diff(103, 104, [['10.00', '3']]))).toBe('resync');
    expect(book.status).toBe('resyncing');
    expect(book.bids).toHaveLength(0);
    expect(book.asks).toHaveLength(0);
    expect(book.generation).not.toBe(gen);
    expect(book.resyncs).toBe(1);
    // Events keep being buffered while the new snapshot is fetched.
    expect(book.applyDiff(diff(105, 105, [], [['11.00', '8']]))).toBe('buffered');
    // A snapshot requested before the resync is stale and ignored.
    expect(book.applySnapshot(snap(101, [['10.00', '2']], [['11.00', '3']]), gen)).toBe('ignored');
    expect(book.applySnapshot(snap(104, [['10.00', '3']], [['11.00', '3']]), book.generation)).toBe('applied');
    expect(book.lastUpdateId).toBe(105);
    expect(side(book.asks)).toEqual([['11', '8']]);
  });

  it('fetches again when the snapshot is older than the buffered events', () => {
    const book = new LocalOrderBook();
    book.applyDiff(diff(150, 151, [['10.00', '5']]));
    book.applyDiff(diff(152, 152, [['10.00', '6']]));
    expect(book.applySnapshot(snap(120, [['10.00', '1']], [['11.00', '1']]))).toBe('resync');
    expect(book.applySnapshot(snap(151, [['10.00', '5']], [['11.00', '1']]), book.generation)).toBe('applied');
    expect(book.lastUpdateId).toBe(152);
    expect(book.bids[0]!.qty.toFixed()).toBe('6');
  });

  it('ignores duplicate and late (out-of-order) events without going back in time', () => {
    const book = synced();
    const first = diff(101, 101, [['10.00', '2']]);
    expect(book.applyDiff(first)).toBe('applied');
    expect(book.applyDiff(diff(102, 103, [['10.00', '3']]))).toBe('applied');
    // The first event again (a duplicate) and an event from before the snapshot (late).
    expect(book.applyDiff(first)).toBe('ignored');
    expect(book.applyDiff(diff(90, 99, [['10.00', '42']], [['11.00', '0']]))).toBe('ignored');
    expect(book.lastUpdateId).toBe(103);
    expect(book.bids[0]!.qty.toFixed()).toBe('3');
    expect(side(book.asks)).toEqual([['11', '3'], ['12', '4']]);
    expect(book.resyncs).toBe(0);
    // One that overlaps partly (U inside what was applied, u beyond) cannot be trusted.
    expect(book.applyDiff(diff(103, 104, [['10.00', '4']]))).toBe('resync');
  });

  it('removes a level on quantity 0, in any spelling, and tolerates removing an absent one', () => {
    const book = synced();
    expect(book.applyDiff(diff(101, 101, [['9.5', '0.00000000']]))).toBe('applied');
    expect(side(book.bids)).toEqual([['10', '1']]);
    expect(book.applyDiff(diff(102, 102, [['8.00', '0']], [['12.000', '0']]))).toBe('applied');
    expect(side(book.asks)).toEqual([['11', '3']]);
    expect(book.status).toBe('synced');
  });

  it('compares prices as decimals, not as text or floats', () => {
    const book = new LocalOrderBook();
    // As strings "9.9" > "10.1" and "100" < "99"; both sides must still come out ordered.
    book.applySnapshot(snap(1, [['9.9', '1'], ['10.1', '1'], ['9.10', '1']], [['100', '1'], ['99', '1'], ['99.5', '1']]));
    expect(side(book.bids)).toEqual([['10.1', '1'], ['9.9', '1'], ['9.1', '1']]);
    expect(side(book.asks)).toEqual([['99', '1'], ['99.5', '1'], ['100', '1']]);
    // "9.90" is the level "9.9": replaced, not added next to it.
    book.applyDiff(diff(2, 2, [['9.90', '5']]));
    expect(side(book.bids)).toEqual([['10.1', '1'], ['9.9', '5'], ['9.1', '1']]);
    // Exact quantities beyond float precision survive.
    book.applyDiff(diff(3, 3, [['9.1', '0.123456789012345678']]));
    expect(book.bids[2]!.qty.toFixed()).toBe('0.123456789012345678');
  });

  it('never shows a crossed book: a crossing event or snapshot means resync', () => {
    const book = synced();
    // A bid at the best ask (11.00) would cross.
    expect(book.applyDiff(diff(101, 101, [['11.00', '1']]))).toBe('resync');
    expect(book.status).toBe('resyncing');
    expect(book.bids).toHaveLength(0);
    expect(book.asks).toHaveLength(0);
    // An ask below the best bid, equally.
    const b = synced();
    expect(b.applyDiff(diff(101, 101, [], [['9.99', '1']]))).toBe('resync');
    // A crossed snapshot is not shown either.
    const c = new LocalOrderBook();
    expect(c.applySnapshot(snap(5, [['12', '1']], [['11', '1']]))).toBe('resync');
    expect(c.needsSnapshot).toBe(true);
    expect(c.bids).toHaveLength(0);
    // Removing the best ask and adding a higher bid in the same event is not crossed.
    const d = synced();
    expect(d.applyDiff(diff(101, 101, [['11.50', '1']], [['11.00', '0']]))).toBe('applied');
    expect(d.bids[0]!.priceText).toBe('11.50');
    expect(d.asks[0]!.priceText).toBe('12.00');
  });

  it('resync() on demand (after a reconnect) clears the book and waits for a snapshot', () => {
    const book = synced();
    book.resync();
    expect(book.needsSnapshot).toBe(true);
    expect(book.applyDiff(diff(150, 150))).toBe('buffered');
    expect(book.applySnapshot(snap(149, [['1', '1']], [['2', '1']]), book.generation)).toBe('applied');
    expect(book.lastUpdateId).toBe(150);
  });
});

describe('grouping', () => {
  const levels = (rows: [string, string][], isBid: boolean) => {
    const b = new LocalOrderBook();
    b.applySnapshot(snap(1, isBid ? rows : [], isBid ? [] : rows));
    return isBid ? b.bids : b.asks;
  };

  it('offers tickSize x1, x10, x100, x1000', () => {
    expect(groupingSteps('0.01000000')).toEqual(['0.01', '0.1', '1', '10']);
  });

  it('rounds bids down and asks up to the step and sums quantities exactly', () => {
    const bids = levels([['100.29', '0.1'], ['100.21', '0.2'], ['100.19', '0.3'], ['99.99', '1']], true);
    const g = groupLevels(bids, 'bid', '0.1', 10);
    expect(g.map((x) => [x.price.toFixed(), x.qty.toFixed(), x.cumulative.toFixed()])).toEqual([
      ['100.2', '0.3', '0.3'], // 0.1 + 0.2 exactly (a float sum gives 0.30000000000000004)
      ['100.1', '0.3', '0.6'],
      ['99.9', '1', '1.6'],
    ]);
    const asks = levels([['100.01', '0.1'], ['100.10', '0.2'], ['100.11', '0.7']], false);
    const ga = groupLevels(asks, 'ask', '0.1', 10);
    expect(ga.map((x) => [x.price.toFixed(), x.qty.toFixed()])).toEqual([
      ['100.1', '0.3'],
      ['100.2', '0.7'],
    ]);
  });

  it('limits the rows and keeps the step-1 view identical to the book', () => {
    const bids = levels([['5', '1'], ['4', '1'], ['3', '1'], ['2', '1']], true);
    expect(groupLevels(bids, 'bid', '1', 2).map((x) => x.price.toFixed())).toEqual(['5', '4']);
    expect(groupLevels(bids, 'bid', '10', 5).map((x) => [x.price.toFixed(), x.qty.toFixed()])).toEqual([['0', '4']]);
  });
});
