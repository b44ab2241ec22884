/**
 * @module bench/adaptive
 * Adaptive sampling against fixed K, each through the whole pipeline (runPipeline), same seed,
 * requests counted at the server. On the SIMULATOR: 1,000 synth problems, K = 8 per mode (guided
 * and free), one request per sample (`use_n: false`, so a request is a sample). On real GSM8K
 * solutions replayed (bench/replay.ts): K = 4 free paths per problem in file order, first round 2.
 * Yields are ratios to fixed K of what the run emits: `yield_reliable_correct` = reliable-correct
 * paths emitted as SFT rows (at most `emit.sft_per_problem` per problem), `yield_step_pairs` =
 * step_preference rows; `reliable_correct_paths` compares every reliable-correct path, emitted or not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSynth } from '../sim/synth.ts';
import { startSimChild } from './generation.ts';
import { measuredRun, ratio, simStats, type Measured } from './runs.ts';
import { startReplay } from './replay.ts';
import { sharedDataPath } from './shared.ts';

const SIM = { model: 'tracepipe-simulator', api_key_env: 'TRACEPIPE_SIM_KEY' };

/** The line's numbers from a fixed-K run and an adaptive run of the same inputs. */
function compare(bench: string, fixed: Measured, adaptive: Measured, extra: Record<string, unknown>) {
  const rc = (m: Measured) => m.categories['reliable-correct'] ?? 0;
  return {
    bench,
    requests_fixed: fixed.requests,
    requests_adaptive: adaptive.requests,
    saved: ratio(fixed.requests - adaptive.requests, fixed.requests),
    yield_reliable_correct: ratio(adaptive.rows.sft ?? 0, fixed.rows.sft ?? 0),
    yield_step_pairs: ratio(adaptive.rows.step_preference ?? 0, fixed.rows.step_preference ?? 0),
    sft_rows: { fixed: fixed.rows.sft ?? 0, adaptive: adaptive.rows.sft ?? 0 },
    step_pairs: { fixed: fixed.rows.step_preference ?? 0, adaptive: adaptive.rows.step_preference ?? 0 },
    reliable_correct_paths: { fixed: rc(fixed), adaptive: rc(adaptive), ratio: ratio(rc(adaptive), rc(fixed)) },
    wall_s: { fixed: Math.round(fixed.wall_s), adaptive: Math.round(adaptive.wall_s) },
    ...extra,
  };
}

/** Fixed K = 8 against adaptive sampling on the simulator. */
export async function benchAdaptive(opts: { problems?: number; seed?: number } = {}) {
  const n = opts.problems ?? 1000;
  const seed = opts.seed ?? 1;
  const sim = await startSimChild({ seed, n });
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-adaptive-'));
  try {
    const file = join(dir, 'problems.jsonl');
    await writeSynth(file, { n, seed });
    const run = (name: string, adaptive: boolean) =>
      measuredRun(
        {
          name,
          runs_dir: dir,
          inputs: [{ path: file, format: 'jsonl' }],
          model: { base_url: `${sim.url}/v1`, ...SIM, simulated: true },
          generate: {
            k: 8,
            temperature: 0.8,
            seed,
            use_n: false,
            concurrency: 64,
            ...(adaptive ? { adaptive: {} } : {}),
          },
        },
        dir,
        async () => (await simStats(sim.url)).requests,
      );
    const fixed = await run('fixed', false);
    const adaptive = await run('adaptive', true);
    return compare('adaptive', fixed, adaptive, {
      problems: n,
      k: 8,
      rule: 'settled-yield, first round 3, then 1 (defaults)',
      simulated: true,
    });
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Fixed K = 4 against adaptive sampling on the real GSM8K solutions, replayed in file order. */
export async function benchAdaptiveGsm8k() {
  const socratic = sharedDataPath('gsm8k', 'test_socratic.jsonl');
  const solutions = sharedDataPath('gsm8k', 'example_model_solutions.jsonl');
  if (!socratic || !solutions) return { bench: 'adaptive-gsm8k', skipped: '../shared/data/gsm8k is not here' };
  const seed = 1;
  const replay = await startReplay(solutions, seed);
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-adaptive-gsm8k-'));
  try {
    const run = (name: string, adaptive: boolean) =>
      measuredRun(
        {
          name,
          runs_dir: dir,
          inputs: [{ path: socratic, format: 'gsm8k-socratic' }],
          model: { base_url: `${replay.url}/v1`, model: 'gsm8k-replay', api_key_env: 'TRACEPIPE_REPLAY_KEY' },
          generate: {
            k: 4,
            modes: ['free'],
            seed,
            use_n: false,
            concurrency: 64,
            ...(adaptive ? { adaptive: { first_round: 2 } } : {}),
          },
        },
        dir,
        async () => replay.requests(),
      );
    const fixed = await run('fixed', false);
    const adaptive = await run('adaptive', true);
    return compare('adaptive-gsm8k', fixed, adaptive, {
      problems: fixed.result.read?.problems ?? null,
      k: 4,
      rule: 'settled-yield, first round 2, then 1',
      replayed: 'real GPT-3 solutions of example_model_solutions.jsonl, 4 per problem in file order',
    });
  } finally {
    await replay.close();
    await rm(dir, { recursive: true, force: true });
  }
}
