/**
 * @module stages/emit/build
 * Builds the five training datasets of TRACE.md ("What the pipeline emits") from scored
 * paths. Pure: rows in, rows and drop counts out. Problems of a calibration input are never
 * emitted; rows cut at an FFS (step pairs, stepwise) keep only the evidence kinds in `cut_evidence`.
 */
import type { ArsNode, FfsEvidence, Problem, ScoredPath } from '../../schemas/index.ts';
import type { PreferenceRow, ProcessEvalRow, SftRow, StepPreferenceRow, StepwiseRow } from '../../schemas/outputs.ts';
import type { RectifiedRow } from '../../schemas/state.ts';
import { problemText } from '../lib/prompts.ts';
import { makeEq } from '../score/classes.ts';
import { rectifiedByPath, rectifiedChoice } from './rectified.ts';
import { byProblemId } from '../lib/group.ts';

export interface EmitOptions {
  sft_per_problem: number;
  pairs_per_problem: number;
  keep_after_ffs: boolean;
  /** FFS evidence kinds whose cuts feed step_preference and stepwise rows (default `arithmetic`, `node`). */
  cut_evidence?: readonly FfsEvidence[];
}
export const DEFAULT_CUT_EVIDENCE: readonly FfsEvidence[] = ['arithmetic', 'node'];
export interface Built<R> {
  rows: R[];
  candidates: number;
  dropped: Record<string, number>;
}
export interface EmitInput {
  problems: readonly Problem[];
  nodes: readonly ArsNode[];
  scored: readonly ScoredPath[];
  /** Chosen steps from rectification (TRACE.md): a step pair uses one when its rejected path has one. */
  rectified?: readonly RectifiedRow[];
}

const trace = (s: ScoredPath & { k_drawn?: number | null }) => ({
  problem_id: s.problem_id,
  path_id: s.path_id,
  domain: s.domain,
  PC: s.PC,
  GC: s.GC,
  FA: s.FA,
  region: s.region,
  model: s.model,
  run_id: s.run_id,
  k_drawn: s.k_drawn ?? null,
});
/** Why a path's cut is left out, or null when its evidence is one the options trust. */
const cutExclusion = (s: ScoredPath, opts: EmitOptions): string | null =>
  s.ffs_evidence !== null && (opts.cut_evidence ?? DEFAULT_CUT_EVIDENCE).includes(s.ffs_evidence)
    ? null
    : `ffs_evidence ${s.ffs_evidence ?? 'none'} not in emit.cut_evidence`;
const text = (steps: readonly string[]) => steps.join('\n');
const count = (d: Record<string, number>, why: string) => {
  d[why] = (d[why] ?? 0) + 1;
};

/** Paths of problems that are emitted (a calibration input's problems never are). */
export function emittable(input: EmitInput): ScoredPath[] {
  const calibration = new Set(input.problems.filter((p) => p.role === 'calibration').map((p) => p.problem_id));
  return input.scored.filter((s) => !calibration.has(s.problem_id) && s.role !== 'calibration');
}

/** Groups the emittable scored paths by problem, keeping problem order. */
function byProblem(input: EmitInput): { problem: Problem; paths: ScoredPath[]; nodes: ArsNode[] }[] {
  const paths = byProblemId(emittable(input));
  const nodes = byProblemId(input.nodes);
  return input.problems
    .filter((p) => paths.has(p.problem_id))
    .map((problem) => ({
      problem,
      paths: paths.get(problem.problem_id)!,
      nodes: (nodes.get(problem.problem_id) ?? []).sort((a, b) => a.position - b.position),
    }));
}

/** SFT: reliable-correct paths, deduplicated by text, at most `sft_per_problem` per problem. */
export function buildSft(input: EmitInput, opts: EmitOptions): Built<SftRow> {
  const out: Built<SftRow> = { rows: [], candidates: emittable(input).length, dropped: {} };
  for (const { problem, paths } of byProblem(input)) {
    const seen = new Set<string>();
    for (const s of paths) {
      if (s.category !== 'reliable-correct') {
        count(out.dropped, `category ${s.category}`);
        continue;
      }
      const body = text(s.steps);
      const key = body.replace(/\s+/g, ' ').trim().toLowerCase();
      if (seen.has(key)) {
        count(out.dropped, 'duplicate text');
        continue;
      }
      if (seen.size >= opts.sft_per_problem) {
        count(out.dropped, 'over per-problem cap');
        continue;
      }
      seen.add(key);
      out.rows.push({
        messages: [
          { role: 'user', content: problemText(problem) },
          { role: 'assistant', content: body },
        ],
        images: problem.images,
        ...trace(s),
      });
    }
  }
  return out;
}

/** Outcome-level pairs: chosen reliable-correct, rejected a path with an FFS, same problem. */
export function buildPreference(input: EmitInput, opts: EmitOptions): Built<PreferenceRow> {
  const out: Built<PreferenceRow> = { rows: [], candidates: 0, dropped: {} };
  for (const { problem, paths } of byProblem(input)) {
    const chosen = paths.filter((s) => s.category === 'reliable-correct');
    const rejected = paths.filter((s) => s.ffs_node !== null);
    out.candidates += rejected.length;
    if (!chosen.length) {
      out.dropped['no reliable-correct path for the problem'] =
        (out.dropped['no reliable-correct path for the problem'] ?? 0) + rejected.length;
      continue;
    }
    rejected.forEach((r, i) => {
      if (i >= opts.pairs_per_problem) {
        count(out.dropped, 'over per-problem cap');
        return;
      }
      const c = chosen[i % chosen.length]!;
      out.rows.push({
        prompt: [{ role: 'user', content: problemText(problem) }],
        chosen: [{ role: 'assistant', content: text(c.steps) }],
        rejected: [{ role: 'assistant', content: text(r.steps) }],
        images: problem.images,
        ...trace(r),
        chosen_path_id: c.path_id,
        chosen_PC: c.PC,
        chosen_GC: c.GC,
        chosen_FA: c.FA,
        ffs_node: r.ffs_node!,
        ffs_step: r.ffs_step,
        ffs_evidence: r.ffs_evidence ?? 'final',
      });
    });
  }
  return out;
}

/**
 * Step-level pairs cut at the FFS: prefix = the rejected path's steps before it; chosen = the
 * model's own continuation of that prefix when rectification gave one (`chosen_source` rectified),
 * else the step where another path answered the FFS node correctly, that path agreeing with the
 * rejected one on every node before the FFS node (`peer`).
 */
export function buildStepPreference(input: EmitInput, opts: EmitOptions): Built<StepPreferenceRow> {
  const out: Built<StepPreferenceRow> = { rows: [], candidates: 0, dropped: {} };
  const rectified = rectifiedByPath(input.rectified ?? []);
  for (const { problem, paths, nodes } of byProblem(input)) {
    let made = 0;
    for (const r of paths.filter((s) => s.ffs_node !== null && s.ffs_step >= 0)) {
      out.candidates++;
      const untrusted = cutExclusion(r, opts);
      if (untrusted) {
        count(out.dropped, untrusted);
        continue;
      }
      if (made >= opts.pairs_per_problem) {
        count(out.dropped, 'over per-problem cap');
        continue;
      }
      const node = nodes.find((n) => n.node_id === r.ffs_node);
      if (!node) {
        count(out.dropped, 'FFS node not in ARS');
        continue;
      }
      const before = nodes.filter((n) => n.position < node.position);
      const rect = rectifiedChoice(rectified, r);
      const donor = rect
        ? undefined
        : paths.find(
            (c) =>
              c !== r &&
              verdictOf(c, node.node_id) === 'ok' &&
              agreesOn(c, r, before) &&
              stepOf(c, node.node_id) !== null,
          );
      const at = donor ? stepOf(donor, node.node_id)! : -1;
      const chosen =
        rect ??
        (donor && {
          chosen: donor.steps[at]!,
          full_chosen: text(donor.steps.slice(at)),
          chosen_path_id: donor.path_id,
          chosen_source: 'peer' as const,
        });
      if (!chosen) {
        count(out.dropped, 'no path answers the FFS node correctly after the same prefix');
        continue;
      }
      const prefix = r.steps.slice(0, r.ffs_step);
      const rejectedStep = r.steps[r.ffs_step];
      if (rejectedStep === undefined) {
        count(out.dropped, 'ffs_step past the last step');
        continue;
      }
      made++;
      out.rows.push({
        prompt: problemText(problem),
        initial_reason_steps: text(prefix),
        chosen: chosen.chosen,
        rejected: rejectedStep,
        full_chosen: chosen.full_chosen,
        full_rejected: text(r.steps.slice(r.ffs_step)),
        ...trace(r),
        chosen_path_id: chosen.chosen_path_id,
        chosen_source: chosen.chosen_source,
        ffs_node: node.node_id,
        ffs_step: r.ffs_step,
        ffs_evidence: r.ffs_evidence!,
      });
    }
  }
  return out;
}

const verdictOf = (s: ScoredPath, id: string) => s.verdicts.find((v) => v.node_id === id)?.verdict;
const stepOf = (s: ScoredPath, id: string) => s.verdicts.find((v) => v.node_id === id)?.step ?? null;

/** Two paths agree on a set of nodes when each pair of answers is equivalent (or both null). */
function agreesOn(a: ScoredPath, b: ScoredPath, nodes: readonly ArsNode[]): boolean {
  return nodes.every((n) => {
    const x = a.verdicts.find((v) => v.node_id === n.node_id)?.answer ?? null;
    const y = b.verdicts.find((v) => v.node_id === n.node_id)?.answer ?? null;
    return (x === null && y === null) || makeEq(n.answer_spec)(x, y);
  });
}

/**
 * Stepwise supervision (TRL PRM form): labels true before the FFS, false at it, later steps
 * dropped unless `keep_after_ffs` (then false). Correct paths count only when reliable-correct;
 * wrong ones only when their cut's evidence is in `cut_evidence`; silent failures are left out:
 * their wrong step has no label TRACE defines.
 */
export function buildStepwise(input: EmitInput, opts: EmitOptions): Built<StepwiseRow> {
  const out: Built<StepwiseRow> = { rows: [], candidates: emittable(input).length, dropped: {} };
  for (const { problem, paths } of byProblem(input)) {
    for (const s of paths) {
      const why = stepwiseExclusion(s) ?? (s.final_correct === false ? cutExclusion(s, opts) : null);
      if (why) {
        count(out.dropped, why);
        continue;
      }
      const n = s.ffs_step < 0 ? s.steps.length : opts.keep_after_ffs ? s.steps.length : s.ffs_step + 1;
      const labels = s.steps.slice(0, n).map((_, i) => s.ffs_step < 0 || i < s.ffs_step);
      out.rows.push({
        prompt: problemText(problem),
        completions: s.steps.slice(0, n),
        labels,
        ...trace(s),
        ffs_step: s.ffs_step,
        ffs_evidence: s.final_correct ? null : s.ffs_evidence,
      });
    }
  }
  return out;
}

function stepwiseExclusion(s: ScoredPath): string | null {
  if (s.final_correct === null) return 'no final label';
  if (s.silent_failure_node !== null) return 'silent failure';
  if (s.final_correct && s.category !== 'reliable-correct') return `correct but ${s.region}`;
  if (!s.final_correct && s.ffs_step < 0) return 'incorrect without FFS';
  return null;
}

/** ProcessBench-style evaluation rows: every labeled path except silent failures. */
export function buildProcessEval(input: EmitInput): Built<ProcessEvalRow> {
  const out: Built<ProcessEvalRow> = { rows: [], candidates: emittable(input).length, dropped: {} };
  for (const { problem, paths } of byProblem(input)) {
    for (const s of paths) {
      if (s.final_correct === null) {
        count(out.dropped, 'no final label');
        continue;
      }
      if (s.silent_failure_node !== null) {
        count(out.dropped, 'silent failure');
        continue;
      }
      out.rows.push({
        id: s.path_id,
        problem: problem.question,
        steps: s.steps,
        label: s.ffs_step,
        final_answer_correct: s.final_correct,
        ...trace(s),
        ffs_evidence: s.ffs_evidence,
      });
    }
  }
  return out;
}
