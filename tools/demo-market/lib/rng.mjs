// A small seeded pseudo-random generator (mulberry32) with the distributions the bots need, so
// that a run and every unit test can be replayed from a seed. Not for anything secret.
// Not thread-shared: one instance per user.

export class Rng {
  constructor(seed) {
    if (!Number.isInteger(seed)) throw new TypeError('seed must be an integer');
    this.state = seed >>> 0;
    this.spare = null; // second normal of the last Box-Muller pair
  }

  // Uniform in [0, 1).
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  // Uniform in [lo, hi).
  uniform(lo, hi) {
    return lo + (hi - lo) * this.next();
  }

  // Integer in [lo, hi] (both included).
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  // Standard normal (Box-Muller).
  normal() {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  // Exponential with the given mean (waiting time of a Poisson process).
  exponential(mean) {
    let u = 0;
    while (u === 0) u = this.next();
    return -Math.log(u) * mean;
  }
}
