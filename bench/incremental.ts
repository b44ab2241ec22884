/**
 * @module bench/incremental
 * The nightly refresh (issue 11): a full demo-style run of 100k paths (6,250 problems, K = 8 per
 * mode) against the simulator, then 1% new problems appended and the run repeated. The re-run's
 * wall time against the full run's, and its model requests (counted at the simulator) against
 * exactly those of the new problems (one request per problem and mode, with n = 8).
 */
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSynth } from '../sim/synth.ts';
import { repo, round, runCli, simProcess, writeConfig } from './cli.ts';

/** The `incremental` line. */
export async function benchIncremental(paths = 100_000) {
  const dir = join(repo, 'build', 'bench-incremental');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const n = paths / 16;
  const added = Math.round(n / 100);
  const bank = join(dir, 'bank.jsonl');
  await writeSynth(bank, { n: n + added, seed: 13 });
  const lines = (await readFile(bank, 'utf8')).trim().split('\n');
  const input = join(dir, 'problems.jsonl');
  await writeFile(input, `${lines.slice(0, n).join('\n')}\n`);
  const sim = await simProcess(['--problems', bank, '--latency-ms', '0']);
  try {
    const cfg = await writeConfig(join(dir, 'inc.json'), {
      name: 'inc',
      runs_dir: join(dir, 'runs'),
      inputs: [{ path: input }],
      model: { base_url: `${sim.url}/v1`, model: 'sim' },
      generate: { k: 8, seed: 1, concurrency: 64 },
    });
    const full = await runCli(cfg, join(dir, 'runs', 'inc'));
    await appendFile(input, `${lines.slice(n).join('\n')}\n`);
    const before = await sim.requests();
    const again = await runCli(cfg, join(dir, 'runs', 'inc'));
    const sent = (await sim.requests()) - before;
    return {
      bench: 'incremental',
      full_wall_s: round(full.wall_s, 1),
      rerun_wall_s: round(again.wall_s, 2),
      ratio: round(again.wall_s / full.wall_s),
      requests_expected: added * 2,
      requests_sent: sent,
      new_problems: added,
      rerun_stages_s: Object.fromEntries(
        Object.entries(again.summary.stages).map(([k, v]) => [k, round(v.seconds, 2)]),
      ),
    };
  } finally {
    await sim.stop();
  }
}
