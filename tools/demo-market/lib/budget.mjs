// Client-side limits that keep the bots well inside the gateway's rate limits
// (docs/rate-limits.md): a sliding-window counter (never more than `limit` in any window of
// `windowMs`, hence in any of the server's epoch-aligned fixed windows too) and the pause a
// 429/418 answer asks for. The clock is passed in, so the logic is testable. Single-threaded.

export class SlidingWindow {
  constructor(windowMs, limit) {
    if (!(windowMs > 0) || !(limit >= 1)) throw new RangeError('window and limit must be positive');
    this.windowMs = windowMs;
    this.limit = limit;
    this.events = []; // [timeMs, amount], oldest first
    this.head = 0; // events before head have left the window
    this.total = 0; // sum of the amounts from head on
  }

  used(now) {
    while (this.head < this.events.length && this.events[this.head][0] <= now - this.windowMs) {
      this.total -= this.events[this.head][1];
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    return this.total;
  }

  // What can still be spent now.
  available(now) {
    return Math.max(0, this.limit - this.used(now));
  }

  canSpend(amount, now) {
    return this.used(now) + amount <= this.limit;
  }

  spend(amount, now) {
    this.used(now);
    this.events.push([now, amount]);
    this.total += amount;
  }

  // Milliseconds until `amount` fits (0 if it fits now; Infinity if it never can).
  waitFor(amount, now) {
    if (amount > this.limit) return Infinity;
    let used = this.used(now);
    if (used + amount <= this.limit) return 0;
    for (let i = this.head; i < this.events.length; i += 1) {
      const [t, a] = this.events[i];
      used -= a;
      if (used + amount <= this.limit) return t + this.windowMs - now;
    }
    return this.windowMs;
  }
}

// A token bucket: spends at most `capacity` at once and on average `ratePerS` per second.
// Paces the orders against the per-day order limit, so a day-long run never reaches it.
export class TokenBucket {
  constructor(capacity, ratePerS, now) {
    if (!(capacity >= 1) || !(ratePerS > 0)) throw new RangeError('bad bucket');
    this.capacity = capacity;
    this.ratePerS = ratePerS;
    this.tokens = capacity;
    this.at = now;
  }

  available(now) {
    if (now > this.at) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.ratePerS);
      this.at = now;
    }
    return Math.floor(this.tokens);
  }

  spend(amount, now) {
    this.available(now);
    this.tokens -= amount;
  }
}

// Back-off after a refusal: the Retry-After header (seconds) when present, else an
// exponential delay from the attempt number; capped.
export function retryDelayMs(retryAfterHeader, attempt, { baseMs = 500, capMs = 30000 } = {}) {
  const s = Number.parseInt(retryAfterHeader ?? '', 10);
  if (Number.isFinite(s) && s >= 0) return Math.min(Math.max(1000, s * 1000), 10 * 60 * 1000);
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
}
