/**
 * Snapshots reuse what did not change: a run that adds problems hard-links its parent's parts and
 * writes only the new problems' rows; an edited problem's part is written again; small parts are
 * merged once they pile up. Through the built CLI, against the simulator in its own process; the
 * rows of the last snapshot equal those of one fresh run over the same input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSynth } from '../../../sim/synth.ts';
import {
  allPublishedRows,
  DATASETS,
  requireBuilt,
  serveSim,
  simRunConfig,
  summaryOf,
  tracepipe,
  type Sim,
} from './helpers.ts';

let dir: string;
let sim: Sim;
let lines: string[];

beforeAll(async () => {
  requireBuilt();
  dir = await mkdtemp(join(tmpdir(), 'tp-parts-'));
  await writeSynth(join(dir, 'bank.jsonl'), { n: 40, seed: 21 });
  lines = (await readFile(join(dir, 'bank.jsonl'), 'utf8')).trim().split('\n');
  sim = await serveSim(['--problems', join(dir, 'bank.jsonl')]);
}, 60_000);
afterAll(async () => {
  await sim?.stop();
});

// Twenty problems are too few labels for calibration to meet its target; where it does not, it
// takes the grid point closest to it, which moves as problems are added, and every problem's rows
// are written again. Parts are what this test is about: calibration keeps the configured thresholds.
const config = (name: string, input: string) =>
  simRunConfig(dir, name, input, sim.url, {
    generate: { k: 2, seed: 5 },
    engine: { shards: 4 },
    calibrate: { unmet: 'configured' },
  });

/** The parts of a dataset in `latest`, with their inodes. */
async function parts(runDir: string, dataset: string): Promise<Map<string, number>> {
  const d = join(runDir, 'latest', dataset);
  const out = new Map<string, number>();
  for (const f of (await readdir(d)).filter((x) => x.endsWith('.parquet')).sort())
    out.set(f, (await stat(join(d, f))).ino);
  return out;
}

describe('snapshot parts', () => {
  it('reuses unchanged parts by hard link, rewrites an edited one, merges small ones, and publishes the rows of one fresh run', async () => {
    const input = join(dir, 'in.jsonl');
    const cfg = await config('inc', input);
    const runDir = join(dir, 'runs', 'inc');
    const run = async (ls: string[]) => {
      await writeFile(input, `${ls.join('\n')}\n`);
      const r = await tracepipe(['run', '--config', cfg]);
      expect(r.code, r.stderr).toBe(0);
      return summaryOf(r);
    };
    let current = lines.slice(0, 20);
    await run(current);
    const first = await parts(runDir, 'stepwise');
    expect([...first.keys()]).toEqual(['part-0.parquet']);

    // Two new problems: the parent's part is the same file (a hard link), their rows a new part.
    current = lines.slice(0, 22);
    const added = await run(current);
    const second = await parts(runDir, 'stepwise');
    expect([...second.keys()]).toEqual(['part-0.parquet', 'part-1.parquet']);
    expect(second.get('part-0.parquet')).toBe(first.get('part-0.parquet'));
    const stepwise = added.snapshot!.datasets.stepwise!;
    expect(stepwise.removed).toBe(0);
    expect(stepwise.added).toBeGreaterThan(0);

    // One of the first twenty problems edited: part-0 is written again, part-1 is kept.
    const edited = JSON.parse(current[3]!) as { question: string };
    edited.question = `${edited.question} Give the answer as a number.`;
    current = [...current.slice(0, 3), JSON.stringify(edited), ...current.slice(4)];
    await run(current);
    const third = await parts(runDir, 'stepwise');
    expect(third.has('part-0.parquet')).toBe(false);
    expect(third.get('part-1.parquet')).toBe(second.get('part-1.parquet'));

    // One problem at a time: small parts pile up, then are merged; never more than nine.
    let merged = false;
    let before = third.size;
    for (let n = 23; n <= 32; n++) {
      current = [...current, lines[n - 1]!];
      await run(current);
      const now = await parts(runDir, 'stepwise');
      expect(now.size).toBeLessThanOrEqual(9);
      if (now.size < before) merged = true;
      before = now.size;
    }
    expect(merged).toBe(true);

    // The same rows as one run over the final input.
    const fresh = join(dir, 'fresh.jsonl');
    await writeFile(fresh, `${current.join('\n')}\n`);
    const one = await tracepipe(['run', '--config', await config('fresh', fresh)]);
    expect(one.code, one.stderr).toBe(0);
    const a = await allPublishedRows(join(dir, 'runs', 'fresh'));
    const b = await allPublishedRows(runDir);
    for (const d of DATASETS) {
      expect(a[d]!.length, d).toBeGreaterThan(0);
      expect(b[d], d).toEqual(a[d]);
    }
  }, 300_000);
});
