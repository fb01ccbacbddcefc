// Exact decimals for everything sent to the exchange: a value is a BigInt count of 1e-8 units
// (every Spotex asset has scale 8, docs/markets-config.md), so prices, quantities, tick and step
// sizes are held and rounded exactly. Number is used only by the price model and for ratios;
// a model price becomes an exchange price through a whole number of ticks (toSteps).
// Pure functions, no state: safe anywhere.

export const SCALE = 8;
export const ONE = 10n ** BigInt(SCALE);

const kDecimal = /^(-?)(\d{1,20})(?:\.(\d{1,30}))?$/;

// "123.4500" -> 12345000000n. Throws on anything that is not a plain decimal or that has a
// non-zero digit beyond the 8th decimal (it could not be sent exactly).
export function parse(text) {
  if (typeof text !== 'string') throw new TypeError(`decimal must be a string, got ${typeof text}`);
  const m = kDecimal.exec(text);
  if (!m) throw new RangeError(`not a decimal: '${text}'`);
  const frac = (m[3] ?? '').padEnd(SCALE, '0');
  if (!/^0*$/.test(frac.slice(SCALE))) throw new RangeError(`more than ${SCALE} decimals: '${text}'`);
  const v = BigInt(m[2]) * ONE + BigInt(frac.slice(0, SCALE));
  return m[1] === '-' ? -v : v;
}

// Number of decimals a step needs: "0.01000000" -> 2, "1" -> 0, 1000n (units) -> 5.
export function decimalsOf(step) {
  let units = typeof step === 'bigint' ? step : parse(step);
  if (units <= 0n) throw new RangeError('step must be positive');
  let d = SCALE;
  while (d > 0 && units % 10n === 0n) {
    units /= 10n;
    d -= 1;
  }
  return d;
}

// 12345000000n -> "123.45" with decimals = 2. Throws if the value has more decimals than asked
// (formatting never rounds: round first with the step helpers).
export function format(units, decimals = SCALE) {
  if (typeof units !== 'bigint') throw new TypeError('format takes a BigInt');
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > SCALE) {
    throw new RangeError(`bad decimals ${decimals}`);
  }
  const neg = units < 0n;
  const a = neg ? -units : units;
  const cut = 10n ** BigInt(SCALE - decimals);
  if (a % cut !== 0n) throw new RangeError(`${a} units have more than ${decimals} decimals`);
  const whole = a / ONE;
  const frac = ((a % ONE) / cut).toString().padStart(decimals, '0');
  return `${neg ? '-' : ''}${whole}${decimals > 0 ? `.${frac}` : ''}`;
}

// Rounding to a multiple of a positive step (all BigInt units).
export function floorTo(units, step) {
  if (step <= 0n) throw new RangeError('step must be positive');
  const r = ((units % step) + step) % step;
  return units - r;
}
export function ceilTo(units, step) {
  const f = floorTo(units, step);
  return f === units ? f : f + step;
}

// a * b for two unit values (price * qty = notional), rounded down to a unit.
export function mul(a, b) {
  return (a * b) / ONE;
}

// a / b for two unit values, rounded up to a unit (the quantity that reaches a notional).
export function divCeil(a, b) {
  if (b <= 0n) throw new RangeError('division by a non-positive value');
  const n = a * ONE;
  return n % b === 0n ? n / b : n / b + 1n;
}

// units scaled by a Number factor with `resolution` steps per unit of factor, rounded down:
// scale(100n, 1.15) = 115n. Used for size multipliers; the factor itself is a model number.
export function scale(units, factor, resolution = 1000) {
  if (!Number.isFinite(factor) || factor < 0) throw new RangeError(`bad factor ${factor}`);
  return (units * BigInt(Math.round(factor * resolution))) / BigInt(resolution);
}

// A model price (Number) as a whole number of steps (BigInt), nearest. The only bridge from
// the model to exchange values.
export function toSteps(value, step) {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`bad model value ${value}`);
  const n = Math.round((value * Number(ONE)) / Number(step));
  return BigInt(Math.max(1, n));
}

// An exchange value as a Number, for the model and for logs only.
export function toNumber(units) {
  return Number(units) / Number(ONE);
}

export const min = (a, b) => (a < b ? a : b);
export const max = (a, b) => (a > b ? a : b);
