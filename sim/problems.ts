/**
 * @module sim/problems
 * The problems the SIMULATOR answers: a synth bank (formula answers), or any problem file in the
 * project's JSONL format, whose synth problems get formula answers and whose other problems get
 * plausible but RANDOM answers. Also finds the problem a prompt is about.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../schemas/errors.ts';
import { normQuestion, synth, synthId, type SynthProblem } from './synth.ts';

/** A problem that is not from the synth bank: the simulator answers it at random, and says so. */
export interface RandomProblem {
  problem_id: string;
  question: string;
  /** Unit of the final answer, when the file gives one. */
  unit: string | null;
  choices: readonly string[];
  /** Units of the file's own ARS nodes, by node id. */
  nodeUnits: Readonly<Record<string, string>>;
}

export type Target = { kind: 'synth'; problem: SynthProblem } | { kind: 'random'; problem: RandomProblem };

export interface ProblemBank {
  synth: SynthProblem[];
  random: RandomProblem[];
}

/** Synth indices above this are not rebuilt (a foreign id such as synth-1-99999999 is answered at random). */
const MAX_SYNTH_INDEX = 100_000;

const fail = (file: string, line: number, what: string) =>
  new ConfigError(`sim serve --problems ${file}:${line}: ${what}`);

/**
 * Reads a problem file (JSONL, one problem a line). A line whose id is `synth-<seed>-<index>` and
 * whose question matches the regenerated bank is a synth problem; every other problem is random.
 * A missing file, a line that is not a JSON object, or a problem without a string id and question
 * is a `ConfigError` naming the file, the line and the problem.
 */
export async function loadProblemsFile(file: string): Promise<ProblemBank> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `sim serve --problems ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const rows: Array<{ line: number; id: string; question: string; raw: Record<string, unknown> }> = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw fail(file, i + 1, `not JSON (${(e as Error).message})`);
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw fail(file, i + 1, `expected a JSON object (one problem), got ${JSON.stringify(raw)?.slice(0, 40)}`);
    const r = raw as Record<string, unknown>;
    if (typeof r.problem_id !== 'string' || !r.problem_id.trim())
      throw fail(
        file,
        i + 1,
        `problem_id should be a non-empty string, got ${JSON.stringify(r.problem_id)?.slice(0, 40)}`,
      );
    if (typeof r.question !== 'string' || !r.question.trim())
      throw fail(
        file,
        i + 1,
        `problem ${r.problem_id}: question should be a non-empty string, got ${JSON.stringify(r.question)?.slice(0, 40)}`,
      );
    rows.push({ line: i + 1, id: r.problem_id, question: r.question, raw: r });
  }
  const wanted = new Map<number, number>();
  const ids = rows.map((r) => {
    const m = /^synth-(\d+)-(\d+)$/.exec(r.id);
    const at = m ? { seed: Number(m[1]), index: Number(m[2]) } : null;
    if (at && at.index <= MAX_SYNTH_INDEX) wanted.set(at.seed, Math.max(wanted.get(at.seed) ?? 0, at.index + 1));
    return at;
  });
  const banks = new Map([...wanted].map(([seed, n]) => [seed, synth({ n, seed })]));
  const out: ProblemBank = { synth: [], random: [] };
  rows.forEach((r, i) => {
    const at = ids[i];
    const p = at ? banks.get(at.seed)?.[at.index] : undefined;
    if (p && p.input.question === r.question && synthId(p.seed, p.index) === r.id) out.synth.push(p);
    else out.random.push(randomProblem(r.id, r.question, r.raw));
  });
  return out;
}

function randomProblem(id: string, question: string, r: Record<string, unknown>): RandomProblem {
  const unitOf = (spec: unknown) => {
    const u = (spec as { unit?: unknown } | null)?.unit;
    return typeof u === 'string' && u.trim() ? u.trim() : null;
  };
  const nodeUnits: Record<string, string> = {};
  if (Array.isArray(r.ars))
    for (const n of r.ars as Array<{ node_id?: unknown; answer_spec?: unknown } | null>) {
      const u = unitOf(n?.answer_spec);
      if (typeof n?.node_id === 'string' && u) nodeUnits[n.node_id] = u;
    }
  return {
    problem_id: id,
    question,
    unit: unitOf(r.answer_spec),
    choices: Array.isArray(r.choices) ? r.choices.filter((c): c is string => typeof c === 'string') : [],
    nodeUnits,
  };
}

/** Indexes problems by normalised question text (the first of two equal questions wins). */
export function indexTargets(bank: ProblemBank): Map<string, Target> {
  const index = new Map<string, Target>();
  const add = (q: string, t: Target) => {
    const k = normQuestion(q);
    if (!index.has(k)) index.set(k, t);
  };
  for (const p of bank.synth) add(p.input.question, { kind: 'synth', problem: p });
  for (const p of bank.random) add(p.question, { kind: 'random', problem: p });
  return index;
}

/** The problem whose question follows "Problem:\n" in `text` (the question may end at any blank line). */
export function findTarget(index: ReadonlyMap<string, Target>, text: string): Target | undefined {
  const at = text.indexOf('Problem:\n');
  if (at < 0) return undefined;
  const rest = text.slice(at + 9);
  for (let end = rest.indexOf('\n\n'); end >= 0; end = rest.indexOf('\n\n', end + 2)) {
    const p = index.get(normQuestion(rest.slice(0, end)));
    if (p) return p;
  }
  return index.get(normQuestion(rest));
}

/** A stable key of a target, for per-problem statistics. */
export const targetKey = (t: Target) =>
  t.kind === 'synth' ? t.problem.input.problem_id : `random:${t.problem.problem_id}`;
