/**
 * @module test/generate/crash-child
 * Runs `generate` on a synth bank against a simulator URL with its state in a given folder, then
 * stores the paths (`paths` table) and prints one JSON line; progress goes to stderr as JSON
 * lines every 20 ms, so the crash test can SIGKILL it at chosen points of progress.
 * Usage: node --experimental-transform-types crash-child.ts <stateDir> <simUrl> <n> <seed>
 */
import { join } from 'node:path';
import { runGenerate } from './helpers.ts';
import { synthInput } from '../../bench/generation.ts';
import { synth } from '../../sim/synth.ts';
import { Store } from '../../pipeline/io/store.ts';
import { defaultGenerateConfig } from '../../pipeline/io/client/config.ts';
import { paths } from '../../schemas/index.ts';
import { createProgress } from '../../pipeline/io/client/progress.ts';

const [stateDir, url, n, seed] = process.argv.slice(2);
const store = await Store.open(join(stateDir!, 'state.duckdb'));
const input = synthInput(synth({ n: Number(n), seed: Number(seed) }));
const log: string[] = [];
const out = await runGenerate(
  input,
  {
    model: { base_url: `${url}/v1`, model: 'sim' },
    generate: {
      ...defaultGenerateConfig,
      k: 4,
      modes: ['ars-guided', 'free'],
      use_n: process.env.TP_USE_N === '1',
      concurrency: 16,
      seed: 5,
      timeout_ms: 5000,
    },
    runId: 'crash',
  },
  {
    store,
    log: (l) => log.push(l),
    progress: createProgress('crash', input.problems.length * 8, { stream: process.stderr, intervalMs: 20 }),
  },
);
await store.replace(paths, out.paths);
store.close();
process.stdout.write(`${JSON.stringify({ stats: out.stats, rejects: out.rejects.length, log })}\n`);
