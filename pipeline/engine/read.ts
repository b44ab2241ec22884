/**
 * @module pipeline/engine/read
 * The first step of a run: stream every input through the stages' source and put each row in
 * the shard of its problem (a hash of `problem_id`), as JSON lines written while reading. Each
 * problem gets a fingerprint of its raw rows; a shard whose fingerprints did not change keeps its
 * previous rows, so ingest (and everything after it) has nothing to do there.
 * Memory: one open file, a buffer of up to 320 KiB and one fingerprint list per shard (160 MiB in all at
 * most), and a short hash per row.
 */
import { hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../schemas/config.ts';
import type { Reject } from '../../schemas/index.ts';
import type { RawItem } from '../../schemas/state.ts';
import type { InputSource } from '../../stages/lib/stage.ts';
import type { FilesPort, Log } from '../../stages/lib/ports.ts';
import type { RunState, SegmentRef, ShardRecord } from '../io/state.ts';
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

/** Bytes of lines a shard's buffer holds before they are written: 64 KiB, less with many shards (32 MiB in all at most). */
const blockFor = (shards: number) => Math.max(4096, Math.min(1 << 16, Math.floor((32 << 20) / shards)));

/** Hands the buffered lines to the stream; waits only when the stream holds four blocks not yet on disk. */
async function flush(b: Bucket): Promise<void> {
  if (b.buf.length === 0) return;
  const text = `${b.buf.join('\n')}\n`;
  b.buf = [];
  b.bytes = 0;
  if (!b.out.write(text)) await once(b.out, 'drain');
}

/** Reads all inputs into per-shard raw segments and writes the reader's records. */
export async function readInputs(
  source: InputSource,
  config: Config,
  state: RunState,
  files: FilesPort,
  opts: { runId: string; log: Log; dryRun?: boolean },
): Promise<ReadResult> {
  const t0 = performance.now();
  const count = config.engine.shards;
  const block = blockFor(count);
  const buckets = new Map<string, Bucket>();
  const rejects: Reject[] = [];
  let rows = 0;
  const open = async (shard: string): Promise<Bucket> => {
    let b = buckets.get(shard);
    if (b) return b;
    const dir = join(state.dir, 'tables', 'raw', shard);
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
  for await (const it of source.items(config, files, opts.log)) {
    if ('reject' in it) {
      rejects.push(it.reject);
      continue;
    }
    const b = await open(shardOf(it.problem_id, count));
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
  const changed: string[] = [];
  const pending = new Map<string, ShardRecord>();
  let problems = 0;
  for (const shard of shardIds(count)) {
    const b = buckets.get(shard);
    const prev = await state.record(READ, shard);
    const fps: Record<string, string> = {};
    for (const [id, hs] of b?.hashes ?? []) fps[id] = hash('sha1', hs, 'hex').slice(0, 20);
    problems += Object.keys(fps).length;
    const fp = shardFingerprint(fps);
    if (prev?.fingerprint === fp && b) {
      await rm(join(state.dir, 'tables', 'raw', shard, b.file), { force: true });
      continue;
    }
    if (!b && !prev) continue;
    changed.push(shard);
    if (opts.dryRun) {
      if (b) await rm(join(state.dir, 'tables', 'raw', shard, b.file), { force: true });
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
    const seg: SegmentRef | null = b
      ? { file: b.file, rows: b.rows, written: b.hashes.size, live: b.rows, problems: [...b.hashes.keys()] }
      : null;
    const rec: ShardRecord = {
      stage: READ,
      shard,
      fingerprint: fp,
      problems: fps,
      tables: { raw: seg ? [seg] : [] },
      stats: { rows: b?.rows ?? 0, problems: b?.hashes.size ?? 0 },
      run_id: opts.runId,
      finished_at: new Date().toISOString(),
    };
    if (b) await state.writeRecord(rec);
    else await state.dropRecord(READ, shard);
  }
  return {
    rows,
    problems,
    changed,
    rejects,
    seconds: (performance.now() - t0) / 1000,
    ...(opts.dryRun ? { pending } : {}),
  };
}
