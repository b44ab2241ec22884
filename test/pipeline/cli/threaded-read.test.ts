/**
 * Inputs read by the worker threads in byte ranges publish what the main thread reading them whole
 * publishes: the built CLI in child processes, the simulator in its own, two problem files and a
 * paths-jsonl file whose paths take their default ids (counted per problem in file order, however
 * the file is cut). Chains computed in the main thread (too little work for the workers to start)
 * publish what the workers publish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSynth } from '../../../sim/synth.ts';
import { allPublishedRows, DATASETS, requireBuilt, serveSim, simRunConfig, tracepipe, type Sim } from './helpers.ts';

let dir: string;
let sim: Sim;
let inputs: { path: string; format?: string }[];
/** Ids of the problems with imported paths. */
let problems: string[];

beforeAll(async () => {
  requireBuilt();
  dir = await mkdtemp(join(tmpdir(), 'tp-threaded-read-'));
  await writeSynth(join(dir, 'bank.jsonl'), { n: 60, seed: 9 });
  const lines = (await readFile(join(dir, 'bank.jsonl'), 'utf8')).trim().split('\n');
  await writeFile(join(dir, 'a.jsonl'), `${lines.slice(0, 30).join('\n')}\n`);
  await writeFile(join(dir, 'b.jsonl'), `${lines.slice(30).join('\n')}\n`);
  // Three imported paths for each of the first 20 problems, interleaved, without path ids.
  const withPaths = lines.slice(0, 20).map((l) => JSON.parse(l) as { problem_id: string; answer: string });
  problems = withPaths.map((p) => p.problem_id);
  const paths: string[] = [];
  for (let k = 0; k < 3; k++)
    for (const p of withPaths)
      paths.push(
        JSON.stringify({
          problem_id: p.problem_id,
          steps: [`Working it out gives ${p.answer}.`],
          final_answer: p.answer,
        }),
      );
  await writeFile(join(dir, 'paths.jsonl'), `${paths.join('\n')}\n`);
  inputs = [
    { path: join(dir, 'a.jsonl') },
    { path: join(dir, 'b.jsonl') },
    { path: join(dir, 'paths.jsonl'), format: 'paths-jsonl' },
  ];
  sim = await serveSim(['--problems', join(dir, 'bank.jsonl')]);
}, 60_000);
afterAll(async () => {
  await sim?.stop();
});

const config = (name: string, engine: Record<string, unknown>) =>
  simRunConfig(dir, name, inputs[0]!.path, sim.url, {
    inputs,
    generate: { k: 2, seed: 4 },
    engine: { shards: 4, ...engine },
  });

/** Raw segment files per shard in a run's reader records. */
async function rawSegments(runDir: string): Promise<number[]> {
  const recs = join(runDir, 'state', 'records', 'read');
  const out: number[] = [];
  for (const f of await readdir(recs)) {
    const rec = JSON.parse(await readFile(join(recs, f), 'utf8')) as { tables: { raw: unknown[] } };
    out.push(rec.tables.raw.length);
  }
  return out;
}

/** Path ids of every imported path in a run's state. */
async function importedIds(runDir: string): Promise<string[]> {
  const root = join(runDir, 'state', 'tables', 'imported_paths');
  const ids: string[] = [];
  for (const shard of await readdir(root))
    for (const f of await readdir(join(root, shard)))
      for (const line of (await readFile(join(root, shard, f), 'utf8')).split('\n'))
        if (line) ids.push((JSON.parse(line) as { path_id: string }).path_id);
  return ids.sort();
}

describe('inputs read on the workers in byte ranges', () => {
  it('publish the rows of one thread reading every input whole', async () => {
    const whole = await tracepipe(['run', '--config', await config('whole', {})]);
    expect(whole.code, whole.stderr).toBe(0);
    const parts = await tracepipe(['run', '--config', await config('parts', { read_part_bytes: 2048 })]);
    expect(parts.code, parts.stderr).toBe(0);

    // Read whole: one segment per input at most in a shard; in parts: many.
    expect(Math.max(...(await rawSegments(join(dir, 'runs', 'whole'))))).toBeLessThanOrEqual(3);
    expect(Math.max(...(await rawSegments(join(dir, 'runs', 'parts'))))).toBeGreaterThan(3);

    const a = await allPublishedRows(join(dir, 'runs', 'whole'));
    const b = await allPublishedRows(join(dir, 'runs', 'parts'));
    for (const d of DATASETS) {
      expect(a[d]!.length, d).toBeGreaterThan(0);
      expect(b[d], d).toEqual(a[d]);
    }
    // The imported paths took their default ids, counted per problem in file order, however the file was cut.
    const want = problems.flatMap((p) => [0, 1, 2].map((k) => `${p}/${k}`)).sort();
    expect(await importedIds(join(dir, 'runs', 'parts'))).toEqual(want);
    expect(await importedIds(join(dir, 'runs', 'whole'))).toEqual(want);
  }, 300_000);
});

describe('worker threads start only for enough work', () => {
  it('a small run computes in the main thread, and publishes the rows of the workers computing it', async () => {
    const small = await tracepipe(['run', '--config', await config('main-thread', {})]);
    expect(small.code, small.stderr).toBe(0);
    // 60 problems, fewer than engine.thread_min_problems (500 by default): no worker starts.
    expect(small.stderr).not.toMatch(/worker threads start/);
    const threads = await tracepipe(['run', '--config', await config('threads', { thread_min_problems: 0 })]);
    expect(threads.code, threads.stderr).toBe(0);
    expect(threads.stderr).toMatch(
      /engine: \d+ worker threads start for ingest\+decompose \(engine\.thread_min_problems: 0\)/,
    );
    const a = await allPublishedRows(join(dir, 'runs', 'main-thread'));
    const b = await allPublishedRows(join(dir, 'runs', 'threads'));
    for (const d of DATASETS) {
      expect(a[d]!.length, d).toBeGreaterThan(0);
      expect(b[d], d).toEqual(a[d]);
    }
    // Enough work for the threshold: they start for the first group that has it.
    const some = await tracepipe(['run', '--config', await config('threshold', { thread_min_problems: 40 })]);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stderr).toMatch(/worker threads start for ingest\+decompose \(40 or more problems to compute\)/);
  }, 300_000);
});
