/**
 * @module pipeline/cli/commands/eval-trace
 * `tracepipe eval trace`: TRACE on real data with no model. GSM8K's socratic ARS and its four
 * GPT-3 solutions per problem are aligned numerically, scored, and calibrated; reports the
 * AUROC of PC, GC and their mean as predictors of `is_correct`, and reliable precision and
 * coverage measured out of sample (thresholds calibrated on one half of the problems, by hash,
 * and applied to the other half).
 */
import { createHash } from 'node:crypto';
import type { ArsNode, PathRow, ScoredPath } from '../../../schemas/index.ts';
import { ingest } from '../../../stages/ingest/ingest.ts';
import { gsm8kSolutionsFrom } from '../../../stages/ingest/gsm8k.ts';
import { nodeFiles } from '../../io/files.ts';
import { align } from '../../../stages/align/align.ts';
import { score } from '../../../stages/score/score.ts';
import {
  aurocs,
  calibrate,
  evaluateThresholds,
  gridCounts,
  DEFAULT_GRID,
} from '../../../stages/calibrate/calibrate.ts';
import { makeEq } from '../../../stages/score/classes.ts';
import { DEFAULT_THRESHOLDS, regionOf } from '../../../stages/score/score.ts';

export interface EvalTraceOptions {
  /** GSM8K `test_socratic.jsonl`. */
  problems: string;
  /** GSM8K `example_model_solutions.jsonl`. */
  paths: string;
  log?: (line: string) => void;
  targetPrecision?: number;
  /** Coverage floor for `at_min_coverage` (default 0.5). */
  minCoverage?: number;
}

export interface EvalTraceSummary {
  problems: number;
  paths: number;
  rejects: number;
  /** Paths whose label `y_k` (gold final answer) disagrees with GSM8K's `is_correct`. */
  label_disagreements: number;
  auroc_pc: number | null;
  auroc_gc: number | null;
  auroc_mean: number | null;
  /** Thresholds calibrated on the calibration half. */
  tau_pc: number;
  tau_gc: number;
  met_target: boolean;
  /** Precision and coverage of `reliable` on the held-out half, at those thresholds. */
  reliable_precision: number | null;
  reliable_precision_ci: [number, number];
  reliable_coverage: number | null;
  reliable_coverage_ci: [number, number];
  n_eval_paths: number;
  n_eval_reliable: number;
  /** The same, calibrated and measured on all paths (in-sample, optimistic). */
  in_sample: { tau_pc: number; tau_gc: number; precision: number | null; coverage: number | null };
  /**
   * The best precision the grid reaches at coverage >= `minCoverage` (default 0.5): thresholds
   * chosen on the calibration half, precision and coverage measured on the held-out half.
   */
  at_min_coverage: {
    min_coverage: number;
    tau_pc: number;
    tau_gc: number;
    cal_precision: number | null;
    precision: number | null;
    precision_ci: [number, number];
    coverage: number | null;
  } | null;
  /** Share of intermediate node answers aligned (non-null), and of those equal to gold. */
  aligned_share: number;
  /** Labelled paths the AUROCs are over: those of problems with at least one ARS node (PC defined). */
  auroc_paths: number;
  /** What bounds reliable precision under TRACE.md (see `ceiling`). */
  ceiling: Ceiling;
  /**
   * NOT TRACE's reliable region: the same thresholds, and also the final answer equal to at least
   * one other path's (agreement on `F`, which TRACE keeps out of PC and GC). Measured on the
   * held-out half, for the contract decision only; no stage uses it.
   */
  outside_contract: {
    rule: string;
    precision: number | null;
    precision_ci: [number, number];
    coverage: number | null;
    n_reliable: number;
  };
  split: string;
}

/**
 * Why reliable precision stops where it does. `max_precision`: the best precision of any grid pair
 * that leaves at least 50 labelled paths reliable (all paths, in sample: an upper bound).
 * `reliable_incorrect`: held-out paths reliable at the calibrated thresholds whose final answer is
 * wrong; `all_nodes_ok`: those among them with verdict ok on every intermediate node, so the error
 * is in F's own step, where PC and GC, which exclude F, cannot see it.
 */
export interface Ceiling {
  max_precision: { tau_pc: number; tau_gc: number; precision: number; coverage: number; n_reliable: number } | null;
  reliable_incorrect: number;
  all_nodes_ok: number;
}

/** Half of the problems by a hash of their id: the calibration half. */
export const inCalibrationHalf = (problemId: string) => (createHash('sha256').update(problemId).digest()[0]! & 1) === 0;

/** Runs the evaluation and returns its summary; `log` gets progress lines. */
export async function evalTrace(opts: EvalTraceOptions): Promise<EvalTraceSummary> {
  const log = opts.log ?? (() => {});
  const runId = 'eval-trace';
  const ing = await ingest(
    [
      { path: opts.problems, format: 'gsm8k-socratic' },
      { path: opts.paths, adapter: gsm8kSolutionsFrom(opts.problems) },
    ],
    { runId, files: nodeFiles() },
  );
  const rawPaths: PathRow[] = ing.paths;
  log(
    `ingested ${ing.problems.length} problems, ${ing.nodes.length} ARS nodes, ${rawPaths.length} paths, ${ing.rejects.length} rejects`,
  );
  const { paths } = align({ paths: rawPaths, nodes: ing.nodes });
  const inter = paths.flatMap((p) => p.node_answers.filter((a) => a.node_id !== 'F'));
  const aligned_share = inter.length ? inter.filter((a) => a.answer !== null).length / inter.length : 0;
  const { scored } = score({ problems: ing.problems, nodes: ing.nodes, paths }, { runId });
  const given = new Map(paths.map((p) => [p.path_id, p.given_correct]));
  const label_disagreements = scored.filter(
    (s) => s.final_correct !== null && given.get(s.path_id) !== null && given.get(s.path_id) !== s.final_correct,
  ).length;
  const target = opts.targetPrecision ?? 0.95;
  const calHalf = scored.filter((s) => inCalibrationHalf(s.problem_id));
  const evalHalf = scored.filter((s) => !inCalibrationHalf(s.problem_id));
  const cal = calibrate(calHalf, { targetPrecision: target });
  const held = evaluateThresholds(evalHalf, cal.global.tau_pc, cal.global.tau_gc);
  const all = calibrate(scored, { targetPrecision: target });
  const minCoverage = opts.minCoverage ?? 0.5;
  const at_min_coverage = bestAtCoverage(calHalf, evalHalf, minCoverage);
  for (const n of cal.notes) log(`calibration: ${n}`);
  log(
    `calibrated on ${calHalf.length} paths: tau_pc=${cal.global.tau_pc} tau_gc=${cal.global.tau_gc}; held-out ${evalHalf.length} paths: precision=${held.precision} coverage=${held.coverage}`,
  );
  return {
    problems: ing.problems.length,
    paths: scored.length,
    rejects: ing.rejects.length,
    label_disagreements,
    ...aurocs(scored.filter((s: ScoredPath) => s.final_correct !== null)),
    tau_pc: cal.global.tau_pc,
    tau_gc: cal.global.tau_gc,
    met_target: cal.global.met_target,
    reliable_precision: held.precision,
    reliable_precision_ci: held.precision_ci,
    reliable_coverage: held.coverage,
    reliable_coverage_ci: held.coverage_ci,
    n_eval_paths: held.n_labeled,
    n_eval_reliable: held.n_reliable,
    in_sample: {
      tau_pc: all.global.tau_pc,
      tau_gc: all.global.tau_gc,
      precision: all.global.precision,
      coverage: all.global.coverage,
    },
    at_min_coverage,
    aligned_share,
    auroc_paths: scored.filter((s: ScoredPath) => s.final_correct !== null && s.PC !== null).length,
    ceiling: ceiling(scored, evalHalf, cal.global.tau_pc, cal.global.tau_gc),
    outside_contract: withFinalAgreement(
      evalHalf,
      finalAgreement(scored, ing.nodes),
      cal.global.tau_pc,
      cal.global.tau_gc,
    ),
    split:
      'thresholds calibrated on problems whose sha256(problem_id) first byte is even, precision/coverage measured on the others',
  };
}

/** The grid pair with the highest precision among those `accept` lets through (first found on ties); null when none. */
function bestOnGrid(
  labeled: readonly ScoredPath[],
  accept: (e: { precision: number; coverage: number | null; n_reliable: number }) => boolean,
) {
  const at = gridCounts(
    labeled.filter((p) => p.final_correct !== null),
    DEFAULT_GRID,
  );
  let best: { tau_pc: number; tau_gc: number; precision: number; coverage: number; n_reliable: number } | null = null;
  for (const [i, tau_pc] of DEFAULT_GRID.entries()) {
    for (const [j, tau_gc] of DEFAULT_GRID.entries()) {
      const e = at(i, j);
      if (e.precision === null || !accept({ ...e, precision: e.precision })) continue;
      if (!best || e.precision > best.precision)
        best = { tau_pc, tau_gc, precision: e.precision, coverage: e.coverage ?? 0, n_reliable: e.n_reliable };
    }
  }
  return best;
}

/** Thresholds with the best calibration-half precision at coverage >= `minCoverage`, applied to the held-out half. */
function bestAtCoverage(
  cal: readonly ScoredPath[],
  held: readonly ScoredPath[],
  minCoverage: number,
): EvalTraceSummary['at_min_coverage'] {
  const best = bestOnGrid(cal, (e) => (e.coverage ?? 0) >= minCoverage);
  if (!best) return null;
  const h = evaluateThresholds(held, best.tau_pc, best.tau_gc);
  return {
    min_coverage: minCoverage,
    tau_pc: best.tau_pc,
    tau_gc: best.tau_gc,
    cal_precision: best.precision,
    precision: h.precision,
    precision_ci: h.precision_ci,
    coverage: h.coverage,
  };
}

/** See `Ceiling`. */
export function ceiling(
  all: readonly ScoredPath[],
  held: readonly ScoredPath[],
  tau_pc: number,
  tau_gc: number,
): Ceiling {
  const max_precision = bestOnGrid(all, (e) => e.n_reliable >= 50);
  const wrong = held.filter(
    (p) => p.final_correct === false && regionOf(p.PC, p.GC, { ...DEFAULT_THRESHOLDS, tau_pc, tau_gc }) === 'reliable',
  );
  return {
    max_precision,
    reliable_incorrect: wrong.length,
    all_nodes_ok: wrong.filter((p) => p.verdicts.every((v) => v.node_id === 'F' || v.verdict === 'ok')).length,
  };
}

/** Per path: whether at least one other path of its problem gives an equivalent final answer (F's answer spec). */
export function finalAgreement(
  scored: readonly ScoredPath[],
  nodes: readonly Pick<ArsNode, 'problem_id' | 'is_final' | 'answer_spec'>[],
): Map<string, boolean> {
  const spec = new Map(nodes.filter((n) => n.is_final).map((n) => [n.problem_id, n.answer_spec]));
  const byProblem = new Map<string, ScoredPath[]>();
  for (const s of scored) (byProblem.get(s.problem_id) ?? byProblem.set(s.problem_id, []).get(s.problem_id)!).push(s);
  const out = new Map<string, boolean>();
  for (const [pid, paths] of byProblem) {
    const sp = spec.get(pid);
    const eq = sp ? makeEq(sp) : (x: string | null, y: string | null) => x !== null && x === y;
    for (const p of paths)
      out.set(
        p.path_id,
        paths.some((q) => q !== p && eq(q.final_answer, p.final_answer)),
      );
  }
  return out;
}

/** `evaluateThresholds` with the paths no other path agrees with on F kept out of the reliable region (still counted as labelled). */
function withFinalAgreement(
  held: readonly ScoredPath[],
  agrees: ReadonlyMap<string, boolean>,
  tau_pc: number,
  tau_gc: number,
): EvalTraceSummary['outside_contract'] {
  const e = evaluateThresholds(
    held.map((p) => (agrees.get(p.path_id) ? p : { ...p, PC: null })),
    tau_pc,
    tau_gc,
  );
  return {
    rule: "reliable at the calibrated thresholds AND the final answer equals at least one other path's (not TRACE: agreement on F)",
    precision: e.precision,
    precision_ci: e.precision_ci,
    coverage: e.coverage,
    n_reliable: e.n_reliable,
  };
}
