/**
 * Incremental runs are exact: one run over all the problems and three runs that add them a third
 * at a time publish the same rows, after sorting (every column but run_id, which names the run
 * that computed a row).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSynth } from '../../../sim/synth.ts';
import {
  allPublishedRows,
  DATASETS,
  publishedRows,
  requireBuilt,
  serveSim,
  simRunConfig,
  tracepipe,
  type Sim,
} from './helpers.ts';

let dir: string;
let sim: Sim;
let lines: string[];

beforeAll(async () => {
  requireBuilt();
  dir = await mkdtemp(join(tmpdir(), 'tp-thirds-'));
  await writeSynth(join(dir, 'bank.jsonl'), { n: 90, seed: 8 });
  // Every third question carries characters beyond Latin-1 (a curly quote, an astral emoji): the
  // state files between stages hold them as UTF-8 bytes, and the published rows keep them exactly.
  lines = (await readFile(join(dir, 'bank.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l, i) => {
      if (i % 3 !== 0) return l;
      const p = JSON.parse(l) as { question: string };
      return JSON.stringify({ ...p, question: `${p.question} (Kim’s note 🙂)` });
    });
  await writeFile(join(dir, 'bank.jsonl'), `${lines.join('\n')}\n`);
  sim = await serveSim(['--problems', join(dir, 'bank.jsonl')]);
}, 60_000);
afterAll(async () => {
  await sim?.stop();
});

const config = (name: string, input: string, engine: Record<string, unknown> = {}) =>
  simRunConfig(dir, name, input, sim.url, { generate: { k: 4, seed: 3 }, engine: { shards: 8, ...engine } });

describe('incremental runs', () => {
  it('three runs over the problems in thirds publish the rows of one run over all of them', async () => {
    const all = join(dir, 'all.jsonl');
    await writeFile(all, `${lines.join('\n')}\n`);
    const one = await tracepipe(['run', '--config', await config('one', all)]);
    expect(one.code, one.stderr).toBe(0);

    const part = join(dir, 'part.jsonl');
    const cfg = await config('thirds', part);
    for (const upTo of [30, 60, 90]) {
      await writeFile(part, `${lines.slice(0, upTo).join('\n')}\n`);
      const r = await tracepipe(['run', '--config', cfg]);
      expect(r.code, r.stderr).toBe(0);
    }
    const a = await allPublishedRows(join(dir, 'runs', 'one'));
    const b = await allPublishedRows(join(dir, 'runs', 'thirds'));
    for (const d of DATASETS) {
      expect(a[d]!.length, d).toBeGreaterThan(0);
      expect(b[d], d).toEqual(a[d]);
    }
    // The questions beyond Latin-1 come out byte for byte, in both runs.
    const marked = lines
      .map((l) => JSON.parse(l) as { problem_id: string; question: string })
      .filter((_, i) => i % 3 === 0);
    for (const run of ['one', 'thirds']) {
      const got = new Map(
        (await publishedRows(join(dir, 'runs', run, 'latest'), 'process_eval', ['problem_id', 'problem']))
          .map((r) => JSON.parse(r) as { problem_id: string; problem: string })
          .map((r) => [r.problem_id, r.problem]),
      );
      const seen = marked.filter((p) => got.has(p.problem_id));
      expect(seen.length, run).toBeGreaterThan(10);
      for (const p of seen) expect(got.get(p.problem_id), `${run} ${p.problem_id}`).toBe(p.question);
    }
    const calA = JSON.parse(await readFile(join(dir, 'runs', 'one', 'latest', 'calibration.json'), 'utf8'));
    const calB = JSON.parse(await readFile(join(dir, 'runs', 'thirds', 'latest', 'calibration.json'), 'utf8'));
    expect(calB).toEqual(calA);
  }, 300_000);

  it('the same when the re-runs compute on worker threads: records the main thread read before a job rewrote them are read again', async () => {
    // With one changed problem enough to start the threads, the main thread reads a shard's
    // records to count the work, then a worker rewrites them; the next stages must see the new ones.
    const part = join(dir, 'part-threads.jsonl');
    const cfg = await config('thirds-threads', part, { thread_min_problems: 1, workers: 2 });
    for (const upTo of [30, 60, 90]) {
      await writeFile(part, `${lines.slice(0, upTo).join('\n')}\n`);
      const r = await tracepipe(['run', '--config', cfg]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, 'the chains ran on worker threads').toMatch(/worker threads start/);
    }
    const a = await allPublishedRows(join(dir, 'runs', 'one'));
    const b = await allPublishedRows(join(dir, 'runs', 'thirds-threads'));
    for (const d of DATASETS) expect(b[d], d).toEqual(a[d]);
  }, 300_000);
});
