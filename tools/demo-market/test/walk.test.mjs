// The mid-price model: seeded and reproducible, mean-reverting around the anchor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../lib/rng.mjs';
import { OuWalk } from '../lib/walk.mjs';

test('the generator is deterministic per seed', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.next()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});

test('normal and exponential have the right moments', () => {
  const r = new Rng(7);
  const n = 20000;
  let s = 0;
  let s2 = 0;
  let e = 0;
  for (let i = 0; i < n; i += 1) {
    const z = r.normal();
    s += z;
    s2 += z * z;
    e += r.exponential(2);
  }
  assert.ok(Math.abs(s / n) < 0.03, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.05, `variance ${s2 / n}`);
  assert.ok(Math.abs(e / n - 2) < 0.08, `exponential mean ${e / n}`);
});

test('the walk is reproducible from its seed', () => {
  const run = (seed) => {
    const w = new OuWalk({ anchor: 100, theta: 0.01, sigma: 0.001, rng: new Rng(seed) });
    return Array.from({ length: 10 }, () => w.step(1));
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

test('a displaced walk reverts to its anchor (no noise: exact decay)', () => {
  const w = new OuWalk({ anchor: 100, start: 200, theta: Math.LN2 / 10, sigma: 0, rng: new Rng(1) });
  w.step(10); // one half-life in log space: ln(200/100) halves
  assert.ok(Math.abs(w.mid - 100 * Math.sqrt(2)) < 1e-9, `mid ${w.mid}`);
  w.step(1000);
  assert.ok(Math.abs(w.mid - 100) < 1e-6);
});

test('the stationary spread is sigma/sqrt(2 theta) and the mean is the anchor', () => {
  const theta = 0.05;
  const sigma = 0.002;
  const w = new OuWalk({ anchor: 3200, theta, sigma, rng: new Rng(99) });
  let s = 0;
  let s2 = 0;
  const n = 40000;
  for (let i = 0; i < n; i += 1) {
    w.step(1);
    const x = Math.log(w.mid / 3200);
    s += x;
    s2 += x * x;
  }
  const sd = Math.sqrt(s2 / n - (s / n) ** 2);
  const want = sigma / Math.sqrt(2 * theta);
  assert.ok(Math.abs(s / n) < want * 0.15, `mean log deviation ${s / n}`);
  assert.ok(Math.abs(sd / want - 1) < 0.1, `sd ${sd} want ${want}`);
});

test('the walk never leaves its clamp band and rejects bad parameters', () => {
  const w = new OuWalk({ anchor: 1, theta: 0.001, sigma: 0.5, rng: new Rng(3), clampSd: 2 });
  const band = 2 * (0.5 / Math.sqrt(0.002));
  for (let i = 0; i < 1000; i += 1) assert.ok(Math.abs(Math.log(w.step(5))) <= band + 1e-12);
  assert.throws(() => new OuWalk({ anchor: 0, theta: 1, sigma: 1, rng: new Rng(1) }), RangeError);
  assert.throws(() => w.step(-1), RangeError);
});
