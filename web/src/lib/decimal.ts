// Exact decimal arithmetic for prices, quantities and balances (decimal.js). Every amount the
// server sends is a decimal string; it stays one (or a Decimal) end to end, never a Number.
import Decimal from 'decimal.js';

// 40 significant digits cover any amount the engine holds (18-digit integers at scale <= 18).
const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_DOWN, toExpNeg: -40, toExpPos: 40 });
export type Dec = InstanceType<typeof Dec>;

/** A decimal from a string the server or the user gave; undefined if it is not a plain decimal. */
export function parseDec(s: string): Dec | undefined {
  const t = s.trim();
  if (!/^[0-9]+(\.[0-9]*)?$|^\.[0-9]+$/.test(t)) return undefined;
  return new Dec(t);
}

/** A decimal from a trusted server string (throws on garbage: the server never sends it). */
export function D(s: string | number | Dec): Dec {
  return new Dec(s);
}

/** Number of decimals a step such as "0.00100000" allows (3 here); 0 for "1.00000000". */
export function stepDecimals(step: string): number {
  const d = D(step);
  if (d.isZero()) return 8;
  return Math.max(0, d.decimalPlaces());
}

/** `value` rounded down to a multiple of `step` (filters: tickSize, stepSize). */
export function floorToStep(value: Dec, step: string): Dec {
  const s = D(step);
  if (s.isZero()) return value;
  return value.div(s).floor().mul(s);
}

/** `value` rounded up to a multiple of `step`. */
export function ceilToStep(value: Dec, step: string): Dec {
  const s = D(step);
  if (s.isZero()) return value;
  return value.div(s).ceil().mul(s);
}

/** Fixed-point text with exactly `decimals` places (rounded down), e.g. fmt("1.5", 2) = "1.50". */
export function fmt(value: string | Dec, decimals: number): string {
  return D(value).toFixed(decimals, Decimal.ROUND_DOWN);
}

/** Like fmt, with thousands separators in the integer part: "12,345.60". */
export function fmtGrouped(value: string | Dec, decimals: number): string {
  const s = fmt(value, decimals);
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const [int, frac] = body.split('.');
  const grouped = (int ?? '0').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + grouped + (frac !== undefined ? '.' + frac : '');
}

/** The shortest text of a decimal without trailing zeros: "0.10000000" -> "0.1". */
export function trimZeros(value: string | Dec): string {
  return D(value).toFixed();
}

export { Dec as DecimalCtor };
