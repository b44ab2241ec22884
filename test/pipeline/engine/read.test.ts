/**
 * The reader with each input in a thread of its own (as `tracepipe run` does with workers) writes
 * what one thread reading every input writes: the same rows in the same order per shard, the
 * same fingerprints, the same rejects. The threads are stood in for by `readPart` on one input at
 * a time, the function a worker runs; the threads themselves run in every CLI test with a
 * problems file and a paths file.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../../schemas/config.ts';
import { SOURCE } from '../../../stages/index.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';
import { RunState } from '../../../pipeline/io/state.ts';
import { readInputs, readPart, type ReadRequest, type ReadResult } from '../../../pipeline/engine/read.ts';
import { READ } from '../../../pipeline/engine/job.ts';
import { shardIds } from '../../../pipeline/engine/shards.ts';

const quiet = () => {};

async function inputs(dir: string) {
  const problems = Array.from({ length: 30 }, (_, i) =>
    JSON.stringify({ problem_id: `p${i}`, domain: 'math', question: `What is ${i} + 1?`, answer: String(i + 1) }),
  );
  // Paths of each problem spread over the file (the default path ids count lines per problem), and bad lines.
  const paths: string[] = [];
  for (let round = 0; round < 3; round++)
    for (let i = 0; i < 30; i++) paths.push(JSON.stringify({ problem_id: `p${i}`, steps: [`${i} + 1 = ${i + 1}`] }));
  paths.splice(7, 0, '{not json');
  paths.splice(20, 0, JSON.stringify({ steps: ['no problem id'] }));
  await writeFile(join(dir, 'problems.jsonl'), `${problems.join('\n')}\n`);
  await writeFile(join(dir, 'paths.jsonl'), `${paths.join('\n')}\n`);
  return parseConfig(
    {
      name: 'read',
      runs_dir: 'runs',
      inputs: [{ path: 'problems.jsonl' }, { path: 'paths.jsonl', format: 'paths-jsonl' }],
      engine: { shards: 8 },
    },
    'test config',
    dir,
  );
}

/** Every shard's reader record and its raw rows, in segment order. */
async function contents(state: RunState, count: number) {
  const out: Record<string, { fingerprint: string; problems: Record<string, string>; rows: unknown[] }> = {};
  for (const shard of shardIds(count)) {
    const rec = await state.record(READ, shard);
    if (!rec) continue;
    const rows: unknown[] = [];
    for (const seg of rec.tables.raw ?? [])
      for (const line of (await readFile(state.segmentPath('raw', shard, seg), 'utf8')).split('\n'))
        if (line) rows.push(JSON.parse(line));
    out[shard] = { fingerprint: rec.fingerprint, problems: rec.problems, rows };
  }
  return out;
}

/** A read of `config`'s inputs into `state` whose "threads" are `readPart` calls here, each request noted in `asked`. */
const threaded = (config: Config, state: RunState, partBytes: number, asked: ReadRequest[] = []) =>
  readInputs(SOURCE, { ...config, engine: { ...config.engine, read_part_bytes: partBytes } }, state, nodeFiles(), {
    runId: 'r',
    log: quiet,
    readInput: (req) => {
      asked.push(req);
      return readPart(SOURCE, req.config, req.stateDir, nodeFiles(), quiet, req.only, req.part);
    },
  });

/** The test inputs read by one thread into `one`, and an empty state `split` for a threaded read of them. */
async function twoReads() {
  const dir = await mkdtemp(join(tmpdir(), 'tracepipe-read-'));
  const config = await inputs(dir);
  const one = new RunState(join(dir, 'one'));
  const serial = await readInputs(SOURCE, config, one, nodeFiles(), { runId: 'r', log: quiet });
  return { dir, config, one, serial, split: new RunState(join(dir, 'split')), asked: [] as ReadRequest[] };
}

const summary = (r: ReadResult) => ({ rows: r.rows, problems: r.problems, changed: r.changed, rejects: r.rejects });

describe('reading inputs in threads of their own', () => {
  it('writes the rows, order, fingerprints and rejects of one thread reading them all', async () => {
    const { config, one, serial, split, asked } = await twoReads();
    // Parts larger than either input: one task for each (inputs under a quarter of it would be read here).
    const parallel = await threaded(config, split, 20_000, asked);
    // Largest input first.
    expect(asked.map((r) => r.only)).toEqual([1, 0]);
    expect(serial.rows).toBe(30 + 90);
    expect(serial.rejects.map((r) => [r.item, r.code])).toEqual([
      ['line 8', 'invalid_json'],
      ['line 21', 'missing'],
    ]);
    expect(summary(parallel)).toEqual(summary(serial));
    const a = await contents(one, 8);
    const b = await contents(split, 8);
    expect(Object.keys(a).length).toBeGreaterThan(1);
    expect(b).toEqual(a);
    // Each shard holds a segment of each input.
    for (const shard of Object.keys(b)) expect((await split.record(READ, shard))!.tables.raw).toHaveLength(2);
  });

  it('reads large inputs in byte ranges on several threads, with the rows, line numbers and default path ids of one reader', async () => {
    const { config, one, serial, split, asked } = await twoReads();
    const parallel = await threaded(config, split, 700, asked);
    const parts = asked.map((req) => `${req.only}:${req.part?.index}/${req.part?.of}`);
    // Both inputs in parts (about 700 bytes each).
    expect(new Set(parts.map((p) => p.split(':')[0]))).toEqual(new Set(['0', '1']));
    expect(parts.length).toBeGreaterThan(6);
    expect(summary(parallel)).toEqual(summary(serial));
    expect(await contents(split, 8)).toEqual(await contents(one, 8));
    // Ingest fills the default path ids from the rows' order: p3's paths are p3/0, p3/1, p3/2 however the file was cut.
    const { ingestStage } = await import('../../../stages/ingest/index.ts');
    const { shardOf } = await import('../../../pipeline/engine/shards.ts');
    const shard = shardOf('p3', 8);
    const rec = (await split.record(READ, shard))!;
    const raw = await split.readRows('raw', shard, rec.tables.raw!, new Set(['p3']));
    const out = await ingestStage.run([{ problem: { problem_id: 'p3' } as never, rows: { raw } }], {
      config,
      runId: 'r',
      shard,
      globals: {},
      files: nodeFiles(),
      log: quiet,
    } as never);
    expect((out.rows.imported_paths as { path_id: string }[]).map((p) => p.path_id)).toEqual(['p3/0', 'p3/1', 'p3/2']);
  });

  it('reads small inputs in this thread: a worker would take longer to start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracepipe-read-'));
    const config = await inputs(dir);
    const asked: ReadRequest[] = [];
    // The default part size (64 MB): these inputs are far under a quarter of it.
    const r = await threaded(config, new RunState(join(dir, 'state')), 64 << 20, asked);
    expect(asked).toEqual([]);
    expect(r.rows).toBe(120);
  });

  it('a second read of the same inputs changes no shard, however they were read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracepipe-read-'));
    const config = await inputs(dir);
    const files = nodeFiles();
    const state = new RunState(join(dir, 'state'));
    await readInputs(SOURCE, config, state, files, { runId: 'r', log: quiet });
    const again = await threaded(config, state, 500);
    expect(again.changed).toEqual([]);
    expect(again.rows).toBe(120);
  });
});
