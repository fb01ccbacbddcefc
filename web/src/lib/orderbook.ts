// The screen's local order book, kept the way Binance documents for a diff-depth stream
// (BINANCE_API.md, "How to manage a local order book correctly"):
//   1. buffer the <symbol>@depth events while the REST snapshot (/api/v3/depth) is fetched;
//   2. drop every event with u <= the snapshot's lastUpdateId;
//   3. the first event applied must straddle it: U <= lastUpdateId + 1 <= u;
//   4. every later event must continue exactly: U == previous u + 1, else a gap -> resync;
//   5. a quantity of 0 removes the level.
// Events that are entirely older than the book (duplicates, late deliveries) are ignored. An
// event that overlaps the book only partly, a gap, or a state that would be crossed (best bid >=
// best ask, which a correct book never is) makes the book inconsistent: it is cleared and a new
// snapshot is asked for, so the screen shows "resyncing" rather than a wrong book.
//
// Pure and synchronous (no I/O, no timers): the caller (lib/marketStream.ts) feeds events and
// snapshots and fetches a snapshot whenever `needsSnapshot` is true. Prices and quantities stay
// exact decimals (lib/decimal.ts): levels are compared as decimals and keep the server's text
// for display. Not thread-safe (JavaScript has one thread; one instance per symbol).
import { D, type Dec, ceilToStep, floorToStep, trimZeros } from './decimal';

/** `[price, quantity]` as the server spells them. */
export type RawLevel = [string, string];

/** REST `GET /api/v3/depth`. */
export interface DepthSnapshot { lastUpdateId: number; bids: RawLevel[]; asks: RawLevel[] }

/** The `depthUpdate` payload of `<symbol>@depth` / `<symbol>@depth@100ms`. */
export interface DepthDiff { U: number; u: number; b: RawLevel[]; a: RawLevel[] }

export interface Level {
  price: Dec;
  /** The price as the server sent it (for display and data attributes). */
  priceText: string;
  qty: Dec;
  qtyText: string;
}

export type BookStatus = 'resyncing' | 'synced';

/** What feeding one event or snapshot did. */
export type FeedResult =
  | 'buffered' // no snapshot yet: kept for when it comes
  | 'applied'
  | 'ignored' // older than the book: a duplicate or a late delivery
  | 'resync'; // inconsistent: the book is cleared and wants a new snapshot

/** At most this many events are buffered while a snapshot is fetched (older ones are dropped,
 *  which the first-event rule then detects as a gap). */
export const MAX_BUFFERED_EVENTS = 5000;
/** At most this many levels per side are kept (a snapshot of limit=1000 fills it). */
export const MAX_LEVELS_PER_SIDE = 5000;

export class LocalOrderBook {
  /** Bids best (highest) first, asks best (lowest) first. */
  private bidLevels: Level[] = [];
  private askLevels: Level[] = [];
  private buffer: DepthDiff[] = [];
  private lastId: number | null = null;
  private firstApplied = false;
  private gen = 0;
  private resyncCount = 0;

  /** 'synced' once a snapshot is in and no inconsistency was seen since. */
  get status(): BookStatus {
    return this.lastId === null ? 'resyncing' : 'synced';
  }
  /** True while the book waits for a snapshot (at start and after every resync). */
  get needsSnapshot(): boolean {
    return this.lastId === null;
  }
  /** The last applied final update id (the snapshot's lastUpdateId before any event). */
  get lastUpdateId(): number | null {
    return this.lastId;
  }
  /** Changes on every resync: a snapshot fetched for an older generation is stale. */
  get generation(): number {
    return this.gen;
  }
  /** How many times the book had to resync (for diagnostics and tests). */
  get resyncs(): number {
    return this.resyncCount;
  }
  get bids(): readonly Level[] {
    return this.bidLevels;
  }
  get asks(): readonly Level[] {
    return this.askLevels;
  }

  /** Drop everything and wait for a new snapshot (also used after a reconnect: events may
   *  have been missed). Keeps `keep` buffered (the event that revealed a gap may be the one that
   *  straddles the next snapshot). */
  resync(keep?: DepthDiff): void {
    this.bidLevels = [];
    this.askLevels = [];
    this.buffer = keep ? [keep] : [];
    this.lastId = null;
    this.firstApplied = false;
    this.gen++;
    this.resyncCount++;
  }

  /** One diff-depth event. */
  applyDiff(ev: DepthDiff): FeedResult {
    if (this.lastId === null) {
      this.buffer.push(ev);
      if (this.buffer.length > MAX_BUFFERED_EVENTS) this.buffer.shift();
      return 'buffered';
    }
    return this.process(ev);
  }

  /**
   * The REST snapshot. `generation` is the value of `generation` when the request was sent: a
   * snapshot asked for before a later resync is ignored. Replays the buffered events.
   */
  applySnapshot(snap: DepthSnapshot, generation: number = this.gen): FeedResult {
    if (generation !== this.gen || this.lastId !== null) return 'ignored';
    const pending = this.buffer;
    this.buffer = [];
    this.bidLevels = [];
    this.askLevels = [];
    for (const [p, q] of snap.bids.slice(0, MAX_LEVELS_PER_SIDE)) this.set(this.bidLevels, true, p, q);
    for (const [p, q] of snap.asks.slice(0, MAX_LEVELS_PER_SIDE)) this.set(this.askLevels, false, p, q);
    this.lastId = snap.lastUpdateId;
    this.firstApplied = false;
    if (this.crossed()) {
      this.resync();
      return 'resync';
    }
    // The snapshot is older than what the stream still holds: the events in between are lost
    // (Binance: "if the snapshot's lastUpdateId is strictly less than U of the first buffered
    // event, fetch the snapshot again").
    const firstRelevant = pending.find((e) => e.u > snap.lastUpdateId);
    if (firstRelevant && firstRelevant.U > snap.lastUpdateId + 1) {
      this.resync();
      this.buffer = pending.filter((e) => e.u > snap.lastUpdateId);
      return 'resync';
    }
    for (let i = 0; i < pending.length; i++) {
      const r = this.process(pending[i]!);
      if (r === 'resync') {
        // Keep the rest: a new snapshot may still line up with them.
        this.buffer.push(...pending.slice(i + 1));
        return 'resync';
      }
    }
    return 'applied';
  }

  private process(ev: DepthDiff): FeedResult {
    const last = this.lastId!;
    if (ev.u <= last) return 'ignored';
    if (!this.firstApplied) {
      if (!(ev.U <= last + 1 && last + 1 <= ev.u)) {
        this.resync(ev);
        return 'resync';
      }
    } else if (ev.U !== last + 1) {
      // U > last + 1: events are missing. U <= last with u > last: an overlap a consistent
      // stream never sends. Either way the book can no longer be trusted.
      this.resync(ev);
      return 'resync';
    }
    for (const [p, q] of ev.b) this.set(this.bidLevels, true, p, q);
    for (const [p, q] of ev.a) this.set(this.askLevels, false, p, q);
    this.lastId = ev.u;
    this.firstApplied = true;
    if (this.crossed()) {
      this.resync();
      return 'resync';
    }
    return 'applied';
  }

  private crossed(): boolean {
    const b = this.bidLevels[0];
    const a = this.askLevels[0];
    return b !== undefined && a !== undefined && b.price.gte(a.price);
  }

  /** Set (or remove with quantity 0) one level, keeping the side sorted best first. */
  private set(levels: Level[], bid: boolean, priceText: string, qtyText: string): void {
    const price = D(priceText);
    const qty = D(qtyText);
    // Binary search for the first level not better than `price`.
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = levels[mid]!.price.cmp(price);
      const better = bid ? c > 0 : c < 0;
      if (better) lo = mid + 1;
      else hi = mid;
    }
    const at = levels[lo];
    const same = at !== undefined && at.price.eq(price);
    if (qty.isZero()) {
      if (same) levels.splice(lo, 1);
      return;
    }
    const level: Level = { price, priceText, qty, qtyText };
    if (same) levels[lo] = level;
    else if (levels.length < MAX_LEVELS_PER_SIDE) levels.splice(lo, 0, level);
    else if (lo < levels.length) {
      levels.splice(lo, 0, level);
      levels.pop();
    }
  }
}

/** One row of the aggregated book. */
export interface GroupedLevel {
  /** The group's price, a multiple of the grouping step (canonical decimal text). */
  price: Dec;
  /** Sum of the quantities of the levels in the group. */
  qty: Dec;
  /** Sum of the quantities from the best group up to and including this one. */
  cumulative: Dec;
}

/** The grouping steps offered: tickSize x1, x10, x100, x1000. */
export function groupingSteps(tickSize: string): string[] {
  const t = D(tickSize);
  if (t.isZero()) return ['0'];
  return [1, 10, 100, 1000].map((k) => trimZeros(t.mul(k)));
}

/**
 * Aggregate one side into groups of `step`: bids rounded down, asks rounded up to a multiple of
 * the step (so a group never claims a better price than its levels offer). At most `maxRows`
 * groups, best first, with cumulative quantities.
 */
export function groupLevels(levels: readonly Level[], side: 'bid' | 'ask', step: string, maxRows: number): GroupedLevel[] {
  const out: GroupedLevel[] = [];
  let cum = D(0);
  for (const l of levels) {
    const price = side === 'bid' ? floorToStep(l.price, step) : ceilToStep(l.price, step);
    const lastGroup = out[out.length - 1];
    cum = cum.add(l.qty);
    if (lastGroup && lastGroup.price.eq(price)) {
      lastGroup.qty = lastGroup.qty.add(l.qty);
      lastGroup.cumulative = cum;
    } else {
      if (out.length >= maxRows) break;
      out.push({ price, qty: l.qty, cumulative: cum });
    }
  }
  return out;
}
