/**
 * @module pipeline/io/state
 * A run's state on disk, shard by shard: each stage's rows for one shard live in segment files
 * (JSON lines, one row per line, every row with its `problem_id`) listed by the stage's record
 * for that shard. A record also holds the fingerprint of every problem the stage computed, so a
 * re-run recomputes only the problems whose inputs or settings changed: it writes one new segment
 * for them and drops the old problems from the segments that held them. A segment file is new
 * under a name no record lists yet, and a record is written only after its segments. A record is
 * overwritten in place and begins with a digest of the rest (`_sum`): a killed run leaves the old
 * record, the new one, or one whose digest fails, which counts as absent (the shard re-runs);
 * never half of one. (Renaming a temporary file over each record was measured at most of a
 * worker's time on a re-run: ext4 flushes a file's data when it replaces another.)
 * Memory: reading a table of one shard holds that shard's rows (or only the problems asked for).
 */
import {
  closeSync,
  createReadStream,
  existsSync,
  ftruncateSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdir, readdir, rename, rm, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { hash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { linesBuffer } from './lines.ts';
import { mapLimit } from '../../stages/lib/pool.ts';

/** One segment file of a table on one shard, and the problems whose rows in it are still live. */
export interface SegmentRef {
  file: string;
  /** Rows written (live and dead). */
  rows: number;
  /** Problems written into the file. */
  written: number;
  /** Rows of the live problems. */
  live: number;
  /** Problems whose rows in this file are live; rows of other problems are skipped on read. */
  problems: string[];
  /** A mergeable summary of the live rows, when the table's stage keeps one. */
  summary?: unknown;
}

/** What one stage did on one shard. */
export interface ShardRecord {
  stage: string;
  shard: string;
  /** Hash of every problem's fingerprint: equal means nothing to do. */
  fingerprint: string;
  /** Fingerprint of each problem the stage's rows stand for. */
  problems: Record<string, string>;
  /** Segments per table written by the stage. */
  tables: Record<string, SegmentRef[]>;
  /** Counts for the manifest (over the shard's live rows). */
  stats: Record<string, unknown>;
  /** Extra state a stage keeps for its own reuse decision (ingest: the hash of the raw input lines). */
  extra?: Record<string, unknown>;
  run_id: string;
  finished_at: string;
}

/** Rows with the key every state table has. */
export interface ProblemKeyed {
  problem_id: string;
}

const MAX_SEGMENTS = 6;
/** JSON bytes of records `records` keeps parsed (about 4x that in memory). */
const RECORD_CACHE_BYTES = 12 << 20;
/** Record files read at once by `records`. */
const RECORDS_AT_ONCE = 16;

/** The state folder of a run: `state/records/<stage>/<shard>.json` and `state/tables/<table>/<shard>/*.jsonl`. */
export class RunState {
  /**
   * Records parsed by `records`, by file, with the identity of the file they came from (inode,
   * size, mtime: an atomic write is a new inode), so the many whole-run passes of one process
   * (totals, summaries, fingerprints, publish) parse each record once. Up to RECORD_CACHE_BYTES: a
   * large run keeps the first records it reads and parses the rest each time.
   */
  private readonly parsed = new Map<string, { id: string; bytes: number; rec: ShardRecord }>();
  private parsedBytes = 0;
  /** Whether a cached record counts as current without a look at its file (see `trust`). */
  private trusting = false;
  /** Record files a job that ran elsewhere may have rewritten since they were cached (see `forget`). */
  private readonly doubted = new Set<string>();

  constructor(readonly dir: string) {}

  /**
   * From now on a cached record counts as current without reading its file's head. Only for the
   * holder of the run's lock: records then change only through this object, or through the jobs
   * it hands to worker threads and processes, whose records it `forget`s as each job ends.
   */
  trust(): void {
    this.trusting = true;
  }

  /** A job that ran in another thread or process may have rewritten this record: the next read checks its file. */
  forget(stage: string, shard: string): void {
    if (this.trusting) this.doubted.add(this.recordFile(stage, shard));
  }

  private recordFile(stage: string, shard: string): string {
    return join(this.dir, 'records', stage, `${shard}.json`);
  }

  private tableDir(table: string, shard: string): string {
    return join(this.dir, 'tables', table, shard);
  }

  /** Every record of a stage, by shard. The records are shared with later calls: read them, never change them. */
  async records(stage: string): Promise<Map<string, ShardRecord>> {
    const dir = join(this.dir, 'records', stage);
    const out = new Map<string, ShardRecord>();
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      return out;
    }
    // Read several at once (file reads wait on the disk, not the CPU); the map keeps shard order.
    const shards = names
      .filter((x) => x.endsWith('.json'))
      .sort()
      .map((n) => n.slice(0, -5));
    const got = await mapLimit(shards, RECORDS_AT_ONCE, (shard) => this.record(stage, shard));
    for (const r of got) if (r) out.set(r.shard, r);
    return out;
  }

  /**
   * The record of a stage on a shard, or null; a record that cannot be read counts as absent (the
   * shard re-runs). Records come through a cache of parsed records keyed by the digest that heads
   * the file (only those bytes are read when it is current), so they are shared with later calls:
   * read them, never change them.
   */
  async record(stage: string, shard: string): Promise<ShardRecord | null> {
    const file = this.recordFile(stage, shard);
    const hit = this.parsed.get(file);
    // A record in the cache: current as it is for the lock's holder, unless a job elsewhere may
    // have written it; else only the head of its file is read, to tell whether it is still current.
    if (hit && this.trusting && !this.doubted.has(file)) return hit.rec;
    if (hit && recordId(file) === hit.id) {
      this.doubted.delete(file);
      return hit.rec;
    }
    let text = readText(file);
    let rec = parseRecord(text);
    // A digest that fails may be a write in progress in another process (a dry run beside a run): once more.
    if (rec === undefined) rec = parseRecord((text = readText(file)));
    if (!rec) return null;
    const id = text.startsWith(SUM_HEAD) ? text.slice(0, SUM_HEAD.length + SUM_LEN) : recordId(file);
    if (id !== null) this.remember(file, id, text.length, rec);
    return rec;
  }

  /** Keeps a parsed record in the cache (in place of the file's earlier one), while the cache has room. */
  private remember(file: string, id: string, bytes: number, rec: ShardRecord): void {
    this.uncache(file);
    if (this.parsedBytes + bytes <= RECORD_CACHE_BYTES) {
      this.parsed.set(file, { id, bytes, rec });
      this.parsedBytes += bytes;
    }
  }

  /**
   * Writes a record (after its segments) in place, behind the digest that `record` checks. State
   * files are written synchronously: they are small and many, and each asynchronous call is a
   * round trip through libuv's four threads, which the main thread and both workers share
   * (measured: most of a worker's time on a re-run was that wait).
   */
  async writeRecord(rec: ShardRecord): Promise<void> {
    const file = this.recordFile(rec.stage, rec.shard);
    const text = recordText(rec);
    inFolder(file, () => overwrite(file, text));
    this.remember(file, text.slice(0, SUM_HEAD.length + SUM_LEN), text.length, rec);
  }

  /** Removes a stage's record of a shard (the shard has no problems any more). */
  async dropRecord(stage: string, shard: string): Promise<void> {
    const file = this.recordFile(stage, shard);
    this.uncache(file);
    rmSync(file, { force: true });
  }

  /** Drops a record file's parsed copy, and any doubt about it. */
  private uncache(file: string): void {
    const old = this.parsed.get(file);
    if (old) {
      this.parsedBytes -= old.bytes;
      this.parsed.delete(file);
    }
    this.doubted.delete(file);
  }

  /** Writes rows as a new segment of `table` on `shard`; the caller lists it in the next record. */
  async writeSegment(
    table: string,
    shard: string,
    rows: readonly ProblemKeyed[],
    summary?: unknown,
  ): Promise<SegmentRef> {
    const file = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}.jsonl`;
    const problems = [...new Set(rows.map((r) => r.problem_id))];
    const chunks: string[] = [];
    for (const r of rows) chunks.push(JSON.stringify(r));
    // A fresh name no record lists yet, written once and never renamed: a record lists the file
    // only after this returns, and a killed write leaves an unlisted file that the garbage
    // collection deletes.
    const path = join(this.tableDir(table, shard), file);
    const bytes = linesBuffer(chunks);
    inFolder(path, () => writeFileSync(path, bytes, { flag: 'wx' }));
    return {
      file,
      rows: rows.length,
      written: problems.length,
      live: rows.length,
      problems,
      ...(summary === undefined ? {} : { summary }),
    };
  }

  /** The path of a segment file, for readers outside this module (DuckDB at publish). */
  segmentPath(table: string, shard: string, seg: SegmentRef): string {
    return join(this.tableDir(table, shard), seg.file);
  }

  /**
   * Reads the live rows of `segments`; with `only`, just the rows of those problems (segments
   * holding none of them are not opened).
   */
  async readRows<T extends ProblemKeyed>(
    table: string,
    shard: string,
    segments: readonly SegmentRef[],
    only?: ReadonlySet<string>,
  ): Promise<T[]> {
    const out: T[] = [];
    for (const seg of segments) {
      const live = new Set(only ? seg.problems.filter((p) => only.has(p)) : seg.problems);
      if (live.size === 0) continue;
      // Lines are cut on the bytes and decoded one by one: one line beyond Latin-1 would make a
      // decoded whole file a two-byte string, which every later slice and parse pays for.
      const buf = readFileSync(this.segmentPath(table, shard, seg));
      let at = 0;
      while (at < buf.length) {
        let end = buf.indexOf(0x0a, at);
        if (end < 0) end = buf.length;
        if (end > at) {
          const row = JSON.parse(buf.toString('utf8', at, end)) as T;
          if (live.has(row.problem_id)) out.push(row);
        }
        at = end + 1;
      }
    }
    return out;
  }

  /** Every live row of a table over all shards (for tests and small runs: memory grows with the run). */
  async allRows<T extends ProblemKeyed>(writer: string, table: string): Promise<T[]> {
    const out: T[] = [];
    for (const rec of (await this.records(writer)).values()) {
      const dir = table === 'rejects' ? `rejects.${writer}` : table;
      for (const r of await this.readRows<T>(dir, rec.shard, rec.tables[table] ?? [])) out.push(r);
    }
    return out;
  }

  /** Streams the live rows of segments, for tables too large to hold (a whole run's outputs). */
  async *streamRows<T extends ProblemKeyed>(
    table: string,
    shard: string,
    segments: readonly SegmentRef[],
  ): AsyncIterable<T> {
    for (const seg of segments) {
      const live = new Set(seg.problems);
      if (live.size === 0) continue;
      const lines = createInterface({
        input: createReadStream(this.segmentPath(table, shard, seg)),
        crlfDelay: Infinity,
      });
      for await (const line of lines) {
        if (!line) continue;
        const row = JSON.parse(line) as T;
        if (live.has(row.problem_id)) yield row;
      }
    }
  }

  /**
   * The segments of a table after a shard's update: `dead` problems (recomputed or removed) leave
   * the old segments, `added` is the new segment. When too many segments or too many dead rows
   * pile up, the live rows are rewritten into one segment (compaction), summarised again by `summarize`.
   */
  async nextSegments(
    table: string,
    shard: string,
    old: readonly SegmentRef[],
    dead: ReadonlySet<string>,
    added: SegmentRef | null,
    summarize?: (rows: ProblemKeyed[]) => unknown,
  ): Promise<SegmentRef[]> {
    const kept: SegmentRef[] = [];
    for (const seg of old) {
      const problems = seg.problems.filter((p) => !dead.has(p));
      if (problems.length === 0) continue;
      if (problems.length === seg.problems.length) kept.push(seg);
      else {
        // Some problems left this segment: its live count and summary no longer match its rows.
        const ref: SegmentRef = { file: seg.file, rows: seg.rows, written: seg.written, live: 0, problems };
        const rows = await this.readRows(table, shard, [ref]);
        ref.live = rows.length;
        if (summarize) ref.summary = summarize(rows);
        kept.push(ref);
      }
    }
    if (added && added.rows > 0) kept.push(added);
    const written = kept.reduce((n, s) => n + s.written, 0);
    const live = kept.reduce((n, s) => n + s.problems.length, 0);
    if (kept.length <= MAX_SEGMENTS && live >= written / 2) return kept;
    const rows = await this.readRows(table, shard, kept);
    return rows.length ? [await this.writeSegment(table, shard, rows, summarize?.(rows))] : [];
  }

  /** Deletes segment files no record lists (left by a killed run or replaced by compaction). */
  async collectGarbage(listed: ReadonlySet<string>): Promise<number> {
    const root = join(this.dir, 'tables');
    if (!existsSync(root)) return 0;
    let removed = 0;
    for (const table of await readdir(root)) {
      const shards = await readdir(join(root, table)).catch(() => [] as string[]);
      // Several folders at once: each listing waits on the disk, not the CPU.
      await mapLimit(shards, RECORDS_AT_ONCE, async (shard) => {
        const dir = join(root, table, shard);
        for (const f of await readdir(dir).catch(() => [] as string[])) {
          if (!listed.has(join(table, shard, f))) {
            await rm(join(dir, f), { force: true });
            removed++;
          }
        }
      });
    }
    return removed;
  }
}

/** Writes a file beside its place and renames it in. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomUUID().slice(0, 8)}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** The digest that heads a record file: `{"_sum":"<32 hex>",` then the record's JSON from its second character. */
const SUM_HEAD = '{"_sum":"';
const SUM_LEN = 32;
const digest = (body: string) => hash('sha256', body, 'hex').slice(0, SUM_LEN);

/** A record's file text: its JSON, headed by the digest of that JSON. */
export function recordText(rec: ShardRecord): string {
  const body = JSON.stringify(rec);
  return `${SUM_HEAD}${digest(body)}",${body.slice(1)}`;
}

/**
 * A record from its file text: null when it cannot be read, undefined when its digest fails (a
 * write cut short, or one in progress). Text without a digest is a record of an earlier version,
 * written by renaming (never in place), read as it is.
 */
export function parseRecord(text: string): ShardRecord | null | undefined {
  if (!text.startsWith(SUM_HEAD)) {
    try {
      return JSON.parse(text) as ShardRecord;
    } catch {
      return null;
    }
  }
  const at = SUM_HEAD.length + SUM_LEN;
  const body = `{${text.slice(at + 2)}`;
  if (text.slice(at, at + 2) !== '",' || digest(body) !== text.slice(SUM_HEAD.length, at)) return undefined;
  try {
    return JSON.parse(body) as ShardRecord;
  } catch {
    return null;
  }
}

/**
 * What identifies a record file's content: its digest head, read alone; for a record of an
 * earlier version (no digest), its inode, size and mtime. Null when there is no file.
 */
function recordId(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(SUM_HEAD.length + SUM_LEN);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.toString('utf8', 0, n);
    if (n === head.length && text.startsWith(SUM_HEAD)) return text;
    const st = fstatSync(fd, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } finally {
    closeSync(fd);
  }
}

/** Runs a write of `file`; where its folder does not exist yet, makes it and writes again. */
function inFolder(file: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dirname(file), { recursive: true });
    write();
  }
}

const readText = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/**
 * Overwrites a file in place: the new bytes from the start, then the file cut to their length.
 * No truncation to zero first and no rename, the two cases where ext4 flushes the data at once.
 */
function overwrite(file: string, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    fd = openSync(file, 'w');
  }
  try {
    for (let at = 0; at < buf.length;) at += writeSync(fd, buf, at, buf.length - at, at);
    if (fstatSync(fd).size !== buf.length) ftruncateSync(fd, buf.length);
  } finally {
    closeSync(fd);
  }
}
