// Exact decimal helper: parsing, formatting and step rounding never go through Number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ceilTo, decimalsOf, divCeil, floorTo, format, mul, parse, scale, toSteps,
} from '../lib/decimal.mjs';

test('parse and format round-trip exactly', () => {
  assert.equal(parse('123.45'), 12345000000n);
  assert.equal(parse('0.00000001'), 1n);
  assert.equal(parse('-1.5'), -150000000n);
  assert.equal(parse('0.10000000000'), 10000000n); // trailing zeros beyond 8 are fine
  assert.equal(format(12345000000n, 2), '123.45');
  assert.equal(format(12345000000n), '123.45000000');
  assert.equal(format(1n), '0.00000001');
  assert.equal(format(-150000000n, 1), '-1.5');
  assert.equal(format(700000000000000n, 0), '7000000');
  // 0.1 + 0.2 is exact here.
  assert.equal(format(parse('0.1') + parse('0.2'), 1), '0.3');
});

test('parse rejects what cannot be sent exactly', () => {
  assert.throws(() => parse('1.000000001'), RangeError);
  assert.throws(() => parse('1e5'), RangeError);
  assert.throws(() => parse(' 1'), RangeError);
  assert.throws(() => parse(1.5), TypeError);
});

test('format refuses to round silently', () => {
  assert.throws(() => format(12345678n, 2), RangeError);
  assert.throws(() => format(1.5, 2), TypeError);
});

test('decimalsOf a step', () => {
  assert.equal(decimalsOf('0.01000000'), 2);
  assert.equal(decimalsOf('0.00001'), 5);
  assert.equal(decimalsOf('1'), 0);
  assert.equal(decimalsOf('10'), 0);
  assert.equal(decimalsOf(1n), 8);
});

test('floor/ceil to a step', () => {
  const step = parse('0.001');
  assert.equal(floorTo(parse('1.23456'), step), parse('1.234'));
  assert.equal(ceilTo(parse('1.23456'), step), parse('1.235'));
  assert.equal(ceilTo(parse('1.234'), step), parse('1.234'));
  assert.equal(floorTo(parse('-0.0005'), step), parse('-0.001'));
});

test('mul, divCeil and scale', () => {
  assert.equal(mul(parse('65000.01'), parse('0.00001')), parse('0.6500001'));
  // 5 / 65000 = 0.0000769230..., rounded up to a unit.
  assert.equal(divCeil(parse('5'), parse('65000')), 7693n);
  assert.equal(scale(parse('0.02'), 1.25), parse('0.025'));
  assert.equal(scale(parse('1'), 0.3333), parse('0.333'));
});

test('toSteps turns a model price into whole ticks', () => {
  assert.equal(toSteps(65000.004, parse('0.01')), 6500000n);
  assert.equal(toSteps(65000.006, parse('0.01')), 6500001n);
  assert.equal(toSteps(0.049, parse('0.00001')), 4900n);
  assert.throws(() => toSteps(Number.NaN, 1n), RangeError);
});
