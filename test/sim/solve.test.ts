import { describe, it, expect } from 'vitest';
import { fmt, rng } from '../../sim/rng.ts';
import { goldValues, synth, type SynthProblem } from '../../sim/synth.ts';
import {
  DEFAULT_ERROR_MODEL,
  freeContent,
  guidedContent,
  nodeErrorRate,
  perturb,
  solvePath,
  type PathPlan,
} from '../../sim/solve.ts';

const bank = synth({ n: 300, seed: 1 });
const byTemplate = (name: string): SynthProblem => bank.find((p) => p.template === name)!;
const plan = (p: Partial<PathPlan>): PathPlan => ({ wrong: new Set(), silent: null, lastStep: false, ...p });
const stated = (p: SynthProblem, pl: PathPlan): Record<string, number> => {
  const sol = solvePath(p, pl, rng(1));
  return { ...Object.fromEntries(sol.steps.map((s) => [s.node_id, s.value])), F: sol.final.value };
};

describe('perturb', () => {
  it.each([0, 1, 7, 0.001234, 12345, -3.5, 273.2, 1000])('moves %d by more than 1%%', (x) => {
    const r = rng(9);
    for (let i = 0; i < 200; i++) {
      const y = perturb(x, r);
      expect(Number.isFinite(y)).toBe(true);
      expect(Math.abs(y - x)).toBeGreaterThan(0.01 * Math.abs(x));
    }
  });
});

describe('solvePath', () => {
  // two-legs: Q1 = d1/v1, Q2 = d2/v2, Q3 = d1+d2, Q4 = Q1+Q2, F = Q3/Q4
  const p = byTemplate('two-legs');
  const gold = goldValues(p);

  it('reproduces the gold answers on a path with no error', () => {
    expect(stated(p, plan({}))).toEqual(gold);
  });

  it('carries a wrong node into its dependants through their formulas, and leaves the others right', () => {
    const s = stated(p, plan({ wrong: new Set(['Q1']) }));
    expect(s.Q1).not.toBe(gold.Q1);
    expect([s.Q2, s.Q3]).toEqual([gold.Q2, gold.Q3]);
    expect(fmt(s.Q4!)).toBe(fmt(s.Q1! + s.Q2!));
    expect(fmt(s.F!)).toBe(fmt(s.Q3! / s.Q4!));
    expect(s.F).not.toBe(gold.F);
  });

  it('misstates a silent node while its dependants and the final answer stay right', () => {
    const s = stated(p, plan({ silent: 'Q1' }));
    expect(s.Q1).not.toBe(gold.Q1);
    expect({ ...s, Q1: gold.Q1 }).toEqual(gold);
  });

  it('breaks only the final answer on a last-step error', () => {
    const s = stated(p, plan({ lastStep: true }));
    expect({ ...s, F: gold.F }).toEqual(gold);
    expect(s.F).not.toBe(gold.F);
  });

  it('writes each step with its computation and value, and a final answer line', () => {
    const sol = solvePath(p, plan({}), rng(3));
    const text = freeContent(sol);
    expect(text.split('\n')).toHaveLength(p.steps.length + 2);
    expect(text).toContain(`${fmt(p.givens.d1!)} / ${fmt(p.givens.v1!)} = ${fmt(gold.Q1!)} h`);
    expect(text.endsWith(`\nFinal answer: ${fmt(gold.F!)} km/h`)).toBe(true);
    const json = JSON.parse(guidedContent(sol, ['Q1', 'Q2', 'Q3', 'Q4'])) as {
      steps: Array<{ node_id: string; answer: string }>;
      final: { answer: string };
    };
    expect(json.steps.map((s) => [s.node_id, s.answer])).toEqual([
      ['Q1', `${fmt(gold.Q1!)} h`],
      ['Q2', `${fmt(gold.Q2!)} h`],
      ['Q3', `${fmt(gold.Q3!)} km`],
      ['Q4', `${fmt(gold.Q4!)} h`],
    ]);
    expect(json.final.answer).toBe(`${fmt(gold.F!)} km/h`);
  });
});

describe('nodeErrorRate', () => {
  it('is 0 and 1 at the ends, and spreads problems from easy to hard around p_error', () => {
    const big = synth({ n: 300, seed: 1 });
    expect(nodeErrorRate(big[0]!, { ...DEFAULT_ERROR_MODEL, pError: 0 })).toBe(0);
    expect(nodeErrorRate(big[0]!, { ...DEFAULT_ERROR_MODEL, pError: 1 })).toBe(1);
    const rates = big.map((p) => nodeErrorRate(p, DEFAULT_ERROR_MODEL));
    expect(rates.filter((r) => r < 0.05).length).toBeGreaterThan(30);
    expect(rates.filter((r) => r > 0.4).length).toBeGreaterThan(20);
    const median = [...rates].sort((a, b) => a - b)[150]!;
    expect(median).toBeGreaterThan(0.1);
    expect(median).toBeLessThan(0.2);
  });
});
