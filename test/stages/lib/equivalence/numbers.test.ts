import { describe, expect, it } from 'vitest';
import { parseNumber, equivalent } from '../../../../stages/lib/equivalence/index.ts';

describe('parseNumber', () => {
  it.each([
    ['1,234', 1234],
    ['$5', 5],
    ['3.0 x 10^8', 3e8],
    ['3\\times10^{8}', 3e8],
    ['3e8', 3e8],
    ['50%', 0.5],
    ['1 1/2', 1.5],
    ['\\frac{3}{4}', 0.75],
    ['-\\frac{10}{9}', -10 / 9],
    ['\\dfrac34', 0.75],
    ['.4', 0.4],
    ['1,22', 1.22],
    ['0,111', 0.111],
    ['7,425,000', 7425000],
    ['1 000', 1000],
    ['10^{-3}', 0.001],
    ['2\\frac{1}{2}', 2.5],
    ['14{,}916', 14916],
    ['−2', -2],
    ['€12.50', 12.5],
    ['28 percent', 0.28],
  ])('%s is %d', (s, v) => {
    expect(parseNumber(s)).toBeCloseTo(v, 12);
  });
  it.each([['x+1'], ['AZYUK2A'], ['1, 2'], [''], ['1/0']])('%s is not a number', (s) => {
    expect(parseNumber(s)).toBeNull();
  });
});

describe('equivalent on numbers', () => {
  it.each([
    ['1000', '1000.0', true],
    ['1000', '1 000', true],
    ['7425000', '7,425,000', true],
    ['0.1', '.1', true],
    ['10', '\\$10', true],
    ['10\\%', '10', true],
    ['28%', '0.28', true],
    ['3\\times10^{8}', '3.0 x 10^8', true],
    ['3e8', '300000000', true],
    ['1/2', '\\frac{1}{2}', true],
    ['1\\frac{1}{2}', '3/2', true],
    ['2', '2.0000001', true],
    ['2', '2.00001', false],
    ['1000000', '1000001', false],
    ['123456789012', '123456789013', false],
    ['\\frac{1}{3}', '0.33', true],
    ['\\frac{8}{3}', '2.6667', true],
    ['\\frac{1}{3}', '0.3', false],
    ['0', '0.000001', false],
    ['1e-30', '1.0000000001e-30', true],
    ['1e-30', '2e-30', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p, { kind: 'number' }).equal).toBe(want);
  });
  it('tells 1/2004! from 1/2006! (relative, never absolute, tolerance)', () => {
    expect(equivalent('\\frac{1}{2004!}', '\\frac{1}{2006!}').equal).toBe(false);
    expect(equivalent('\\frac{1}{2004!}', '\\frac{2005 \\cdot 2006}{2006!}').equal).toBe(true);
  });
  it('uses the spec tolerance', () => {
    expect(equivalent('9.81', '9.8', { kind: 'number', tolerance: 0.01 }).equal).toBe(true);
    expect(equivalent('9.81', '9.5', { kind: 'number', tolerance: 0.01 }).equal).toBe(false);
  });
  it('says why numbers differ', () => {
    expect(equivalent('5', '6', { kind: 'number' })).toEqual({
      equal: false,
      reason: 'numbers differ: gold 5, prediction 6',
    });
  });
});
