/**
 * @module sim/solve
 * The simulator's error model: which nodes of a sampled path go wrong, and the path itself,
 * where every node is recomputed from its parents' (possibly wrong) values, so an error
 * flows to its dependants through their formulas.
 */
import { fmt, hash, rng, round4, type Rng } from './rng.ts';
import { evalStep, type SynthProblem, type SynthStep } from './synth.ts';

export interface ErrorModel {
  /** Per-node error probability of a problem of average difficulty. */
  pError: number;
  /** Spread of per-problem difficulty, as the standard deviation of a shift on the logit scale. */
  difficultySpread: number;
  /** Per path: one correct node's answer is misstated but its dependants use the right value. */
  pSilent: number;
  /** Per path: the final step goes wrong on its own. */
  pLastStep: number;
  /** Free (unguided) paths err this many times as often per node: the sub-questions help. */
  freeErrorScale: number;
}

export const DEFAULT_ERROR_MODEL: ErrorModel = {
  pError: 0.15,
  difficultySpread: 1.5,
  pSilent: 0.03,
  pLastStep: 0.03,
  freeErrorScale: 1.5,
};

/** Which nodes of one path go wrong. */
export interface PathPlan {
  wrong: ReadonlySet<string>;
  /** Node whose stated answer is wrong while its dependants use the right value. */
  silent: string | null;
  lastStep: boolean;
}

export interface StepOut {
  node_id: string;
  value: number;
  answer: string;
  text: string;
}
export interface SolvedPath {
  steps: StepOut[];
  final: StepOut;
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The node error probability of one problem: `pError` shifted by the problem's seeded difficulty. */
export function nodeErrorRate(p: Pick<SynthProblem, 'seed' | 'index'>, m: ErrorModel): number {
  if (m.pError <= 0 || m.pError >= 1) return Math.min(1, Math.max(0, m.pError));
  const z = rng(hash('difficulty', p.seed, p.index)).normal();
  return sigmoid(logit(m.pError) + m.difficultySpread * z);
}

/** Draws the plan of one path. */
export function planPath(p: SynthProblem, m: ErrorModel, r: Rng): PathPlan {
  const rate = nodeErrorRate(p, m);
  const wrong = new Set<string>();
  for (const st of p.steps) if (r.next() < rate) wrong.add(st.node_id);
  const right = p.steps.filter((st) => !wrong.has(st.node_id));
  const silent = right.length && r.next() < m.pSilent ? r.pick(right).node_id : null;
  return { wrong, silent, lastStep: r.next() < m.pLastStep };
}

/** A wrong value near `x` as a person gets it: unit slip, factor of two, off by one, swapped digits, sign, or a slip. */
export function perturb(x: number, r: Rng): number {
  const kind = r.int(0, 5);
  let y: number;
  if (kind === 0) y = r.next() < 0.5 ? x * 10 : x / 10;
  else if (kind === 1) y = r.next() < 0.5 ? x * 2 : x / 2;
  else if (kind === 2 && Number.isInteger(x) && Math.abs(x) < 1000) y = x + (r.next() < 0.5 ? 1 : -1);
  else if (kind === 3) y = swapDigits(fmt(x), r);
  else if (kind === 4 && x !== 0) y = -x;
  else y = x * (1 + (r.next() < 0.5 ? -1 : 1) * (0.05 + 0.25 * r.next()));
  y = round4(y);
  // a wrong value must stay wrong under the 1e-3 relative tolerance of the answer specs
  return Math.abs(y - x) > 0.01 * Math.abs(x) && Number.isFinite(y) ? y : x === 0 ? 1 : round4(x * 2);
}

function swapDigits(t: string, r: Rng): number {
  const at: number[] = [];
  for (let i = 0; i + 1 < t.length; i++) if (/\d/.test(t[i]!) && /\d/.test(t[i + 1]!) && t[i] !== t[i + 1]) at.push(i);
  if (!at.length) return NaN;
  const i = r.pick(at);
  return Number(t.slice(0, i) + t[i + 1] + t[i] + t.slice(i + 2));
}

const PHRASES: ReadonlyArray<(what: string, show: string, ans: string) => string> = [
  (w, s, a) => `${w[0]!.toUpperCase()}${w.slice(1)} is ${s} = ${a}.`,
  (w, s, a) => `So ${w} = ${s} = ${a}.`,
  (w, s, a) => `We get ${w}: ${s} = ${a}.`,
  (w, s, a) => `Next, ${w} is ${s}, which gives ${a}.`,
  (w, s, a) => `Compute ${w}: ${s} = ${a}.`,
  (w, s, a) => `Using the values so far, ${w} comes to ${s} = ${a}.`,
];

/** A node's answer as a step writes it: the number, then its unit if any. */
export const answerText = (st: Pick<SynthStep, 'unit'>, x: number) => (st.unit ? `${fmt(x)} ${st.unit}` : fmt(x));

/** Where a path starts: the values a prefix already states, and which nodes the path writes a step for. */
export interface PathStart {
  /** Values the prefix states, by node id: used as they are, and not restated. */
  stated: Readonly<Record<string, number>>;
  /** Nodes that get a step (default: all); the others, and unstated nodes before the last stated one, are computed from their parents without a step or an error. */
  emit?: ReadonlySet<string>;
}

/**
 * Solves a problem along a plan: each node from its parents' used values, errors applied as planned.
 * With `start`, the nodes the prefix states keep their stated values (an error there flows on) and
 * only the remaining nodes get steps; without it every node does (the draws are the same as ever).
 */
export function solvePath(p: SynthProblem, plan: PathPlan, r: Rng, start?: PathStart): SolvedPath {
  const used: Record<string, number> = {};
  const out = (st: SynthStep, stated: number): StepOut => {
    const scope: Record<string, number> = { ...p.givens };
    for (const d of st.deps) scope[d] = used[d]!;
    const text = r.pick(PHRASES)(st.what, st.show(scope), answerText(st, stated));
    return { node_id: st.node_id, value: stated, answer: answerText(st, stated), text };
  };
  const last = start ? p.steps.findLastIndex((st) => start.stated[st.node_id] !== undefined) : -1;
  const steps: StepOut[] = [];
  for (const [i, st] of p.steps.entries()) {
    const given = start?.stated[st.node_id];
    if (given !== undefined) {
      used[st.node_id] = given;
      continue;
    }
    const right = evalStep(st, p.givens, used);
    if (start && (i < last || (start.emit && !start.emit.has(st.node_id)))) {
      used[st.node_id] = right;
      continue;
    }
    const stated = plan.wrong.has(st.node_id) || plan.silent === st.node_id ? perturb(right, r) : right;
    steps.push(out(st, stated));
    used[st.node_id] = plan.silent === st.node_id ? right : stated;
  }
  const f = evalStep(p.final, p.givens, used);
  return { steps, final: out(p.final, plan.lastStep ? perturb(f, r) : f) };
}

/**
 * The answer a step states, as text: after its last "Answer:" (guided steps, "Final answer:"
 * lines), else after its last " = " or "which gives " (the simulator's free phrases); null when
 * it states none.
 */
export function statedAnswer(step: string): string | null {
  const t = step.trim().replace(/\.$/, '');
  const a = /.*answer:\s*(.*)$/is.exec(t);
  if (a) return a[1]!.trim() || null;
  const eq = t.lastIndexOf(' = ');
  const gives = t.lastIndexOf('which gives ');
  if (eq < 0 && gives < 0) return null;
  return t.slice(Math.max(eq < 0 ? -1 : eq + 3, gives < 0 ? -1 : gives + 12)).trim() || null;
}

/** The number a step states (its unit dropped), or null. */
export function statedValue(step: string): number | null {
  const a = statedAnswer(step);
  const x = a === null ? NaN : parseFloat(a);
  return Number.isFinite(x) ? x : null;
}

/** The seeded random source of one sample: the same (problem, request seed, choice) gives the same path. */
export const sampleRng = (p: SynthProblem, requestSeed: number, choice: number) =>
  rng(hash('sample', p.seed, p.index, requestSeed, choice));

/** Guided reply: the JSON object `parseGuided` reads, steps in the requested node order. */
export function guidedContent(sol: SolvedPath, order?: readonly string[]): string {
  const byId = new Map(sol.steps.map((s) => [s.node_id, s]));
  const steps = order ? order.flatMap((id) => byId.get(id) ?? []) : sol.steps;
  return JSON.stringify({
    steps: steps.map((s) => ({ node_id: s.node_id, reasoning: s.text, answer: s.answer })),
    final: { reasoning: sol.final.text, answer: sol.final.answer },
  });
}

/** Free reply: one "Step k:" line per node, the final step, then "Final answer: ...". */
export function freeContent(sol: SolvedPath): string {
  const lines = [...sol.steps, sol.final].map((s, i) => `Step ${i + 1}: ${s.text}`);
  return `${lines.join('\n')}\nFinal answer: ${sol.final.answer}`;
}
