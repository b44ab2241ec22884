import { describe, expect, it } from 'vitest';
import { equivalent, equivalenceKey } from '../../../../stages/lib/equivalence/index.ts';

describe('guards', () => {
  it.each([
    ['10^{10^{10}}', '10^{10^{10}}+1', /exponent .* past the cap/],
    ['2^{99999999}', '3', /exponent .* past the cap/],
    ['\\frac{1}{100000!}', '0', /factorial of 100000 is past the cap/],
    ['x+'.repeat(50_000) + 'x', 'x', /answer longer than 2000 characters/],
    ['1', 'y'.repeat(500_000), /input longer than 400000 characters/],
  ])('%s… is unknown quickly', (g, p, reason) => {
    const t = performance.now();
    const v = equivalent(g, p);
    expect(performance.now() - t).toBeLessThan(500);
    expect(v.equal).toBe('unknown');
    expect(v.reason).toMatch(reason);
  });

  it.each([
    [null as unknown as string, '1'],
    ['\\frac{', '}{'],
    ['\\begin{pmatrix}', '(((('],
    ['$$$', '\\boxed{'],
    ['\\sqrt{-1}^{0.5}', 'NaN'],
    ['1/0', '\\frac{1}{0}'],
    ['\\ce{', 'Xx9'],
    ['5 \\mathrm{zz}', '5 m'],
  ])('never throws on %s vs %s', (g, p) => {
    expect(() => equivalent(g, p)).not.toThrow();
    for (const kind of ['number', 'expression', 'choice', 'quantity', 'formula', 'text'] as const) {
      expect(() => equivalent(g, p, { kind })).not.toThrow();
      expect(() => equivalenceKey(g, { kind })).not.toThrow();
    }
  });
});
