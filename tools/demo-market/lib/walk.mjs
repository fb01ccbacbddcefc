// The demo market's mid price: an Ornstein-Uhlenbeck process in log price around an anchor
// (mean-reverting random walk), so that the price wanders like a market but never drifts far
// from where it started. Stepped with the exact discretisation, so the behaviour does not depend
// on the tick length:
//   x' = mu + (x - mu)·e^(-θ·dt) + σ·sqrt((1 - e^(-2θ·dt)) / 2θ)·Z,   x = ln(mid), mu = ln(anchor)
// θ: mean reversion per second (half-life ln2/θ); σ: volatility of ln(mid) per sqrt(second).
// The stationary spread around the anchor is σ/sqrt(2θ). Not shared between threads.

export class OuWalk {
  // anchor > 0 (Number, the model price), theta > 0, sigma >= 0, rng: an Rng.
  constructor({ anchor, theta, sigma, rng, start = anchor, clampSd = 6 }) {
    if (!(anchor > 0) || !(start > 0)) throw new RangeError('anchor and start must be positive');
    if (!(theta > 0) || !(sigma >= 0)) throw new RangeError('theta must be > 0, sigma >= 0');
    this.mu = Math.log(anchor);
    this.x = Math.log(start);
    this.theta = theta;
    this.sigma = sigma;
    this.rng = rng;
    // Bound on |x - mu|: a freak draw cannot carry the price outside the filters' bands.
    this.maxDev = clampSd * (sigma / Math.sqrt(2 * theta)) || 0;
  }

  get mid() {
    return Math.exp(this.x);
  }

  // Advances by dtSeconds (>= 0) and returns the new mid.
  step(dtSeconds) {
    if (!(dtSeconds >= 0)) throw new RangeError('dt must be >= 0');
    if (dtSeconds === 0) return this.mid;
    const decay = Math.exp(-this.theta * dtSeconds);
    const sd = this.sigma * Math.sqrt((1 - decay * decay) / (2 * this.theta));
    let dev = (this.x - this.mu) * decay + sd * this.rng.normal();
    if (this.maxDev > 0) dev = Math.max(-this.maxDev, Math.min(this.maxDev, dev));
    this.x = this.mu + dev;
    return this.mid;
  }
}
