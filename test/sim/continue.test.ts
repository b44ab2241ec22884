import { describe, it, expect } from 'vitest';
import { fmt, rng } from '../../sim/rng.ts';
import { evalStep, goldValues, synth, type SynthProblem } from '../../sim/synth.ts';
import {
  DEFAULT_ERROR_MODEL,
  freeContent,
  guidedContent,
  solvePath,
  statedAnswer,
  type PathPlan,
} from '../../sim/solve.ts';
import { continuationContent, prefixSteps, readPrefix, verifyStep } from '../../sim/continue.ts';
import { parseFree } from '../../stages/lib/prompts.ts';

const bank = synth({ n: 300, seed: 1 });
// two-legs: Q1 = d1/v1, Q2 = d2/v2, Q3 = d1+d2, Q4 = Q1+Q2, F = Q3/Q4
const p: SynthProblem = bank.find((x) => x.template === 'two-legs')!;
const gold = goldValues(p);
const plan = (x: Partial<PathPlan>): PathPlan => ({ wrong: new Set(), silent: null, lastStep: false, ...x });
const exact = { ...DEFAULT_ERROR_MODEL, pError: 0, pSilent: 0, pLastStep: 0 };
const freeSteps = (pl: PathPlan, seed = 1) => parseFree(freeContent(solvePath(p, pl, rng(seed)))).steps;

describe('statedAnswer', () => {
  it.each([
    ['Step 1: The time for the first part is 120 / 40 = 3 h.', '3 h'],
    ['Step 2: So the total time = 3 + 2.5 = 5.5 h.', '5.5 h'],
    ['Step 3: We get the total distance: 120 + 100 = 220 km.', '220 km'],
    ['Step 4: Next, the total time is 3 + 2.5, which gives 5.5 h.', '5.5 h'],
    ['Q1: What is the time for the first part in h? Compute it: 120 / 40 = 3 h. Answer: 3 h', '3 h'],
    ['Final answer: 40 km/h', '40 km/h'],
    ['Step 5: The car drives on.', null],
  ])('reads %j as %j', (step, answer) => {
    expect(statedAnswer(step)).toBe(answer);
  });
});

describe('readPrefix', () => {
  it("reads a free prefix's stated values node by node, wrong ones included", () => {
    const steps = freeSteps(plan({ wrong: new Set(['Q1']) }));
    const values = readPrefix(p, steps.slice(0, 2));
    expect(Object.keys(values)).toEqual(['Q1', 'Q2']);
    expect(values.Q1).not.toBe(gold.Q1);
    expect(values.Q2).toBe(gold.Q2);
  });

  it('reads a guided prefix by the node ids its steps name, and cuts an assistant turn into steps', () => {
    const sol = solvePath(p, plan({ wrong: new Set(['Q2']) }), rng(2));
    const json = JSON.parse(guidedContent(sol, ['Q1', 'Q3', 'Q2'])) as {
      steps: { node_id: string; reasoning: string; answer: string }[];
    };
    const lines = json.steps.map((s) => `${s.node_id}: question? ${s.reasoning} Answer: ${s.answer}`);
    const steps = prefixSteps(`${lines[0]}\n${lines[1]}\n  and more reasoning\n${lines[2]}\n`);
    expect(steps).toHaveLength(3);
    expect(readPrefix(p, steps)).toEqual({ Q1: gold.Q1, Q3: gold.Q3, Q2: sol.steps[1]!.value });
  });
});

describe('continuationContent', () => {
  it('keeps the values of the prefix: an error there flows into the continued nodes and the final answer', () => {
    const steps = freeSteps(plan({ wrong: new Set(['Q1']) }));
    const wrongQ1 = readPrefix(p, steps).Q1!;
    const text = continuationContent(p, steps.slice(0, 3), undefined, exact, rng(4));
    const cont = parseFree(text);
    expect(cont.steps).toHaveLength(3); // Q4, F, the final answer line
    expect(cont.steps[0]).toMatch(/^Step 4: /);
    const q4 = evalStep(p.steps[3]!, p.givens, { Q1: wrongQ1, Q2: gold.Q2! });
    expect(q4).not.toBe(gold.Q4);
    expect(statedAnswer(cont.steps[0]!)).toBe(`${fmt(q4)} h`);
    expect(cont.final_answer).toBe(`${fmt(evalStep(p.final, p.givens, { Q3: gold.Q3!, Q4: q4 }))} km/h`);
  });

  it('writes steps only for the nodes of a guided ARS, and only the final answer when the prefix has it', () => {
    const text = continuationContent(p, [], new Set(['Q2', 'Q4']), exact, rng(5));
    expect(text.split('\n').map((l) => l.slice(0, 7))).toEqual(['Step 1:', 'Step 2:', 'Step 3:', 'Final a']);
    const all = freeSteps(plan({}));
    expect(continuationContent(p, all.slice(0, 5), undefined, exact, rng(5))).toBe(
      `Final answer: ${fmt(gold.F!)} km/h`,
    );
  });

  it('errs on the remaining nodes at the error model rate', () => {
    let wrong = 0;
    const N = 400;
    const steps = freeSteps(plan({}));
    for (let i = 0; i < N; i++) {
      const first = parseFree(
        continuationContent(p, steps.slice(0, 1), undefined, { ...exact, pError: 0.3, difficultySpread: 0 }, rng(i)),
      ).steps[0]!;
      if (!verifyStep(p, 'Q2', readPrefix(p, steps.slice(0, 1)), first)) wrong++;
    }
    expect(Math.abs(wrong / N - 0.3)).toBeLessThan(0.07);
  });
});

describe('verifyStep', () => {
  it('checks a step against the formula from the parent values the prefix states', () => {
    const steps = freeSteps(plan({ wrong: new Set(['Q1']) }));
    const parents = readPrefix(p, steps.slice(0, 3));
    // Q4 = Q1 + Q2 from the prefix's wrong Q1: right given the prefix, though not the gold value
    const q4 = fmt(parents.Q1! + parents.Q2!);
    expect(verifyStep(p, 'Q4', parents, `Step 4: So the total time = ${q4} h.`)).toBe(true);
    expect(verifyStep(p, 'Q4', parents, `Step 4: So the total time = ${fmt(gold.Q4!)} h.`)).toBe(false);
    // a parent the prefix does not state is computed correctly from the givens
    expect(verifyStep(p, 'Q4', { Q1: parents.Q1! }, `Step 4: total = ${q4} h.`)).toBe(true);
    expect(verifyStep(p, 'F', {}, `Final answer: ${fmt(gold.F!)} km/h`)).toBe(true);
    expect(verifyStep(p, 'F', {}, `Final answer: ${fmt(gold.F! * 1.01)} km/h`)).toBe(false);
    expect(verifyStep(p, 'Q9', {}, 'Step 1: x = 1.')).toBe(false);
    expect(verifyStep(p, 'Q1', {}, 'Step 1: no number here')).toBe(false);
  });
});
