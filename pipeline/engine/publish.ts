/**
 * @module pipeline/engine/publish
 * Snapshots: one complete, consistent set of a run's outputs. Publishing writes every dataset's
 * Parquet parts (ZSTD) from the emit stage's rows of all shards, the cards, the repository card,
 * calibration, rejects and the report into `snapshots/<id>.tmp`, renames it into place, then
 * moves `latest` in one rename and keeps the last N snapshots. A reader who resolves `latest`
 * sees one snapshot whole; a kill at any moment leaves `latest` on a complete snapshot.
 * A dataset's parts each hold the rows of consecutive shards (about `emit.rows_per_part`), sorted
 * by problem and path within the part. A new snapshot reuses its parent's parts whose problems all
 * kept their fingerprints (hard links: no byte is rewritten), and writes the rows of new and changed
 * problems, and of the parts it could not reuse, into new parts; when small parts pile up (eight or
 * more under half of `rows_per_part`) they are merged. `.parts.json` says which problems each part
 * holds. So a nightly run that adds 1% of problems writes about 1% of the rows.
 * Memory: DuckDB sorts one part at a time under its memory limit; JS holds the records' segment
 * lists and one fingerprint per problem.
 */
import { releaseHeap } from './heap.ts';
import { existsSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../schemas/config.ts';
import type { Shape, Table } from '../../schemas/define.ts';
import { STATE_TABLES, type StateTableName } from '../../schemas/state.ts';
import { rejects as rejectsTable } from '../../schemas/rejects.ts';
import { sqlString, Store, type DuckDbLimits } from '../io/store.ts';
import type { RunState, ShardRecord } from '../io/state.ts';
import { fingerprint } from './shards.ts';

export interface DatasetInfo {
  name: StateTableName;
  /** The stage whose records list the dataset's rows. */
  writer: string;
  title: string;
  summary: string;
  trl: string;
  candidates: number;
  dropped: Record<string, number>;
}

/** What a snapshot says of itself (`snapshot.json`). */
export interface SnapshotInfo {
  id: string;
  parent: string | null;
  run_id: string;
  created_at: string;
  /** Fingerprint of everything published: equal means the outputs did not change. */
  content: string;
  datasets: Record<string, { rows: number; added: number; removed: number; files: string[] }>;
  simulated: boolean;
}

export interface PublishInput {
  runDir: string;
  state: RunState;
  config: Config;
  runId: string;
  datasets: readonly DatasetInfo[];
  /** Files written by run stages (calibration.json, report/index.html), relative to the snapshot. */
  files: Record<string, string>;
  /** Rejected input rows that belong to no problem. */
  inputRejects: readonly Record<string, unknown>[];
  /** Stages whose rejects are published. */
  stages: readonly string[];
  simulated: boolean;
  limits: DuckDbLimits;
  /** Writes each dataset's card and the repository card into the new snapshot folder. */
  cards(
    dir: string,
    snapshot: Pick<SnapshotInfo, 'id' | 'parent'>,
    rows: Record<string, number>,
    textOnly: boolean,
  ): Promise<void>;
  log: (line: string) => void;
  /** The content fingerprint when the caller already computed it (`outputFingerprint` over the same records). */
  content?: string;
}

const SNAPSHOTS = 'snapshots';

/** The largest state row publish reads (16 MiB, DuckDB's default). */
const MAX_ROW_BYTES = 16 << 20;
/**
 * JSON bytes of state rows a published part holds at most, besides `emit.rows_per_part` rows:
 * DuckDB sorts one part at a time and holds more than its memory limit for large rows (at 1M
 * paths, parts of 96k step pairs, 138 MB of JSON, took the run's peak RSS to 1.55-1.70 GB; parts
 * of 32 MB, 1.09-1.20 GB in the same publish time).
 */
const PART_BYTES = 32 << 20;

/** The snapshot `latest` names, or null. */
export async function latestSnapshot(runDir: string): Promise<SnapshotInfo | null> {
  try {
    const target = await readlink(join(runDir, 'latest'));
    return JSON.parse(await readFile(join(runDir, target, 'snapshot.json'), 'utf8')) as SnapshotInfo;
  } catch {
    return null;
  }
}

/** Every complete snapshot of a run, oldest first. */
export async function listSnapshots(runDir: string): Promise<SnapshotInfo[]> {
  const dir = join(runDir, SNAPSHOTS);
  if (!existsSync(dir)) return [];
  const out: SnapshotInfo[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.includes('.')) continue;
    try {
      out.push(JSON.parse(await readFile(join(dir, name, 'snapshot.json'), 'utf8')) as SnapshotInfo);
    } catch {
      // a folder without snapshot.json is not a snapshot (never renamed into place whole)
    }
  }
  return out;
}

/** Removes what a killed publish left: half-written `.tmp` folders and half-deleted `.trash` folders. */
export async function cleanSnapshots(runDir: string): Promise<void> {
  const dir = join(runDir, SNAPSHOTS);
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir))
    if (name.includes('.tmp-') || name.includes('.trash-')) await rm(join(dir, name), { recursive: true, force: true });
}

type SegmentFiles = { full: string[]; partial: { file: string; problems: string[] }[] };

/** Segment files of a table over every shard, split into fully live ones and (file, live problems) of the rest. */
async function segmentFiles(
  state: RunState,
  writer: string,
  table: StateTableName,
  dirName: string = table,
  only?: ReadonlySet<string>,
): Promise<SegmentFiles> {
  const all: SegmentFiles = { full: [], partial: [] };
  for (const g of (await segmentIndex(state, writer, [table], dirName, only))[table]!) {
    all.full.push(...g.files.full);
    all.partial.push(...g.files.partial);
  }
  return all;
}

/** One shard's segments of a table, and how many live rows they hold. */
export type ShardSegments = { shard: string; rows: number; bytes: number; files: SegmentFiles; problems: string[] };

/**
 * Per table, each shard's segments (in shard order) for several tables of one writer, in one pass
 * over its records; with `only`, just the rows of those problems.
 */
async function segmentIndex(
  state: RunState,
  writer: string,
  tables: readonly StateTableName[],
  dirName?: string,
  only?: ReadonlySet<string>,
): Promise<Record<string, ShardSegments[]>> {
  const out: Record<string, ShardSegments[]> = Object.fromEntries(tables.map((t) => [t, []]));
  for (const rec of (await state.records(writer)).values()) {
    for (const table of tables) {
      const files: SegmentFiles = { full: [], partial: [] };
      const ids: string[] = [];
      let rows = 0;
      let bytes = 0;
      for (const seg of rec.tables[table] ?? []) {
        const file = state.segmentPath(dirName ?? table, rec.shard, seg);
        // A segment lists the problems that have rows in it.
        const problems = only ? seg.problems.filter((p) => only.has(p)) : seg.problems;
        if (problems.length === 0) continue;
        for (const p of problems) ids.push(p);
        rows += Math.round((seg.live * problems.length) / seg.problems.length);
        bytes += Math.round((fileSize(file) * problems.length) / Math.max(1, seg.written));
        if (problems.length === seg.written) files.full.push(file);
        else files.partial.push({ file, problems });
      }
      if (files.full.length || files.partial.length)
        out[table]!.push({ shard: rec.shard, rows, bytes, files, problems: ids });
    }
  }
  return out;
}

/** The segments one published part is written from, the problems they hold and their JSON bytes. */
type PartSources = SegmentFiles & { problems: string[]; bytes: number };

/** Consecutive shards grouped into parts of about `rows` live rows each, or PART_BYTES of JSON (a shard is never split). */
export function partsOf(shards: readonly ShardSegments[], rows: number): PartSources[] {
  const parts: PartSources[] = [];
  let cur: PartSources | null = null;
  let n = 0;
  for (const s of shards) {
    if (!cur || n >= rows || cur.bytes >= PART_BYTES) {
      cur = { full: [], partial: [], problems: [], bytes: 0 };
      parts.push(cur);
      n = 0;
    }
    cur.full.push(...s.files.full);
    cur.partial.push(...s.files.partial);
    for (const p of s.problems) cur.problems.push(p);
    n += s.rows;
    cur.bytes += s.bytes;
  }
  return parts;
}

/** Bytes of a state file (0 when it is gone). */
const fileSize = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** A SELECT over the live rows of JSON-lines segments, typed by a table declaration. */
async function liveRows(
  store: Store,
  table: Table<Shape>,
  files: Awaited<ReturnType<typeof segmentFiles>>,
  tag: string,
): Promise<string | null> {
  const cols = table.columns.map((c) => `"${c}"`).join(', ');
  // One row a line; DuckDB's reader keeps buffers of twice the largest object per thread, so the
  // bound is what a row can hold (a question is at most 64 KiB, a path a model's reply), not more.
  const json = (list: string[], extra = '') =>
    `read_json([${list.map(sqlString).join(', ')}], format = 'newline_delimited', columns = ${table.jsonColumns()}, maximum_object_size = ${MAX_ROW_BYTES}${extra})`;
  const parts: string[] = [];
  if (files.full.length) parts.push(`SELECT ${cols} FROM ${json(files.full)}`);
  if (files.partial.length) {
    await store.run(`CREATE OR REPLACE TEMP TABLE live_${tag} (filename VARCHAR, problem_id VARCHAR)`);
    const values = files.partial.flatMap((p) => p.problems.map((id) => `(${sqlString(p.file)}, ${sqlString(id)})`));
    for (let i = 0; i < values.length; i += 1000)
      await store.run(`INSERT INTO live_${tag} VALUES ${values.slice(i, i + 1000).join(', ')}`);
    parts.push(
      `SELECT ${cols} FROM ${json(
        files.partial.map((p) => p.file),
        ', filename = true',
      )} j WHERE EXISTS (SELECT 1 FROM live_${tag} l WHERE l.filename = j.filename AND l.problem_id = j.problem_id)`,
    );
  }
  return parts.length ? parts.join(' UNION ALL ') : null;
}

/**
 * The content fingerprint of what a publish would write: the emit records of every shard, every
 * stage's rejects, the calibration's record and the emit settings (the report is derived from the
 * same rows and is left out). Equal to the latest snapshot's means nothing changed.
 */
export async function outputFingerprint(
  input: Pick<PublishInput, 'state' | 'config' | 'datasets' | 'stages' | 'inputRejects'>,
): Promise<string> {
  const parts: unknown[] = [input.config.emit, input.inputRejects.length];
  for (const w of [...new Set([...input.datasets.map((d) => d.writer), ...input.stages])]) {
    const recs = await input.state.records(w);
    parts.push(
      w,
      [...recs.values()].map((r) => [r.shard, r.fingerprint]),
    );
  }
  parts.push((await input.state.record('calibrate', 'run'))?.fingerprint ?? null);
  return fingerprint(parts);
}

/** The snapshot a publish at `now` would make: its id and parent, or `unchanged` when latest holds these outputs. */
export async function nextSnapshot(
  input: Pick<PublishInput, 'runDir' | 'state' | 'config' | 'datasets' | 'stages' | 'inputRejects' | 'content'>,
  now: Date,
): Promise<{ id: string; parent: string | null; content: string; unchanged: boolean }> {
  const content = input.content ?? (await outputFingerprint(input));
  const parent = await latestSnapshot(input.runDir);
  if (parent?.content === content) return { id: parent.id, parent: parent.parent, content, unchanged: true };
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return { id: `${stamp}-${content.slice(0, 6)}`, parent: parent?.id ?? null, content, unchanged: false };
}

/** Publishes a new snapshot when the outputs changed; returns it, or null when `latest` already holds these outputs. */
export async function publish(input: PublishInput, now = new Date()): Promise<SnapshotInfo | null> {
  const next = await nextSnapshot(input, now);
  if (next.unchanged) return null;
  const { id, content } = next;
  const t0 = performance.now();
  const secs = (t: number) => ((performance.now() - t) / 1000).toFixed(1);
  const parent = next.parent === null ? null : { id: next.parent };
  const root = join(input.runDir, SNAPSHOTS);
  const tmp = join(root, `${id}.tmp-${randomUUID().slice(0, 6)}`);
  await mkdir(tmp, { recursive: true });
  const openStore = () => Store.open(':memory:', join(input.state.dir, '.scratch'), input.limits);
  let store = await openStore();
  let wroteRows = 0;
  const datasets: SnapshotInfo['datasets'] = {};
  const rows: Record<string, number> = {};
  let textOnly = true;
  const parentDir = parent ? join(root, parent.id) : null;
  const before = parentDir ? await readPartsIndex(parentDir) : null;
  const index: PartsIndex = { version: PARTS_VERSION, layout: '', images: [], writers: {}, datasets: {} };
  try {
    for (const w of new Set(input.datasets.map((d) => d.writer)))
      index.writers[w] = problemFingerprints(await input.state.records(w));
    // Problems with images: the parent's whose results did not change (a problem's images are
    // upstream of every writer's fingerprint), and those of the others, read again.
    const ingestRecs = await input.state.records('ingest');
    const ingestNow = problemFingerprints(ingestRecs);
    const w0 = input.datasets[0]?.writer;
    const resultNow = w0 ? index.writers[w0]! : {};
    const resultBefore = (w0 && before?.writers[w0]) || {};
    const changedIngest = new Set(
      Object.keys(ingestNow).filter((p) => resultNow[p] === undefined || resultNow[p] !== resultBefore[p]),
    );
    // Only shards whose ingest counted problems with images (or did not count them) are read.
    const unsure = new Set<string>();
    for (const r of ingestRecs.values())
      if (r.stats.with_images !== 0) for (const p of Object.keys(r.problems)) if (changedIngest.has(p)) unsure.add(p);
    const problems = unsure.size
      ? await liveRows(
          store,
          STATE_TABLES.problems as unknown as Table<Shape>,
          await segmentFiles(input.state, 'ingest', 'problems', 'problems', unsure),
          'p',
        )
      : null;
    const imaged = problems
      ? (await store.query<{ id: string }>(`SELECT problem_id AS id FROM (${problems}) WHERE len(images) > 0`)).map(
          (r) => r.id,
        )
      : [];
    index.images = [
      ...(before?.images ?? []).filter((p) => ingestNow[p] !== undefined && !changedIngest.has(p)),
      ...imaged,
    ].sort();
    // TRL treats any `images` column as a vision dataset: a text-only run publishes none.
    textOnly = index.images.length === 0;
    const perPart = input.config.emit.rows_per_part;
    index.layout = fingerprint([
      PARTS_VERSION,
      textOnly,
      perPart,
      PART_BYTES,
      input.datasets.map((d) => [d.name, (STATE_TABLES[d.name] as unknown as Table<Shape>).shape]),
    ]);
    // Parts are reused only from a parent written the same way.
    const reuse = before?.layout === index.layout ? before : null;
    for (const d of input.datasets) {
      // After a large dataset, a new database: what DuckDB held for it (buffers, its allocator's
      // caches) is given back; the last dataset's segment lists go with the heap.
      if (wroteRows >= input.config.emit.rows_per_part) {
        store.close();
        store = await openStore();
        wroteRows = 0;
        releaseHeap();
      }
      const td = performance.now();
      const table = STATE_TABLES[d.name] as unknown as Table<Shape>;
      const cols = table.columns.filter((c) => !(textOnly && c === 'images'));
      const order = ['problem_id', 'path_id', 'chosen_path_id', 'id']
        .filter((c) => table.columns.includes(c))
        .map((c) => `"${c}"`);
      const now = index.writers[d.writer]!;
      const then = reuse?.writers[d.writer] ?? {};
      const same = (p: string) => now[p] !== undefined && now[p] === then[p];
      const old = reuse?.datasets[d.name] ?? [];
      let kept = old.filter((part) => part.rows > 0 && idsOf(part).every(same));
      const small = kept.filter((part) => part.rows < perPart / 2 && (part.bytes ?? 0) < PART_BYTES / 2);
      if (small.length >= MAX_SMALL_PARTS) kept = kept.filter((part) => !small.includes(part));
      const dropped = old.filter((part) => !kept.includes(part));
      // Rows to write: new and changed problems, and the unchanged ones of parts not kept.
      const write = new Set(Object.keys(now).filter((p) => !same(p)));
      for (const part of dropped) for (const p of idsOf(part)) if (now[p] !== undefined) write.add(p);
      const segs = (await segmentIndex(input.state, d.writer, [d.name], undefined, write))[d.name]!;
      // One part per group of consecutive shards (about emit.rows_per_part rows, or PART_BYTES of
      // JSON when rows are large), sorted within the part: the order is fixed by the rows alone,
      // and a sort never holds more than one part.
      const sources: string[] = [];
      const held: { problems: string[]; bytes: number }[] = [];
      for (const [i, part] of partsOf(segs, perPart).entries()) {
        const select = await liveRows(store, table, part, `${d.name}_${i}`);
        if (!select) continue;
        sources.push(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM (${select}) ORDER BY ${order.join(', ')}`);
        held.push(part);
      }
      if (sources.length === 0 && kept.length === 0)
        sources.push(`SELECT ${cols.map((c) => `CAST(NULL AS ${table.shape[c]!.sql}) AS "${c}"`).join(', ')} LIMIT 0`);
      const dir = join(tmp, d.name);
      await mkdir(dir, { recursive: true });
      for (const part of kept) await linkOrCopy(join(parentDir!, d.name, part.file), join(dir, part.file));
      const first = Math.max(-1, ...old.map((part) => partNumber(part.file))) + 1;
      const written = await store.writeParquetParts(sources, dir, first);
      const made: PartInfo[] = [];
      for (const [i, f] of written.entries()) {
        const n = await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(f)})`);
        made.push({
          file: f.slice(dir.length + 1),
          rows: n[0]!.n,
          bytes: held[i]?.bytes ?? 0,
          problems: (held[i]?.problems ?? []).sort().join('\n'),
        });
      }
      wroteRows += made.reduce((k, part) => k + part.rows, 0);
      const parts = [...kept, ...made].sort((a, b) => partNumber(a.file) - partNumber(b.file));
      index.datasets[d.name] = parts;
      const n = parts.reduce((k, part) => k + part.rows, 0);
      rows[d.name] = n;
      // Kept parts are the same on both sides: only the parts written and the parts dropped differ.
      const diff = !parentDir
        ? { added: n, removed: 0 }
        : reuse
          ? await rowDiff(
              store,
              written,
              dropped.map((part) => join(parentDir, d.name, part.file)),
            )
          : await rowDiff(store, [join(dir, '*.parquet')], [join(parentDir, d.name, '*.parquet')]);
      const files = parts.map((part) => `${d.name}/${part.file}`);
      datasets[d.name] = { rows: n, ...diff, files };
      await writeFile(
        join(dir, 'stats.json'),
        `${JSON.stringify({ rows: n, candidates: d.candidates, dropped: d.dropped, files }, null, 2)}\n`,
      );
      input.log(
        `publish: ${d.name} ${n} rows in ${parts.length} part(s), ${written.length} written, ${kept.length} kept (${secs(td)} s)`,
      );
    }
    await writeRejects(store, input, join(tmp, 'rejects.parquet'));
  } finally {
    store.close();
  }
  for (const [rel, text] of Object.entries(input.files)) {
    await mkdir(join(tmp, rel, '..'), { recursive: true });
    await writeFile(join(tmp, rel), text);
  }
  const info: SnapshotInfo = {
    id,
    parent: parent?.id ?? null,
    run_id: input.runId,
    created_at: now.toISOString(),
    content,
    datasets,
    simulated: input.simulated,
  };
  await input.cards(tmp, info, rows, textOnly);
  await writeFile(join(tmp, PARTS_FILE), JSON.stringify(index));
  // snapshot.json last: a folder without it is not a snapshot.
  await writeFile(join(tmp, 'snapshot.json'), `${JSON.stringify(info, null, 2)}\n`);
  await rename(tmp, join(root, id));
  await pointLatest(input.runDir, join(SNAPSHOTS, id));
  await prune(input.runDir, input.config.engine.keep_snapshots, id);
  input.log(`publish: snapshot ${id} (${secs(t0)} s)`);
  return info;
}

/** Which problems each part of a snapshot holds (`.parts.json`): what the next publish reuses. */
interface PartInfo {
  file: string;
  rows: number;
  /** JSON bytes of the state rows it was written from (PART_BYTES bounds them); absent in parts of earlier versions. */
  bytes?: number;
  /** Its problem ids, one a line (one string: a million-path run holds a few, not a million). */
  problems: string;
}

const idsOf = (part: PartInfo): string[] => (part.problems === '' ? [] : part.problems.split('\n'));

interface PartsIndex {
  version: 2;
  /** Fingerprint of how parts are written (columns and types, text-only, rows per part): another layout reuses nothing. */
  layout: string;
  /** Problems that have images (so text-only is decided without reading every problem again). */
  images: string[];
  /** Per writer stage, each problem's fingerprint when the snapshot was published. */
  writers: Record<string, Record<string, string>>;
  datasets: Record<string, PartInfo[]>;
}

const PARTS_FILE = '.parts.json';
const PARTS_VERSION = 2;
/** Small parts (under half of rows_per_part) a snapshot may hold before they are merged. */
const MAX_SMALL_PARTS = 8;

/** A snapshot's parts index, or null (an older snapshot, or one unreadable: then every part is written anew). */
async function readPartsIndex(dir: string): Promise<PartsIndex | null> {
  try {
    const v = JSON.parse(await readFile(join(dir, PARTS_FILE), 'utf8')) as PartsIndex;
    return v.version === PARTS_VERSION && typeof v.layout === 'string' && v.datasets && v.writers ? v : null;
  } catch {
    return null;
  }
}

/** Every problem's fingerprint in a stage's records. */
function problemFingerprints(recs: ReadonlyMap<string, ShardRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of recs.values()) Object.assign(out, r.problems);
  return out;
}

/** The number in `part-<n>.parquet`. */
function partNumber(file: string): number {
  return Number(/^part-(\d+)\.parquet$/.exec(file)?.[1] ?? -1);
}

/** A hard link to a part of the parent snapshot (the same bytes, none rewritten); a copy where links fail. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/** Rows added and removed between two snapshots of a dataset (as multisets of whole rows). */
async function rowDiff(
  store: Store,
  nowFiles: readonly string[],
  beforeFiles: readonly string[],
): Promise<{ added: number; removed: number }> {
  const list = (fs: readonly string[]) => `[${fs.map(sqlString).join(', ')}]`;
  const now = list(nowFiles);
  if (beforeFiles.length === 0 || nowFiles.length === 0) {
    const count = async (fs: readonly string[]) =>
      fs.length
        ? (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${list(fs)})`))[0]!.n
        : 0;
    return { added: await count(nowFiles), removed: await count(beforeFiles).catch(() => 0) };
  }
  try {
    const before = list(beforeFiles);
    const r = await store.query<{ added: number; removed: number }>(
      `WITH a AS (SELECT hash(t) AS h FROM read_parquet(${now}) t), b AS (SELECT hash(t) AS h FROM read_parquet(${before}) t)
       SELECT (SELECT count(*) FROM (SELECT h FROM a EXCEPT ALL SELECT h FROM b))::INTEGER AS added,
              (SELECT count(*) FROM (SELECT h FROM b EXCEPT ALL SELECT h FROM a))::INTEGER AS removed`,
    );
    return r[0]!;
  } catch {
    const n = (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${now})`))[0]!.n;
    return { added: n, removed: 0 };
  }
}

/** All rejects of the run (every stage's, and input rows without a problem) as one Parquet file. */
async function writeRejects(store: Store, input: PublishInput, file: string): Promise<void> {
  const table = rejectsTable as unknown as Table<Shape>;
  const withId = STATE_TABLES.rejects as unknown as Table<Shape>;
  const parts: string[] = [];
  for (const s of input.stages) {
    const sel = await liveRows(store, withId, await segmentFiles(input.state, s, 'rejects', `rejects.${s}`), `r_${s}`);
    if (sel) parts.push(`SELECT ${table.columns.map((c) => `"${c}"`).join(', ')} FROM (${sel})`);
  }
  if (input.inputRejects.length) {
    const f = join(input.state.dir, '.scratch', `input-rejects-${randomUUID().slice(0, 8)}.jsonl`);
    await mkdir(join(input.state.dir, '.scratch'), { recursive: true });
    await writeFile(f, input.inputRejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
    parts.push(
      `SELECT * FROM read_json(${sqlString(f)}, format = 'newline_delimited', columns = ${table.jsonColumns()})`,
    );
  }
  const source = parts.length
    ? `SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY stage, source, item`
    : `SELECT ${table.columns.map((c) => `CAST(NULL AS ${table.shape[c]!.sql}) AS "${c}"`).join(', ')} LIMIT 0`;
  await store.writeParquetFile(source, file);
}

/** Moves `latest` to `target` in one rename of a new symlink over the old one. */
async function pointLatest(runDir: string, target: string): Promise<void> {
  const tmp = join(runDir, `latest.tmp-${randomUUID().slice(0, 6)}`);
  await symlink(target, tmp);
  await rename(tmp, join(runDir, 'latest'));
}

/** Keeps the newest `keep` snapshots (and always the current one); an old one is renamed away, then deleted. */
async function prune(runDir: string, keep: number, current: string): Promise<void> {
  const all = (await listSnapshots(runDir)).map((s) => s.id);
  const drop = all.slice(0, Math.max(0, all.length - keep)).filter((id) => id !== current);
  for (const id of drop) {
    const dir = join(runDir, SNAPSHOTS, id);
    const trash = `${dir}.trash-${randomUUID().slice(0, 6)}`;
    await rename(dir, trash);
    await rm(trash, { recursive: true, force: true });
  }
}
