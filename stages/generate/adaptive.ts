/**
 * @module stages/generate/adaptive
 * Adaptive sampling (TRACE.md "Adaptive sampling"): a problem draws its paths in rounds and stops
 * once the paths so far settle what it will yield. Pure: the rounds are driven through a `draw`
 * callback, and the stopping rules score the paths drawn so far as the score stage would (free
 * paths aligned numerically, regions under the configured thresholds).
 */
import type { AdaptiveStop } from '../../schemas/config-requests.ts';
import type { ArsNode, PathRow, Problem } from '../../schemas/index.ts';
import { align } from '../align/align.ts';
import { classify } from '../score/classes.ts';
import { scoreProblem, type Thresholds } from '../score/score.ts';
import { buildStepPreference } from '../emit/build.ts';

/** How a problem draws: the first round, later rounds, and the rule that stops it. */
export interface AdaptiveSettings {
  first_round: number;
  round_size: number;
  stop: AdaptiveStop;
}

/** What the stopping rules weigh the paths against: the thresholds and what emit keeps of a problem. */
export interface StopSettings {
  rule: AdaptiveStop;
  thresholds: Thresholds;
  sft_per_problem: number;
  pairs_per_problem: number;
  /** Rectification is on: every path with an FFS step can give a step pair, no peer path needed. */
  rectify: boolean;
  /** Paths the problem draws at most: `k` times its modes. The rules weigh the draws so far against it. */
  paths_max: number;
}

export interface DrawResult {
  /** Samples drawn in each mode (indices `0..drawn-1`). */
  drawn: number;
  rounds: number;
  /** `settled` (the rule stopped it), `k` (it drew all k), `stopped` (the run is stopping: not done). */
  stop: 'settled' | 'k' | 'stopped';
}

/**
 * Draws samples `[from, to)` round by round: `k` at once without `adaptive`, else `first_round`,
 * then `round_size` more until `settled()` says the problem is settled or `k` are drawn.
 */
export async function drawRounds(o: {
  k: number;
  adaptive: Pick<AdaptiveSettings, 'first_round' | 'round_size'> | null;
  draw: (from: number, to: number) => Promise<void>;
  settled: () => boolean;
  stopped: () => boolean;
}): Promise<DrawResult> {
  let drawn = 0;
  let rounds = 0;
  let to = o.adaptive ? Math.min(o.k, o.adaptive.first_round) : o.k;
  for (;;) {
    await o.draw(drawn, to);
    drawn = to;
    rounds++;
    if (drawn >= o.k) return { drawn, rounds, stop: 'k' };
    if (o.stopped()) return { drawn, rounds, stop: 'stopped' };
    if (o.settled()) return { drawn, rounds, stop: 'settled' };
    to = Math.min(o.k, drawn + o.adaptive!.round_size);
  }
}

/**
 * Whether the paths a problem drew so far (every mode) settle it under `s.rule`:
 * - `final-agreement`: every path has a final answer and all are equivalent;
 * - `reliable-agreement`: that, and every path is `reliable` (ESC-style window agreement);
 * - `settled-yield`: what emit keeps of the problem is settled on both sides, judged by shares of
 *   the paths drawn so far (`n`), so the rule reads the same at any `k`:
 *   - SFT side: `sft_per_problem` distinct candidates (correct paths with PC >= tau_pc and GC >=
 *     tau_gc_low: GC moves with the number of paths and calibration may lower tau_gc down to
 *     tau_gc_low, so they can be reliable whatever the rest of the draws and calibration bring);
 *     or no correct path once half of `paths_max` is drawn; or fewer than one correct path in eight
 *     (more draws are unlikely to give two reliable-correct ones). One correct path keeps a
 *     problem drawing: its agreeing peers are what make it reliable.
 *   - Step-pair side: `pairs_per_problem` pairs; or at most one failing path in eight (more draws
 *     would add few); or, once three quarters of `paths_max` are drawn, one pair short of the cap.
 */
export function settles(problem: Problem, nodes: readonly ArsNode[], drawn: readonly PathRow[], s: StopSettings) {
  if (drawn.length === 0) return false;
  const ordered = [...nodes].sort((a, b) => a.position - b.position);
  const paths = align({ paths: drawn, nodes: ordered }).paths;
  const scored = scoreProblem(problem, ordered, paths, s.thresholds, 'adaptive').scored;
  const finals = classify(
    scored.map((p) => p.final_answer),
    ordered.find((n) => n.is_final)?.answer_spec ?? problem.answer_spec,
  );
  const agree = finals.sizes.length === 1 && !finals.classOf.includes(null);
  if (s.rule === 'final-agreement') return agree;
  if (s.rule === 'reliable-agreement') return agree && scored.every((p) => p.region === 'reliable');
  const input = { problems: [problem], nodes: ordered, scored };
  const opts = { sft_per_problem: s.sft_per_problem, pairs_per_problem: s.pairs_per_problem, keep_after_ffs: false };
  const candidates = new Set(
    scored
      .filter(
        (p) =>
          p.final_correct === true &&
          p.PC !== null &&
          p.PC >= s.thresholds.tau_pc &&
          (p.GC === null || p.GC >= s.thresholds.tau_gc_low),
      )
      .map((p) => p.steps.join('\n').replace(/\s+/g, ' ').trim().toLowerCase()),
  ).size;
  const n = scored.length;
  const correct = scored.filter((p) => p.final_correct === true).length;
  const sftSettled = candidates >= s.sft_per_problem || (correct === 0 ? n >= s.paths_max / 2 : correct < n / 8);
  const failing = scored.filter((p) => p.ffs_node !== null && p.ffs_step >= 0).length;
  const pairs = s.rectify ? Math.min(failing, s.pairs_per_problem) : buildStepPreference(input, opts).rows.length;
  const pairsSettled =
    pairs >= s.pairs_per_problem ||
    failing <= Math.floor(n / 8) ||
    (n >= (s.paths_max * 3) / 4 && pairs >= s.pairs_per_problem - 1);
  return sftSettled && pairsSettled;
}
