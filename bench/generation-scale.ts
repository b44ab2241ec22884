/**
 * @module bench/generation-scale
 * Generation at real sizes (issue 15): demo-style runs (K = 8 per mode, both modes) of 12k, 48k
 * and 192k paths against the simulator at 0 ms latency, each through `tracepipe run`. The cost of
 * a request must not grow with the run: time per path at 192k over time per path at 12k. Then a
 * warm re-run of the largest sends no request, and its generate stage takes a sliver of the cold one.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSynth } from '../sim/synth.ts';
import { repo, round, runCli, simProcess, writeConfig } from './cli.ts';

const PATHS = [12_000, 48_000, 192_000];
const PER_PROBLEM = 16;

/** The `generation-scale` line. */
export async function benchGenerationScale(sizes: readonly number[] = PATHS) {
  const dir = join(repo, 'build', 'bench-generation-scale');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const largest = Math.max(...sizes) / PER_PROBLEM;
  const bank = join(dir, 'bank.jsonl');
  await writeSynth(bank, { n: largest, seed: 11 });
  const sim = await simProcess(['--problems', bank, '--latency-ms', '0']);
  const generate_s: number[] = [];
  let warm = { requests: -1, generate_s: -1 };
  try {
    for (const paths of sizes) {
      const n = paths / PER_PROBLEM;
      const input = join(dir, `p${n}.jsonl`);
      await writeSynth(input, { n, seed: 11 });
      const name = `g${paths}`;
      const cfg = await writeConfig(join(dir, `${name}.json`), {
        name,
        runs_dir: join(dir, 'runs'),
        inputs: [{ path: input }],
        model: { base_url: `${sim.url}/v1`, model: 'sim' },
        generate: { k: 8, seed: 1, concurrency: 64 },
      });
      const r = await runCli(cfg, join(dir, 'runs', name));
      generate_s.push(r.summary.stages.generate!.seconds);
      if (paths === Math.max(...sizes)) {
        const before = await sim.requests();
        const again = await runCli(cfg, join(dir, 'runs', name));
        warm = { requests: (await sim.requests()) - before, generate_s: again.summary.stages.generate!.seconds };
      }
    }
  } finally {
    await sim.stop();
  }
  const perPath = generate_s.map((s, i) => s / sizes[i]!);
  const cold = generate_s.at(-1)!;
  return {
    bench: 'generation-scale',
    paths: sizes,
    generate_s: generate_s.map((s) => round(s, 1)),
    per_path_ratio: round(perPath.at(-1)! / perPath[0]!),
    warm_requests: warm.requests,
    warm_generate_s: round(warm.generate_s, 2),
    warm_ratio: round(warm.generate_s / cold),
  };
}
