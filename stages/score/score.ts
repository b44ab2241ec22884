/**
 * @module stages/score/score
 * TRACE scoring (TRACE.md): step verdicts against gold or consensus, path consistency PC,
 * global consistency GC, final agreement FA, final correctness, reliability regions and the
 * First Failure Step with what placed it.
 */
import type { ArsNode, NodeVerdict, PathRow, Problem, ScoredPath, Verdict } from '../../schemas/index.ts';
import { classify, consensus, makeEq } from './classes.ts';
import { firstFailure } from './ffs.ts';
import { localise } from './localise.ts';
import { categoryOf, DEFAULT_THRESHOLDS, regionOf, type Thresholds } from './regions.ts';
import { byProblemId } from '../lib/group.ts';

export { categoryOf, DEFAULT_THRESHOLDS, regionOf, type Coordinates, type Thresholds } from './regions.ts';
export { localise, type Localisation } from './localise.ts';

export interface ScoreOptions {
  runId: string;
  /** Thresholds per domain (calibrated) or one set for all. */
  thresholds?: Thresholds | ((domain: string) => Thresholds);
}

export interface ScoreOutput {
  scored: ScoredPath[];
  problems: ProblemScore[];
}
export interface ProblemScore {
  problem_id: string;
  domain: string;
  K: number;
  GC: number | null;
  agreement: Record<string, number>;
}

/** Scores all paths, problem by problem. Memory: holds one problem's paths at a time besides the output. */
export function score(
  input: { problems: readonly Problem[]; nodes: readonly ArsNode[]; paths: readonly PathRow[] },
  opts: ScoreOptions,
): ScoreOutput {
  const nodesBy = byProblemId(input.nodes);
  const pathsBy = byProblemId(input.paths);
  const th =
    typeof opts.thresholds === 'function'
      ? opts.thresholds
      : () => (opts.thresholds as Thresholds | undefined) ?? DEFAULT_THRESHOLDS;
  const out: ScoreOutput = { scored: [], problems: [] };
  for (const problem of input.problems) {
    const paths = pathsBy.get(problem.problem_id) ?? [];
    if (!paths.length) continue;
    const nodes = [...(nodesBy.get(problem.problem_id) ?? [])].sort((a, b) => a.position - b.position);
    const r = scoreProblem(problem, nodes, paths, th(problem.domain), opts.runId);
    out.scored.push(...r.scored);
    out.problems.push(r.problem);
  }
  return out;
}

/** Scores the K paths of one problem. `nodes` in order with F last. */
export function scoreProblem(
  problem: Problem,
  nodes: readonly ArsNode[],
  paths: readonly PathRow[],
  th: Thresholds,
  runId: string,
): { scored: ScoredPath[]; problem: ProblemScore } {
  const K = paths.length;
  const inter = nodes.filter((n) => !n.is_final);
  const final = nodes.find((n) => n.is_final);
  const answerMaps = paths.map((p) => new Map(p.node_answers.map((a) => [a.node_id, a])));
  const verdicts: NodeVerdict[][] = paths.map(() => []);
  const gcSum = new Array<number>(K).fill(0);
  const agreement: Record<string, number> = {};

  for (const node of inter) {
    const answers = answerMaps.map((m) => m.get(node.node_id)?.answer ?? null);
    const eq = makeEq(node.answer_spec);
    const c = classify(answers, node.answer_spec, eq);
    const cons = consensus(c);
    const reference = node.answer ?? (cons === null ? null : c.reps[cons]!);
    const g = K ? Math.max(0, ...c.sizes) / K : 0;
    agreement[node.node_id] = g;
    answers.forEach((a, k) => {
      const cls = c.classOf[k];
      if (K > 1 && cls !== null && cls !== undefined) gcSum[k]! += (c.sizes[cls]! - 1) / (K - 1);
      const verdict: Verdict =
        a === null ? 'missing' : reference === null ? 'contested' : eq(reference, a) ? 'ok' : 'fail';
      verdicts[k]!.push({
        node_id: node.node_id,
        answer: a,
        reference,
        verdict,
        agreement: g,
        step: answerMaps[k]!.get(node.node_id)?.step ?? null,
      });
    });
  }

  const finals = paths.map((p) => p.final_answer);
  const finalSpec = final?.answer_spec ?? problem.answer_spec;
  const eqF = makeEq(finalSpec);
  const gold = final?.answer ?? problem.answer;
  const fc = classify(finals, finalSpec, eqF);
  const fcons = consensus(fc);
  const finalRef = gold ?? (fcons === null ? null : fc.reps[fcons]!);
  const problemGC = inter.length ? mean(Object.values(agreement)) : null;

  const references = [
    ...inter.map((n) => verdicts[0]?.find((v) => v.node_id === n.node_id)?.reference ?? null),
    finalRef,
  ];
  const scored = paths.map((p, k): ScoredPath => {
    const n = inter.length;
    const PC = n ? verdicts[k]!.filter((v) => v.verdict === 'ok').length / n : null;
    const GC = n && K > 1 ? gcSum[k]! / n : null;
    // FA: the other K-1 paths whose final answer is in this path's class (a null answer agrees with none).
    const fcls = fc.classOf[k];
    const FA = K > 1 ? (fcls === null || fcls === undefined ? 0 : (fc.sizes[fcls]! - 1) / (K - 1)) : null;
    const label = finalLabel(p, gold, finalRef, eqF);
    const region = regionOf({ PC, GC, FA }, th);
    const byNode = new Map(verdicts[k]!.map((v) => [v.node_id, v.verdict]));
    const ffs = firstFailure(nodes, byNode, label.y);
    const cut = ffs.ffs_node === null ? null : localise(p, nodes, ffs.ffs_node, references);
    const finalVerdict: Verdict =
      p.final_answer === null ? 'missing' : label.y === null ? 'contested' : label.y ? 'ok' : 'fail';
    const fStep = answerMaps[k]!.get('F')?.step ?? Math.max(0, p.steps.length - 1);
    return {
      problem_id: p.problem_id,
      path_id: p.path_id,
      domain: problem.domain,
      PC,
      GC,
      FA,
      region,
      model: p.model,
      run_id: runId,
      mode: p.mode,
      category: categoryOf(region, label.y),
      final_answer: p.final_answer,
      final_correct: label.y,
      label_source: label.source,
      ffs_node: ffs.ffs_node,
      ffs_step: cut?.step ?? -1,
      ffs_evidence: cut?.evidence ?? null,
      silent_failure_node: ffs.silent_failure_node,
      role: problem.role ?? 'data',
      verdicts: [
        ...verdicts[k]!,
        {
          node_id: 'F',
          answer: p.final_answer,
          reference: finalRef,
          verdict: finalVerdict,
          agreement: K ? Math.max(0, ...fc.sizes) / K : 0,
          step: fStep,
        },
      ],
      steps: p.steps,
    };
  });
  return { scored, problem: { problem_id: problem.problem_id, domain: problem.domain, K, GC: problemGC, agreement } };
}

/** y_k: against the gold final answer; else an imported label; else the final consensus. */
function finalLabel(
  p: PathRow,
  gold: string | null,
  ref: string | null,
  eq: (x: string | null, y: string | null) => boolean,
): { y: boolean | null; source: ScoredPath['label_source'] } {
  if (gold !== null) return { y: eq(gold, p.final_answer), source: 'gold' };
  if (p.given_correct !== null) return { y: p.given_correct, source: 'given' };
  if (ref !== null) return { y: eq(ref, p.final_answer), source: 'consensus' };
  return { y: null, source: 'none' };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
