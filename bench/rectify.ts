/**
 * @module bench/rectify
 * Rectification on the SIMULATOR, through the whole pipeline: a run without it, then the same run
 * with `rectify` on (only rectify and emit re-run; every path comes from the cache). The second
 * run's requests are the continuations: counted at the simulator, with the prompt tokens each
 * shares with an earlier prompt of its problem (what a prefix cache reuses). Every rectified chosen
 * step is verified against the synth formulas (`verifyStep`, given the values its prefix states).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synth, writeSynth, type SynthProblem, type SynthStep } from '../sim/synth.ts';
import { readPrefix, verifyStep } from '../sim/continue.ts';
import { RunState } from '../pipeline/io/state.ts';
import type { PathRow } from '../schemas/index.ts';
import type { RectifiedRow } from '../schemas/state.ts';
import { startSimChild } from './generation.ts';
import { measuredRun, ratio, simStats } from './runs.ts';

/** The node a continuation's first step answers: the first one (F last) its prefix does not state. */
export function nextNode(p: SynthProblem, prefix: readonly string[]): SynthStep {
  const stated = readPrefix(p, prefix);
  return [...p.steps, p.final].find((st) => stated[st.node_id] === undefined) ?? p.final;
}

/** Rectified rows whose chosen step states the right value for its node given its prefix, out of all. */
export function verifyChosen(
  bank: readonly SynthProblem[],
  paths: readonly PathRow[],
  rows: readonly RectifiedRow[],
): { verified: number; total: number } {
  const byId = new Map(bank.map((p) => [p.input.problem_id, p]));
  const steps = new Map(paths.map((p) => [p.path_id, p.steps]));
  let verified = 0;
  for (const r of rows) {
    const p = byId.get(r.problem_id);
    const prefix = (steps.get(r.path_id) ?? []).slice(0, r.ffs_step);
    if (p && verifyStep(p, nextNode(p, prefix).node_id, readPrefix(p, prefix), r.chosen)) verified++;
  }
  return { verified, total: rows.length };
}

/** Runs the rectification benchmark and returns its line. */
export async function benchRectify(opts: { problems?: number; seed?: number } = {}) {
  const n = opts.problems ?? 300;
  const seed = opts.seed ?? 1;
  const sim = await startSimChild({ seed, n });
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-rectify-'));
  try {
    const file = join(dir, 'problems.jsonl');
    await writeSynth(file, { n, seed });
    const raw = (rectify: boolean) => ({
      name: 'rectify',
      runs_dir: dir,
      inputs: [{ path: file, format: 'jsonl' }],
      model: {
        base_url: `${sim.url}/v1`,
        model: 'tracepipe-simulator',
        api_key_env: 'TRACEPIPE_SIM_KEY',
        simulated: true,
      },
      generate: { k: 8, temperature: 0.8, seed, concurrency: 64 },
      ...(rectify ? { rectify: {} } : {}),
    });
    await measuredRun(raw(false), dir, async () => (await simStats(sim.url)).requests);
    const before = await simStats(sim.url);
    const on = await measuredRun(raw(true), dir, async () => (await simStats(sim.url)).requests);
    const after = await simStats(sim.url);
    const totals = on.result.stages.find((s) => s.name === 'rectify')?.totals as Record<string, number>;
    const reran = on.result.stages.filter((s) => s.kind === 'problem' && s.problems.computed > 0).map((s) => s.name);
    const state = new RunState(join(dir, 'rectify', 'state'));
    const rows = await state.allRows<RectifiedRow>('rectify', 'rectified');
    const paths = await state.allRows<PathRow>('generate', 'paths');
    const v = verifyChosen(synth({ n, seed }), paths, rows);
    const shared = after.prompt_tokens_shared - before.prompt_tokens_shared;
    const sent = after.prompt_tokens - before.prompt_tokens;
    return {
      bench: 'rectify',
      ffs_paths: totals.ffs_paths,
      rectified_pairs: totals.rectified_paths,
      rectified_share: ratio(totals.rectified_paths ?? 0, totals.ffs_paths ?? 0),
      chosen_verified: ratio(v.verified, v.total),
      chosen_steps: v.total,
      prefix_shared_tokens: shared,
      prompt_tokens: sent,
      prefix_shared_share: ratio(shared, sent),
      // The stage's own count of the same (each continuation's tokens that its original request starts with).
      stage_prefix_shared_tokens: totals.prefix_shared_tokens,
      stage_prompt_tokens: totals.prompt_tokens,
      step_pairs_by_source: on.pairs_by_source,
      continuation_requests: on.requests,
      continuation_prompts_at_simulator: (after.prompts.continue ?? 0) - (before.prompts.continue ?? 0),
      stages_rerun: reran,
      problems: n,
      r: 8,
      simulated: true,
    };
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
