/**
 * @module sim/synth
 * A seeded bank of synthetic math, physics and chemistry problems (a SIMULATION aid, not real
 * data). Every ARS node carries a formula over the problem's givens and its parent nodes, so
 * gold answers are exact; problem `i` of seed `s` depends only on `(s, i)` and the problems
 * before it, so a bank of n problems is a prefix of any larger bank of the same seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AnswerSpec, Domain, ProblemInput } from '../schemas/problems.ts';
import { fmt, hash, rng, round4 } from './rng.ts';
import type { StepDef, Template } from './templates/types.ts';
import { mathTemplates } from './templates/math.ts';
import { physicsTemplates } from './templates/physics.ts';
import { chemistryTemplates } from './templates/chemistry.ts';

export const SYNTH_DOMAINS = ['math', 'physics', 'chemistry'] as const satisfies readonly Domain[];
export const TEMPLATES: Readonly<Record<(typeof SYNTH_DOMAINS)[number], readonly Template[]>> = {
  math: mathTemplates,
  physics: physicsTemplates,
  chemistry: chemistryTemplates,
};

/** One node's formula, kept beside the problem so the simulator can recompute from any parent values. */
export interface SynthStep extends StepDef {
  node_id: string;
}

export interface SynthProblem {
  input: ProblemInput;
  seed: number;
  index: number;
  template: string;
  givens: Readonly<Record<string, number>>;
  /** Q1..Qn in order (topological: parents come first). */
  steps: readonly SynthStep[];
  /** The problem's own question, node `F`. */
  final: SynthStep;
}

export interface SynthOptions {
  n: number;
  seed: number;
}

/** Relative tolerance of every synth answer spec. */
export const SYNTH_TOLERANCE = 1e-3;

/** Question text as the simulator indexes it: whitespace collapsed, lower case. */
export const normQuestion = (q: string) => q.replace(/\s+/g, ' ').trim().toLowerCase();

export const synthId = (seed: number, index: number) => `synth-${seed}-${String(index).padStart(4, '0')}`;

/** Computes a step from the givens and its declared parents only (rounded to 4 significant digits). */
export function evalStep(
  step: SynthStep,
  givens: Readonly<Record<string, number>>,
  values: Readonly<Record<string, number>>,
): number {
  const scope: Record<string, number> = { ...givens };
  for (const d of step.deps) {
    const x = values[d];
    if (x === undefined) throw new Error(`synth node ${step.node_id} depends on ${d}, which has no value`);
    scope[d] = x;
  }
  return round4(step.fn(scope));
}

/** Gold values of every node (Q1..Qn and F), each computed from its parents' rounded gold values. */
export function goldValues(p: Pick<SynthProblem, 'steps' | 'final' | 'givens'>): Record<string, number> {
  const v: Record<string, number> = {};
  for (const st of [...p.steps, p.final]) v[st.node_id] = evalStep(st, p.givens, v);
  return v;
}

const specOf = (unit: string | null): AnswerSpec =>
  unit
    ? { kind: 'quantity', tolerance: SYNTH_TOLERANCE, unit }
    : { kind: 'number', tolerance: SYNTH_TOLERANCE, unit: null };

const subQuestion = (st: StepDef) => `What is ${st.what}${st.unit ? ` in ${st.unit}` : ''}?`;

function build(t: Template, seed: number, index: number, attempt: number): SynthProblem {
  const givens = t.givens(rng(hash('synth', seed, index, attempt)));
  const steps: SynthStep[] = t.nodes.map((st, i) => ({ ...st, node_id: `Q${i + 1}` }));
  const final: SynthStep = { ...t.final, node_id: 'F' };
  const where = `template ${t.name} (problem ${index} of seed ${seed})`;
  if (steps.length < 2 || steps.length > 6)
    throw new Error(`${where} has ${steps.length} intermediate nodes, expected 2 to 6`);
  const used = new Set<string>();
  for (const [i, st] of [...steps, final].entries()) {
    for (const d of st.deps) {
      const j = Number(d.slice(1)) - 1;
      if (!(j >= 0 && j < Math.min(i, steps.length)))
        throw new Error(`${where}: node ${st.node_id} depends on ${d}, expected an earlier node`);
      used.add(d);
    }
  }
  const sinks = steps.filter((st) => !steps.some((o) => o.deps.includes(st.node_id as never))).map((st) => st.node_id);
  const unreached = sinks.filter((id) => !final.deps.includes(id as never));
  if (unreached.length) throw new Error(`${where}: final formula does not use sink node(s) ${unreached.join(', ')}`);
  const problem = { steps, final, givens };
  const gold = goldValues(problem);
  for (const [id, x] of Object.entries(gold))
    if (!Number.isFinite(x)) throw new Error(`${where}: node ${id} computed ${x}, expected a finite number`);
  const input: ProblemInput = {
    problem_id: synthId(seed, index),
    domain: t.domain,
    question: t.question(givens),
    images: [],
    choices: [],
    answer: fmt(gold.F ?? NaN),
    answer_spec: specOf(final.unit),
    ars: steps.map((st) => ({
      node_id: st.node_id,
      question: subQuestion(st),
      depends_on: [...st.deps],
      answer: fmt(gold[st.node_id] ?? NaN),
      answer_spec: specOf(st.unit),
      uses_image: false,
    })),
  };
  return { input, seed, index, template: t.name, givens, steps, final };
}

/** Generates `n` problems for `seed`, cycling math, physics, chemistry; questions are unique. */
export function synth({ n, seed }: SynthOptions): SynthProblem[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`synth expected n to be a non-negative integer, got ${n}`);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`synth expected seed to be a non-negative integer, got ${seed}`);
  const seen = new Set<string>();
  const out: SynthProblem[] = [];
  for (let index = 0; index < n; index++) {
    const domain = SYNTH_DOMAINS[index % SYNTH_DOMAINS.length]!;
    for (let attempt = 0; ; attempt++) {
      // a template whose givens are exhausted hands over to another one after 20 tries
      const t = rng(hash('template', seed, index, Math.floor(attempt / 20))).pick(TEMPLATES[domain]);
      const p = build(t, seed, index, attempt);
      const key = normQuestion(p.input.question);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(p);
        break;
      }
      if (attempt > 400)
        throw new Error(
          `synth could not find a new question for problem ${index} of seed ${seed} (the ${domain} templates are exhausted)`,
        );
    }
  }
  return out;
}

/** The JSONL row of a problem: the project's input format, answers as JSON numbers. */
export function synthRow(p: SynthProblem): Record<string, unknown> {
  const { input } = p;
  return {
    ...input,
    answer: Number(input.answer),
    ars: input.ars.map((a) => ({ ...a, answer: Number(a.answer) })),
  };
}

/** Writes `synth({n, seed})` as JSONL (one problem per line) and returns the number written. */
export async function writeSynth(file: string, opts: SynthOptions): Promise<number> {
  const bank = synth(opts);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bank.map((p) => `${JSON.stringify(synthRow(p))}\n`).join(''));
  return bank.length;
}
