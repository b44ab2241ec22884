import { describe, expect, it } from 'vitest';
import { equivalent } from '../../../../stages/lib/equivalence/index.ts';
import { parseUnit } from '../../../../stages/lib/equivalence/units.ts';

describe('quantities', () => {
  it.each([
    ['9.8 m/s^2', '980 cm/s^2', true],
    ['5 kJ', '5 kW', false],
    ['5 kJ', '5000 J', true],
    ['5 kJ', '5001 J', false],
    ['1 kcal', '4184 J', true],
    ['1 cal', '4.184 J', true],
    ['0.5 M', '500 mM', true],
    ['0.5 M', '0.5 mol/L', true],
    ['12 Da', '1.99264687992e-26 kg', true],
    ['250 ppm', '0.025 %', true],
    ['1.5 Å', '0.15 nm', true],
    ['2 µC', '2e-6 C', true],
    ['2 \\mu \\mathrm{C}', '2000 nC', true],
    ['25 °C', '298.15 K', true],
    ['32 °F', '0 °C', true],
    ['212 \\,^{\\circ}\\mathrm{F}', '373.15 K', true],
    ['10 J/°C', '10 J/K', true],
    ['3.0 \\times 10^{8} \\mathrm{~m} / \\mathrm{s}', '300000 km/s', true],
    ['-65.49 \\mathrm{~kJ} \\mathrm{~mol}^{-1}', '-65490 J/mol', true],
    ['8.314 \\mathrm{J} \\mathrm{K}^{-1} \\mathrm{~mol}^{-1}', '8.314 J/(mol K)', true],
    ['1 atm', '101.325 kPa', true],
    ['760 Torr', '1 atm', true],
    ['5 m', '5 s', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p, { kind: 'quantity' }).equal).toBe(want);
  });

  it.each([
    ['strict', false, 'prediction has no unit; gold is in kJ'],
    ['assume-gold-unit', true, 'same unit, equal values'],
  ] as const)('unitPolicy %s: gold "5 kJ", prediction "5" → %s', (policy, want, reason) => {
    expect(equivalent('5 kJ', '5', { kind: 'quantity', unitPolicy: policy })).toEqual({ equal: want, reason });
  });

  it('reads a bare gold in spec.unit', () => {
    expect(equivalent('5', '5000 J', { kind: 'quantity', unit: 'kJ' }).equal).toBe(true);
  });

  it('names both dimensions when they differ', () => {
    expect(equivalent('5 kJ', '5 kW', { kind: 'quantity' })).toEqual({
      equal: false,
      reason: 'dimensions differ: gold kg m^2 s^-2, prediction kg m^2 s^-3',
    });
  });

  it.each([['furlongs per fortnight'], ['\\mathrm{zz}']])('rejects the unknown unit %s', (u) => {
    expect(parseUnit(u)).toBeNull();
  });
});
