/**
 * @module pipeline/engine/read
 * The first step of a run: stream every input through the stages' source and put each row in
 * the shard of its problem (a hash of `problem_id`), as JSON lines written while reading. Each
 * problem gets a fingerprint of its raw rows; a shard whose fingerprints did not change keeps its
 * previous rows, so ingest (and everything after it) has nothing to do there. With worker threads
 * and inputs of 16 MB or more in all, the workers read them, a JSONL input in byte ranges of
 * about 64 MB, and the parts merge in input and part order: the rows, their order and the
 * fingerprints of one thread reading everything.
 * Memory, per reading thread: one open file, a buffer of up to 320 KiB and one fingerprint list
 * per shard (160 MiB in all at most), a short hash per row and a bucket per problem id.
 */
import { hash } from 'node:crypto';
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../schemas/config.ts';
import type { Reject } from '../../schemas/index.ts';
import type { RawItem } from '../../schemas/state.ts';
import type { InputSource } from '../../stages/lib/stage.ts';
import type { FilePart, FilesPort, Log } from '../../stages/lib/ports.ts';
import type { RunState, SegmentRef, ShardRecord } from '../io/state.ts';
import { linesBuffer } from '../io/lines.ts';
import { READ } from './job.ts';
import { shardFingerprint, shardIds, shardOf } from './shards.ts';

export interface ReadResult {
  rows: number;
  problems: number;
  /** Shards whose raw rows changed since the last run (or every shard on a first run). */
  changed: string[];
  /** Rows that belong to no problem (unreadable lines, rows without a problem id). */
  rejects: Reject[];
  seconds: number;
  /** In a dry run, the records the reader would have written (for the plan of the first stage). */
  pending?: Map<string, ShardRecord>;
  /** Raw segment files of the previous read that its new records no longer list. */
  superseded: number;
}

interface Bucket {
  out: WriteStream;
  /** Lines not yet handed to the stream (written in blocks: one write per line per shard costs a syscall each). */
  buf: string[];
  bytes: number;
  file: string;
  rows: number;
  /** Per problem, the short hashes of its rows in order, concatenated (12 base64 characters a row). */
  hashes: Map<string, string>;
}

/** What one thread read: per shard, the raw segment it wrote and each problem's row hashes in row order. */
export interface ReadPart {
  shards: Map<string, { file: string; rows: number; hashes: Map<string, string> }>;
  rejects: Reject[];
  rows: number;
}

/** What a thread reads: the input at index `only`, or one byte range of it. */
export interface ReadRequest {
  config: Config;
  stateDir: string;
  only: number;
  part?: FilePart;
}

/** Reads one input, or part of it, in another thread with the stages' own source (an executor with workers offers it). */
export type ReadInputIn = (req: ReadRequest) => Promise<ReadPart>;

/** Bytes of lines a shard's buffer holds before they are written: 64 KiB, less with many shards (32 MiB in all at most). */
const blockFor = (shards: number) => Math.max(4096, Math.min(1 << 16, Math.floor((32 << 20) / shards)));

/** Hands the buffered lines to the stream; waits only when the stream holds four blocks not yet on disk. */
async function flush(b: Bucket): Promise<void> {
  if (b.buf.length === 0) return;
  const bytes = linesBuffer(b.buf);
  b.buf = [];
  b.bytes = 0;
  if (!b.out.write(bytes)) await once(b.out, 'drain');
}

/**
 * Reads the inputs (every one, or only the one at index `only`, or only its byte range `part`)
 * into new raw segment files of the state folder `stateDir`, one per shard that gets rows; lists
 * nothing (the caller writes the records).
 */
export async function readPart(
  source: InputSource,
  config: Config,
  stateDir: string,
  files: FilesPort,
  log: Log,
  only?: number,
  part?: FilePart,
): Promise<ReadPart> {
  const count = config.engine.shards;
  const block = blockFor(count);
  const buckets = new Map<string, Bucket>();
  const rejects: Reject[] = [];
  const bucketOf = new Map<string, Bucket>();
  let rows = 0;
  const open = async (shard: string): Promise<Bucket> => {
    let b = buckets.get(shard);
    if (b) return b;
    const dir = join(stateDir, 'tables', 'raw', shard);
    await mkdir(dir, { recursive: true });
    const file = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}.jsonl`;
    b = {
      out: createWriteStream(join(dir, file), { highWaterMark: 4 * block }),
      buf: [],
      bytes: 0,
      file,
      rows: 0,
      hashes: new Map(),
    };
    buckets.set(shard, b);
    return b;
  };
  for await (const it of source.items(config, files, log, only, part)) {
    if ('reject' in it) {
      rejects.push(it.reject);
      continue;
    }
    // A problem's rows share its bucket: one hash of its id, not one per row.
    let b = bucketOf.get(it.problem_id);
    if (!b) bucketOf.set(it.problem_id, (b = await open(shardOf(it.problem_id, count))));
    const line = JSON.stringify(it satisfies RawItem);
    b.buf.push(line);
    b.bytes += line.length + 1;
    if (b.bytes >= block) await flush(b);
    b.rows++;
    rows++;
    const h = hash('sha1', line, 'base64').slice(0, 12);
    b.hashes.set(it.problem_id, (b.hashes.get(it.problem_id) ?? '') + h);
  }
  for (const b of buckets.values()) {
    await flush(b);
    b.out.end();
    await once(b.out, 'finish');
  }
  const shards: ReadPart['shards'] = new Map();
  for (const [shard, b] of buckets) shards.set(shard, { file: b.file, rows: b.rows, hashes: b.hashes });
  return { shards, rejects, rows };
}

/**
 * Reads all inputs into per-shard raw segments and writes the reader's records. With `readInput`
 * and inputs of a quarter of a part or more in all, each input (a JSONL one in parts of about
 * `engine.read_part_bytes`) is read by another thread, largest first, and the parts merge in input and part
 * order: the same rows, row order and fingerprints as one thread reading them all.
 */
export async function readInputs(
  source: InputSource,
  config: Config,
  state: RunState,
  files: FilesPort,
  opts: {
    runId: string;
    log: Log;
    dryRun?: boolean;
    readInput?: ReadInputIn;
  },
): Promise<ReadResult> {
  const t0 = performance.now();
  const count = config.engine.shards;
  const n = config.inputs.length;
  let parts: ReadPart[];
  const sizes = config.inputs.map((i) => {
    try {
      return statSync(i.path).size;
    } catch {
      return 0;
    }
  });
  // Small inputs are read here: a worker takes longer to start than this thread to read them.
  const partBytes = config.engine.read_part_bytes;
  const large = sizes.reduce((k, b) => k + b, 0) >= partBytes / 4;
  if (opts.readInput && large && (n > 1 || (source.partable?.(config, 0) ?? false))) {
    const read = opts.readInput;
    // Large JSONL inputs in parts of about `engine.read_part_bytes`; every task in input and part order.
    const tasks: { only: number; part?: FilePart; bytes: number }[] = [];
    for (const [k, size] of sizes.entries()) {
      const of = source.partable?.(config, k) ? Math.min(64, Math.max(1, Math.round(size / partBytes))) : 1;
      for (let index = 0; index < of; index++)
        tasks.push({ only: k, ...(of > 1 ? { part: { index, of } } : {}), bytes: size / of });
    }
    // Largest first: the pool takes them in this order, so the last to finish is a small one.
    const order = [...tasks.keys()].sort((a, b) => tasks[b]!.bytes - tasks[a]!.bytes || a - b);
    const started = new Map(
      order.map((i) => {
        const { only, part } = tasks[i]!;
        return [i, read({ config, stateDir: state.dir, only, ...(part ? { part } : {}) })];
      }),
    );
    const settled = await Promise.allSettled(tasks.map((_, i) => started.get(i)!));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    parts = settled.map((r) => (r as PromiseFulfilledResult<ReadPart>).value);
  } else parts = [await readPart(source, config, state.dir, files, opts.log)];
  const rejects = parts.flatMap((p) => p.rejects);
  const rows = parts.reduce((k, p) => k + p.rows, 0);
  const changed: string[] = [];
  const pending = new Map<string, ShardRecord>();
  let problems = 0;
  let superseded = 0;
  for (const shard of shardIds(count)) {
    const segs = parts.flatMap((p) => {
      const x = p.shards.get(shard);
      return x ? [x] : [];
    });
    const prev = await state.record(READ, shard);
    // Each problem's row hashes in row order: the parts' in input order.
    const merged = new Map<string, string>();
    for (const x of segs) for (const [id, h] of x.hashes) merged.set(id, (merged.get(id) ?? '') + h);
    const fps: Record<string, string> = {};
    for (const [id, hs] of merged) fps[id] = hash('sha1', hs, 'hex').slice(0, 20);
    problems += merged.size;
    const fp = shardFingerprint(fps);
    const drop = async () => {
      for (const x of segs) await rm(join(state.dir, 'tables', 'raw', shard, x.file), { force: true });
    };
    if (prev?.fingerprint === fp && segs.length) {
      await drop();
      continue;
    }
    if (!segs.length && !prev) continue;
    changed.push(shard);
    if (opts.dryRun) {
      await drop();
      pending.set(shard, {
        stage: READ,
        shard,
        fingerprint: fp,
        problems: fps,
        tables: {},
        stats: {},
        run_id: opts.runId,
        finished_at: '',
      });
      continue;
    }
    superseded += prev?.tables.raw?.length ?? 0;
    const refs: SegmentRef[] = segs.map((x) => ({
      file: x.file,
      rows: x.rows,
      written: x.hashes.size,
      live: x.rows,
      problems: [...x.hashes.keys()],
    }));
    const total = segs.reduce((k, x) => k + x.rows, 0);
    const rec: ShardRecord = {
      stage: READ,
      shard,
      fingerprint: fp,
      problems: fps,
      tables: { raw: refs },
      stats: { rows: total, problems: merged.size },
      run_id: opts.runId,
      finished_at: new Date().toISOString(),
    };
    if (segs.length) await state.writeRecord(rec);
    else await state.dropRecord(READ, shard);
  }
  return {
    rows,
    problems,
    changed,
    rejects,
    superseded,
    seconds: (performance.now() - t0) / 1000,
    ...(opts.dryRun ? { pending } : {}),
  };
}
