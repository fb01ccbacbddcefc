// Exact decimal helpers: parsing user text, rounding to steps, formatting without Number.
import { describe, expect, it } from 'vitest';
import { ceilToStep, D, floorToStep, fmt, fmtGrouped, parseDec, stepDecimals, trimZeros } from './decimal';

describe('decimal', () => {
  it('parses plain decimals only', () => {
    expect(parseDec('1.50')?.toFixed()).toBe('1.5');
    expect(parseDec(' 0.1 ')?.toFixed()).toBe('0.1');
    expect(parseDec('.5')?.toFixed()).toBe('0.5');
    expect(parseDec('3.')?.toFixed()).toBe('3');
    for (const bad of ['', '-1', '1e5', 'abc', '1.2.3', '0x10', 'Infinity', 'NaN', '1,5']) expect(parseDec(bad)).toBeUndefined();
  });
  it('is exact where binary floating point is not', () => {
    expect(D('0.1').add(D('0.2')).toFixed()).toBe('0.3');
    expect(D('123456789012345678.12345678').mul(1).toFixed()).toBe('123456789012345678.12345678');
  });
  it('counts step decimals', () => {
    expect(stepDecimals('0.00100000')).toBe(3);
    expect(stepDecimals('1.00000000')).toBe(0);
    expect(stepDecimals('0.01')).toBe(2);
    expect(stepDecimals('0')).toBe(8);
  });
  it('rounds to steps down and up', () => {
    expect(floorToStep(D('1.23456'), '0.001').toFixed()).toBe('1.234');
    expect(ceilToStep(D('1.23401'), '0.001').toFixed()).toBe('1.235');
    expect(floorToStep(D('7'), '0.5').toFixed()).toBe('7');
    expect(floorToStep(D('7.49'), '0.5').toFixed()).toBe('7');
    expect(floorToStep(D('7.49'), '0').toFixed()).toBe('7.49');
  });
  it('formats with fixed and grouped decimals, rounding down', () => {
    expect(fmt('1.5', 2)).toBe('1.50');
    expect(fmt('1.999', 2)).toBe('1.99');
    expect(fmtGrouped('1234567.891', 2)).toBe('1,234,567.89');
    expect(fmtGrouped('999', 0)).toBe('999');
    expect(fmtGrouped('-1234.5', 1)).toBe('-1,234.5');
    expect(trimZeros('0.10000000')).toBe('0.1');
    expect(trimZeros('100.000')).toBe('100');
  });
});
