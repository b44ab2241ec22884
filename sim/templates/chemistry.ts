/** @module sim/templates/chemistry  Chemistry templates: moles, dilution, ideal gas, stoichiometry, pH, yield. */
import { s } from '../rng.ts';
import { template } from './types.ts';

const MASS = { H: 1.008, C: 12.01, N: 14.01, O: 16, Na: 22.99, S: 32.07, K: 39.1, Ca: 40.08, Mg: 24.31 } as const;
type El = keyof typeof MASS;
/** Oxygen-bearing compounds: name, formula, atom counts (oxygen included). */
const COMPOUNDS: ReadonlyArray<{ name: string; formula: string; atoms: ReadonlyArray<readonly [El, number]> }> = [
  {
    name: 'calcium carbonate',
    formula: 'CaCO3',
    atoms: [
      ['Ca', 1],
      ['C', 1],
      ['O', 3],
    ],
  },
  {
    name: 'sulfuric acid',
    formula: 'H2SO4',
    atoms: [
      ['H', 2],
      ['S', 1],
      ['O', 4],
    ],
  },
  {
    name: 'glucose',
    formula: 'C6H12O6',
    atoms: [
      ['C', 6],
      ['H', 12],
      ['O', 6],
    ],
  },
  {
    name: 'sodium carbonate',
    formula: 'Na2CO3',
    atoms: [
      ['Na', 2],
      ['C', 1],
      ['O', 3],
    ],
  },
  {
    name: 'potassium nitrate',
    formula: 'KNO3',
    atoms: [
      ['K', 1],
      ['N', 1],
      ['O', 3],
    ],
  },
  {
    name: 'magnesium sulfate',
    formula: 'MgSO4',
    atoms: [
      ['Mg', 1],
      ['S', 1],
      ['O', 4],
    ],
  },
];
const compound = (i: number) => COMPOUNDS[i] ?? COMPOUNDS[0]!;
const molarMass = (i: number) => compound(i).atoms.reduce((m, [el, k]) => m + MASS[el] * k, 0);
const oxygens = (i: number) => compound(i).atoms.find(([el]) => el === 'O')?.[1] ?? 0;

export const chemistryTemplates = [
  template({
    name: 'oxygen-moles',
    domain: 'chemistry',
    givens: (r) => ({ c: r.int(0, COMPOUNDS.length - 1), m: r.int(5, 300) }),
    question: (g) =>
      `How many moles of oxygen atoms are in ${g.m} g of ${compound(g.c).name} (${compound(g.c).formula})? Use the molar masses ${compound(
        g.c,
      )
        .atoms.map(([el]) => `${el} ${MASS[el]}`)
        .join(', ')} g/mol.`,
    nodes: [
      [
        'the molar mass of the compound',
        'g/mol',
        [],
        (v) => molarMass(v.c),
        (v) =>
          compound(v.c)
            .atoms.map(([el, k]) => (k > 1 ? `${k} × ${MASS[el]}` : `${MASS[el]}`))
            .join(' + '),
      ],
      ['the amount of the compound', 'mol', ['Q1'], (v) => v.m / v.Q1, (v) => s`${v.m} / ${v.Q1}`],
      [
        'the number of oxygen atoms per formula unit',
        null,
        [],
        (v) => oxygens(v.c),
        (v) => `the count of O in ${compound(v.c).formula}`,
      ],
    ],
    final: ['the amount of oxygen atoms', 'mol', ['Q2', 'Q3'], (v) => v.Q2 * v.Q3, (v) => s`${v.Q2} × ${v.Q3}`],
  }),
  template({
    name: 'dilution',
    domain: 'chemistry',
    givens: (r) => ({ C1: r.int(1, 60) / 10, V1: r.int(1, 20) * 5, V2: r.int(2, 20) * 50 + 100 }),
    question: (g) =>
      s`${g.V1} mL of a ${g.C1} M sodium chloride solution is diluted with water to a total volume of ${g.V2} mL. What is the new concentration in mol/L?`,
    nodes: [
      ['the amount of sodium chloride', 'mol', [], (v) => (v.C1 * v.V1) / 1000, (v) => s`${v.C1} × ${v.V1} / 1000`],
      ['the final volume', 'L', [], (v) => v.V2 / 1000, (v) => s`${v.V2} / 1000`],
    ],
    final: ['the new concentration', 'mol/L', ['Q1', 'Q2'], (v) => v.Q1 / v.Q2, (v) => s`${v.Q1} / ${v.Q2}`],
  }),
  template({
    name: 'ideal-gas',
    domain: 'chemistry',
    givens: (r) => ({ n: r.int(1, 50) / 10, T: r.int(0, 200), V: r.int(1, 50) }),
    question: (g) =>
      s`${g.n} mol of an ideal gas is held at ${g.T} °C in a ${g.V} L container. What is its pressure in kPa? Use R = 8.314 J/(mol·K).`,
    nodes: [
      ['the absolute temperature', 'K', [], (v) => v.T + 273.15, (v) => s`${v.T} + 273.15`],
      ['the volume', 'm^3', [], (v) => v.V / 1000, (v) => s`${v.V} / 1000`],
      [
        'the pressure',
        'Pa',
        ['Q1', 'Q2'],
        (v) => (v.n * 8.314 * v.Q1) / v.Q2,
        (v) => s`${v.n} × 8.314 × ${v.Q1} / ${v.Q2}`,
      ],
    ],
    final: ['the pressure in kilopascals', 'kPa', ['Q3'], (v) => v.Q3 / 1000, (v) => s`${v.Q3} / 1000`],
  }),
  template({
    name: 'water-yield',
    domain: 'chemistry',
    givens: (r) => {
      const mH = r.int(1, 20);
      const mO = r.int(8, 160);
      const theo = Math.min(mH / 2.016, (2 * mO) / 32) * 18.02;
      return { mH, mO, a: Math.round(theo * (0.55 + 0.4 * r.next()) * 10) / 10 };
    },
    question: (g) =>
      s`${g.mH} g of hydrogen gas reacts with ${g.mO} g of oxygen gas (2 H2 + O2 → 2 H2O) and ${g.a} g of water is collected. What is the percent yield? Use the molar masses H2 2.016, O2 32.00 and H2O 18.02 g/mol.`,
    nodes: [
      ['the amount of hydrogen', 'mol', [], (v) => v.mH / 2.016, (v) => s`${v.mH} / 2.016`],
      ['the amount of oxygen', 'mol', [], (v) => v.mO / 32, (v) => s`${v.mO} / 32.00`],
      ['the water the hydrogen can make', 'mol', ['Q1'], (v) => v.Q1, (v) => s`${v.Q1} × 2 / 2`],
      ['the water the oxygen can make', 'mol', ['Q2'], (v) => 2 * v.Q2, (v) => s`${v.Q2} × 2`],
      [
        'the water the limiting reagent allows',
        'mol',
        ['Q3', 'Q4'],
        (v) => Math.min(v.Q3, v.Q4),
        (v) => s`min(${v.Q3}, ${v.Q4})`,
      ],
      ['the theoretical mass of water', 'g', ['Q5'], (v) => v.Q5 * 18.02, (v) => s`${v.Q5} × 18.02`],
    ],
    final: ['the percent yield', null, ['Q6'], (v) => (v.a / v.Q6) * 100, (v) => s`${v.a} / ${v.Q6} × 100`],
  }),
  template({
    name: 'sample-mass',
    domain: 'chemistry',
    givens: (r) => ({ m: r.int(1, 50), V: r.int(1, 10) * 100, w: r.int(1, 10) * 10 }),
    question: (g) =>
      s`${g.m} g of sodium chloride (58.44 g/mol) is dissolved in water to make ${g.V} mL of solution. How many grams of sodium chloride are in a ${g.w} mL sample of it?`,
    nodes: [
      ['the amount of sodium chloride', 'mol', [], (v) => v.m / 58.44, (v) => s`${v.m} / 58.44`],
      ['the volume of the solution', 'L', [], (v) => v.V / 1000, (v) => s`${v.V} / 1000`],
      ['the molarity', 'mol/L', ['Q1', 'Q2'], (v) => v.Q1 / v.Q2, (v) => s`${v.Q1} / ${v.Q2}`],
      ['the amount in the sample', 'mol', ['Q3'], (v) => (v.Q3 * v.w) / 1000, (v) => s`${v.Q3} × ${v.w} / 1000`],
    ],
    final: ['the mass in the sample', 'g', ['Q4'], (v) => v.Q4 * 58.44, (v) => s`${v.Q4} × 58.44`],
  }),
  template({
    name: 'acid-ph',
    domain: 'chemistry',
    givens: (r) => ({ c: r.pick([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]), V1: r.int(1, 10) * 10, Vw: r.int(1, 18) * 50 }),
    question: (g) =>
      s`${g.V1} mL of ${g.c} M hydrochloric acid is mixed with ${g.Vw} mL of water. What is the pH of the resulting solution?`,
    nodes: [
      ['the amount of HCl', 'mol', [], (v) => (v.c * v.V1) / 1000, (v) => s`${v.c} × ${v.V1} / 1000`],
      ['the total volume', 'L', [], (v) => (v.V1 + v.Vw) / 1000, (v) => s`(${v.V1} + ${v.Vw}) / 1000`],
      ['the hydrogen ion concentration', 'mol/L', ['Q1', 'Q2'], (v) => v.Q1 / v.Q2, (v) => s`${v.Q1} / ${v.Q2}`],
    ],
    final: ['the pH', null, ['Q3'], (v) => -Math.log10(v.Q3), (v) => s`-log10(${v.Q3})`],
  }),
  template({
    name: 'limestone-yield',
    domain: 'chemistry',
    givens: (r) => {
      const m = r.int(10, 200);
      return { m, a: Math.round((m / 100.09) * 44.01 * (0.6 + 0.38 * r.next()) * 10) / 10 };
    },
    question: (g) =>
      s`Heating ${g.m} g of calcium carbonate (CaCO3 → CaO + CO2) gives ${g.a} g of carbon dioxide. What is the percent yield? Use the molar masses CaCO3 100.09 and CO2 44.01 g/mol.`,
    nodes: [
      ['the amount of calcium carbonate', 'mol', [], (v) => v.m / 100.09, (v) => s`${v.m} / 100.09`],
      ['the amount of carbon dioxide expected', 'mol', ['Q1'], (v) => v.Q1, (v) => s`${v.Q1} × 1`],
      ['the theoretical mass of carbon dioxide', 'g', ['Q2'], (v) => v.Q2 * 44.01, (v) => s`${v.Q2} × 44.01`],
    ],
    final: ['the percent yield', null, ['Q3'], (v) => (v.a / v.Q3) * 100, (v) => s`${v.a} / ${v.Q3} × 100`],
  }),
  template({
    name: 'zinc-hydrogen',
    domain: 'chemistry',
    givens: (r) => ({ m: r.int(1, 30), T: r.int(0, 40), P: r.int(8, 12) / 10 }),
    question: (g) =>
      s`${g.m} g of zinc reacts completely with excess hydrochloric acid (Zn + 2 HCl → ZnCl2 + H2). What volume in liters does the hydrogen occupy at ${g.T} °C and ${g.P} atm? Use Zn 65.38 g/mol and R = 0.08206 L·atm/(mol·K).`,
    nodes: [
      ['the amount of zinc', 'mol', [], (v) => v.m / 65.38, (v) => s`${v.m} / 65.38`],
      ['the amount of hydrogen', 'mol', ['Q1'], (v) => v.Q1, (v) => s`${v.Q1} × 1`],
      ['the absolute temperature', 'K', [], (v) => v.T + 273.15, (v) => s`${v.T} + 273.15`],
    ],
    final: [
      'the volume of hydrogen',
      'L',
      ['Q2', 'Q3'],
      (v) => (v.Q2 * 0.08206 * v.Q3) / v.P,
      (v) => s`${v.Q2} × 0.08206 × ${v.Q3} / ${v.P}`,
    ],
  }),
];
