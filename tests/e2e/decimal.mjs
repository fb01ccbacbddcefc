// Exact decimals for the end-to-end tests (tests/e2e and the browser tests in web/e2e): every
// amount the server reports has at most 8 decimals (asset scale 8), so a BigInt of units of
// 1e-8 holds it exactly. Floats are never used to compare amounts. Node built-ins only, so the
// browser tests can import it without this folder's npm packages.
import assert from 'node:assert/strict';

export const kScale = 10n ** 8n;

// "123.4500" -> 12345000000n. Throws on anything that is not a plain decimal or that has a
// non-zero digit beyond the 8th decimal.
export function dec(s) {
  assert.equal(typeof s, 'string', `decimal must be a string, got ${typeof s} ${s}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  assert.ok(m, `not a decimal: '${s}'`);
  const frac = (m[3] ?? '').padEnd(8, '0');
  assert.ok(/^0*$/.test(frac.slice(8)), `more than 8 decimals: '${s}'`);
  const v = BigInt(m[2]) * kScale + BigInt(frac.slice(0, 8));
  return m[1] === '-' ? -v : v;
}

// 12345000000n -> "123.45000000"
export function fmt(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / kScale}.${(a % kScale).toString().padStart(8, '0')}`;
}

// Exact product of two scaled decimals; fails if it is not a whole number of 1e-8 units.
export function mul(a, b) {
  const p = a * b;
  assert.equal(p % kScale, 0n, `${fmt(a)} * ${fmt(b)} has more than 8 decimals`);
  return p / kScale;
}

// Product of two scaled decimals rounded toward zero to 1e-8 (a price derived from another).
export const mulDown = (a, b) => (a * b) / kScale;

export const sum = (xs) => xs.reduce((acc, x) => acc + x, 0n);
