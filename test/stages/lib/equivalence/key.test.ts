import { describe, expect, it } from 'vitest';
import { equivalenceKey } from '../../../../stages/lib/equivalence/index.ts';

describe('equivalenceKey', () => {
  it.each([
    ['1,000', 'n:1000'],
    ['\\frac{1}{3}', 'n:0.333333'],
    ['0.3333333', 'n:0.333333'],
    ['50%', 'n:50'],
    ['3 \\times 10^{8}', 'n:300000000'],
  ])('number %s → %s', (a, key) => {
    expect(equivalenceKey(a, { kind: 'number' })).toBe(key);
  });
  it.each([
    ['(x+1)^2', 'x^2+2x+1', true],
    ['(x+1)^2', 'x^2+1', false],
    ['9.8 m/s^2', '980 cm/s^2', true],
    ['5 kJ', '5 kW', false],
    ['H2O', 'OH2', true],
    ['\\text{Yes}', 'yes', true],
  ])('%s and %s share a key: %s', (a, b, same) => {
    const ka = equivalenceKey(a, a.startsWith('\\text') ? { kind: 'text' } : {}),
      kb = equivalenceKey(b, a.startsWith('\\text') ? { kind: 'text' } : {});
    expect(ka).not.toBeNull();
    expect(ka === kb).toBe(same);
  });
  it.each([
    ['B', 'c:B'],
    ['(C)', 'c:C'],
    ['zz', null],
  ])('choice %s → %s', (a, key) => {
    expect(equivalenceKey(a, { kind: 'choice' })).toBe(key);
  });
  it('has no key for what it cannot read', () => {
    expect(equivalenceKey('\\frac{', { kind: 'expression' })).toBeNull();
  });
});
