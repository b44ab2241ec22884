/**
 * @module pipeline/cli/commands/eval-trace-grade
 * Grading for `eval trace`: what the run emitted for the held-out problems, read back from its
 * published outputs, against the gold read before the run; majority voting on the same paths.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathRow, Problem } from '../../../schemas/index.ts';
import { finalAnswerOf } from '../../../stages/align/align.ts';
import { classify, consensus, makeEq } from '../../../stages/score/classes.ts';
import type { Calibration } from '../../../stages/calibrate/calibrate.ts';
import { graded, readDataset } from './eval-run.ts';
import type { EvalTraceSummary, HideGold } from './eval-trace.ts';
import { byProblemId } from '../../../stages/lib/group.ts';

/** Grades what the run emitted for the held-out half against the gold read before the run. */
export async function grade(
  runDir: string,
  hide: HideGold | undefined,
  problems: readonly Problem[],
  paths: readonly Omit<PathRow, 'run_id'>[],
  held: readonly Problem[],
): Promise<Omit<EvalTraceSummary, 'calibration_set'>> {
  const heldIds = new Set(held.map((p) => p.problem_id));
  const problemOf = new Map(problems.map((p) => [p.problem_id, p]));
  const heldPaths = paths.filter((p) => heldIds.has(p.problem_id));
  const truth = new Map<string, boolean>();
  let label_disagreements = 0;
  for (const p of paths) {
    const pr = problemOf.get(p.problem_id)!;
    const y = makeEq(pr.answer_spec)(pr.answer, finalAnswerOf(p));
    if (p.given_correct !== null && p.given_correct !== y) label_disagreements++;
    if (heldIds.has(p.problem_id)) truth.set(p.path_id, y);
  }
  const sft = await readDataset<{ path_id: string }>(runDir, 'sft', ['path_id']);
  const pref = await readDataset<{ chosen_path_id: string }>(runDir, 'preference', ['chosen_path_id']);
  const pe = await readDataset<{ id: string; region: string; final_answer_correct: boolean }>(runDir, 'process_eval', [
    'id',
    'region',
    'final_answer_correct',
  ]);
  // Every reliable path the outputs show: process_eval holds every labelled path but silent failures;
  // sft rows and chosen sides are reliable-correct, silent failures included.
  const rc = [...sft.map((r) => r.path_id), ...pref.map((r) => r.chosen_path_id)];
  const reliableCorrect = [
    ...rc,
    ...pe.filter((r) => r.region === 'reliable' && r.final_answer_correct).map((r) => r.id),
  ];
  const reliable = [...rc, ...pe.filter((r) => r.region === 'reliable').map((r) => r.id)];
  const maj = graded(majority(heldPaths, problemOf), truth);
  const calJson = JSON.parse(await readFile(join(runDir, 'calibration.json'), 'utf8')) as Calibration;
  const g = calJson.global;
  const s = graded(
    sft.map((r) => r.path_id),
    truth,
  );
  const rel = graded(reliable, truth);
  const relc = hide ? graded(reliableCorrect, truth) : null;
  return {
    hide_gold: hide ?? 'none',
    problems: problems.length,
    paths: paths.length,
    held_out: { problems: held.length, paths: heldPaths.length, correct: [...truth.values()].filter(Boolean).length },
    label_disagreements,
    calibration: {
      rule: calJson.rule,
      tau_pc: g.tau_pc,
      tau_gc: g.tau_gc,
      tau_fa: g.tau_fa,
      met_target: g.met_target,
      precision: g.precision,
      n_labeled: g.n_labeled,
      labels: g.labels,
      auroc_pc: g.auroc_pc,
      auroc_gc: g.auroc_gc,
      auroc_fa: g.auroc_fa,
      auroc_mean: g.auroc_mean,
    },
    reliable: rel,
    reliable_precision: rel.precision,
    reliable_coverage: rel.coverage,
    sft: s,
    sft_precision: s.precision,
    sft_rows: sft.length,
    reliable_correct: relc,
    reliable_correct_precision: relc?.precision ?? null,
    reliable_correct_coverage: relc?.coverage ?? null,
    majority: maj,
    majority_precision: maj.precision,
    majority_coverage: maj.coverage,
    split:
      held.length === problems.length
        ? 'no calibration input: every problem is emitted and graded'
        : 'calibration input: problems whose sha256(problem_id) first byte is even; held out (emitted and graded): the others',
  };
}

/** Majority voting: per problem, every path whose final answer is in the largest class (none on a tie). */
function majority(paths: readonly Omit<PathRow, 'run_id'>[], problemOf: ReadonlyMap<string, Problem>): string[] {
  const by = byProblemId(paths);
  const out: string[] = [];
  for (const [pid, ps] of by) {
    const spec = problemOf.get(pid)!.answer_spec;
    const c = classify(
      ps.map((p) => finalAnswerOf(p)),
      spec,
    );
    const top = consensus(c);
    if (top !== null) ps.forEach((p, i) => c.classOf[i] === top && out.push(p.path_id));
  }
  return out;
}
