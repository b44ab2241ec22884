import { describe, expect, it } from 'vitest';
import { equivalent } from '../../../../stages/lib/equivalence/index.ts';
import { parseFormula, speciesKey } from '../../../../stages/lib/equivalence/chemistry.ts';

describe('chemical formulas', () => {
  it.each([
    ['H2O', 'OH2', true],
    ['H2O', 'H2O2', false],
    ['Ca(OH)2', 'CaO2H2', true],
    ['CuSO4·5H2O', 'CuS O9 H10', true],
    ['CuSO4·5H2O', 'CuSO4\\cdot 5H2O', true],
    ['\\ce{SO4^{2-}}', 'SO4^{2-}', true],
    ['SO4^{2-}', 'SO4^{-}', false],
    ['NH4+', 'NH4^{+}', true],
    ['Fe^{3+}', 'Fe^{2+}', false],
    ['\\ce{NaCl(aq)}', 'NaCl', true],
    ['K4[Fe(CN)6]', 'C6FeK4N6', true],
    ['H_2O', 'H2O', true],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p, { kind: 'formula' }).equal).toBe(want);
  });

  it.each([['Xy2'], ['h2o'], ['Ca(OH']])('%s is not a formula', (f) => {
    expect(parseFormula(f)).toBeNull();
  });

  it('keys a hydrate by its element counts', () => {
    expect(speciesKey(parseFormula('CuSO4·5H2O')!)).toBe('Cu1H10O9S1');
  });
});

describe('chemical equations', () => {
  it.each([
    ['2H2 + O2 -> 2H2O', 'O2 + 2H2 → 2H2O', false, true],
    ['2H2 + O2 -> 2H2O', '\\ce{2H2(g) + O2(g) -> 2H2O(l)}', false, true],
    ['2H2 + O2 -> 2H2O', '4H2 + 2O2 -> 4H2O', false, false],
    ['2H2 + O2 -> 2H2O', '4H2 + 2O2 -> 4H2O', true, true],
    ['2H2 + O2 -> 2H2O', 'H2 + O2 -> H2O2', true, false],
    ['Na+ + Cl- -> NaCl', 'Cl- + Na+ -> NaCl', false, true],
  ])('%s vs %s (scaled %s) → %s', (g, p, scaled, want) => {
    expect(equivalent(g, p, { kind: 'formula', scaledEquations: scaled }).equal).toBe(want);
  });
  it('infers chemistry when both sides read as formulas', () => {
    expect(equivalent('C6H12O6', 'C6O6H12').equal).toBe(true);
  });
});
