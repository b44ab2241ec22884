/**
 * @module pipeline/engine/job
 * One stage on one shard: work out each problem's fingerprint (the stage's config slice, its
 * version, its upstream fingerprints and the run-stage results it uses), run the stage on the
 * problems whose fingerprint changed, and record the result. Unchanged problems keep their rows;
 * removed problems leave the stage's tables. The same function runs in the main thread and in
 * worker threads. Memory: the rows of the shard's changed problems, for the tables the stage reads.
 */
import type { Config } from '../../schemas/config.ts';
import type { Problem } from '../../schemas/index.ts';
import type { StateTableName } from '../../schemas/state.ts';
import type { ProblemBundle, ProblemStage, StageContext, StageDef, StageOutput } from '../../stages/lib/stage.ts';
import type { ProblemKeyed, RunState, SegmentRef, ShardRecord } from '../io/state.ts';
import { fingerprint, shardFingerprint } from './shards.ts';
import { byProblemId } from '../../stages/lib/group.ts';

/** The stage that writes each table (the `raw` table is written by the input reader). */
export type Writers = ReadonlyMap<StateTableName, string>;

export function writersOf(stages: readonly StageDef[]): Map<StateTableName, string> {
  const m = new Map<StateTableName, string>([['raw', READ]]);
  for (const s of stages) if (s.kind === 'problem') for (const t of s.writes) if (t !== 'rejects') m.set(t, s.name);
  return m;
}

/** The pseudo-stage that buckets input rows into shards. */
export const READ = 'read';

export interface JobEnv {
  state: RunState;
  config: Config;
  runId: string;
  globals: Readonly<Record<string, unknown>>;
  writers: Writers;
  force: boolean;
  /** Ports for the stage (model, images, log, progress). */
  ports: Omit<StageContext, 'config' | 'runId' | 'shard' | 'globals'>;
  /** Rows the earlier stages of a chain on this shard wrote or read, by table and problem (saves a read). Stages never mutate their input rows. */
  memo?: Map<StateTableName, Map<string, unknown[]>>;
  /** Records to use instead of those on disk, by `stage/shard` (a dry run's reader records). */
  overrides?: ReadonlyMap<string, ShardRecord>;
}

export interface JobResult {
  stage: string;
  shard: string;
  status: 'skipped' | 'done' | 'empty' | 'incomplete';
  problems: number;
  computed: number;
  removed: number;
  stats: Record<string, unknown>;
  seconds: number;
  /** Why it ran: counts of new, changed and removed problems (or of first-run / forced shards). */
  why: Record<string, number>;
  /** Segment files of the previous record the new one no longer lists (garbage until the run collects it). */
  superseded?: number;
}

/** Records of a shard needed to fingerprint a stage: each upstream writer's, read on demand. */
async function upstreamRecords(
  env: JobEnv,
  stage: ProblemStage,
  shard: string,
): Promise<Map<string, ShardRecord | null>> {
  const names = new Set<string>([env.writers.get('problems') ?? READ]);
  for (const t of stage.reads) names.add(env.writers.get(t) ?? READ);
  names.delete(stage.name);
  const list = [...names];
  const recs = await Promise.all(
    list.map(async (n) => env.overrides?.get(`${n}/${shard}`) ?? (await env.state.record(n, shard))),
  );
  return new Map(list.map((n, i) => [n, recs[i] ?? null]));
}

/** A problem's fingerprint downstream of a record: its output fingerprint when the stage gives one. */
export const outFp = (rec: ShardRecord | null, id: string): string | undefined =>
  (rec?.extra?.out as Record<string, string> | undefined)?.[id] ?? rec?.problems[id];

/** Live problem ids of a table in a record. */
const liveProblems = (segs: readonly SegmentRef[] | undefined) => new Set((segs ?? []).flatMap((s) => s.problems));

/** The plan of a stage on a shard without running it: what `--dry-run` prints and what `runJob` does. */
export async function planJob(
  env: JobEnv,
  stage: ProblemStage,
  shard: string,
): Promise<{
  prev: ShardRecord | null;
  fps: Record<string, string>;
  changed: string[];
  removed: string[];
  ups: Map<string, ShardRecord | null>;
  why: Record<string, number>;
}> {
  const [ups, prev] = await Promise.all([upstreamRecords(env, stage, shard), env.state.record(stage.name, shard)]);
  const problemsWriter = env.writers.get('problems') ?? READ;
  // The problems of the shard: those ingest accepted, or (for ingest itself) those the reader saw.
  const source = stage.name === problemsWriter ? ups.get(READ) : ups.get(problemsWriter);
  const ids =
    stage.name === problemsWriter ? Object.keys(source?.problems ?? {}) : [...liveProblems(source?.tables.problems)];
  const cfg = fingerprint([stage.name, stage.version, stage.config(env.config)]);
  const upNames = [...ups.keys()].sort();
  const fps: Record<string, string> = {};
  const problemRow = stage.global ? await problemRows(env, shard, source, ids) : null;
  for (const id of ids) {
    const parts: unknown[] = [cfg];
    for (const n of upNames) parts.push(outFp(ups.get(n) ?? null, id) ?? null);
    if (stage.global) parts.push(stage.global(env.config, env.globals, problemRow!.get(id)!));
    fps[id] = fingerprint(parts);
  }
  const changed = ids.filter((id) => env.force || prev?.problems[id] !== fps[id]);
  const removed = Object.keys(prev?.problems ?? {}).filter((id) => !(id in fps));
  const added = changed.filter((id) => !(id in (prev?.problems ?? {}))).length;
  const why = reasons(prev === null, env.force, added, changed.length - added, removed.length);
  return { prev, fps, changed, removed, ups, why };
}

/**
 * Why a job runs, as counts that add up over shards: problems new, changed (or whose settings
 * changed) and removed; a first run or `--force` counts shards instead.
 */
export function reasons(
  first: boolean,
  force: boolean,
  added: number,
  changed: number,
  removed: number,
): Record<string, number> {
  if (first) return { 'first run (shards)': 1 };
  if (force) return { 'forced (shards)': 1 };
  const out: Record<string, number> = {};
  if (added) out['new problems'] = added;
  if (changed) out['changed problems or settings'] = changed;
  if (removed) out['removed problems'] = removed;
  return out;
}

async function problemRows(env: JobEnv, shard: string, source: ShardRecord | null | undefined, ids: readonly string[]) {
  const rows = await env.state.readRows<Problem & ProblemKeyed>(
    'problems',
    shard,
    source?.tables.problems ?? [],
    new Set(ids),
  );
  return new Map(rows.map((r) => [r.problem_id, r]));
}

/** Runs a stage on a shard's changed problems and writes its record. */
export async function runJob(env: JobEnv, stage: ProblemStage, shard: string): Promise<JobResult> {
  const t0 = performance.now();
  const plan = await planJob(env, stage, shard);
  const { prev, fps, changed, removed, ups } = plan;
  const total = Object.keys(fps).length;
  const base = { stage: stage.name, shard, problems: total, removed: removed.length, why: plan.why };
  if (changed.length === 0 && removed.length === 0 && prev) {
    return { ...base, status: 'skipped', computed: 0, stats: prev.stats, seconds: (performance.now() - t0) / 1000 };
  }
  if (total === 0 && !prev) return { ...base, status: 'empty', computed: 0, stats: {}, seconds: 0 };
  const only = new Set(changed);
  const bundles = await loadBundles(env, stage, shard, ups, only);
  const ctx: StageContext = { ...env.ports, config: env.config, runId: env.runId, shard, globals: env.globals };
  const out: StageOutput = changed.length ? await stage.run(bundles, ctx) : { rows: {}, rejects: [], stats: {} };
  // The run stopped in the middle of this shard: nothing of it is recorded, the next run redoes it (replies are cached).
  if (out.incomplete)
    return { ...base, status: 'incomplete', computed: 0, stats: out.stats, seconds: (performance.now() - t0) / 1000 };
  const dead = new Set([...changed, ...removed]);
  const tables: Record<string, SegmentRef[]> = {};
  const writes: StateTableName[] = [...stage.writes.filter((t) => t !== 'rejects'), 'rejects'];
  for (const t of writes) {
    const rows = (t === 'rejects' ? out.rejects : (out.rows[t] ?? [])) as ProblemKeyed[];
    const dir = t === 'rejects' ? `rejects.${stage.name}` : t;
    const own = stage.summarize?.[t];
    const summarize = t === 'rejects' ? rejectCounts : own ? (r: readonly unknown[]) => own(r, env.config) : undefined;
    const added = rows.length ? await env.state.writeSegment(dir, shard, rows, summarize?.(rows)) : null;
    tables[t] = await env.state.nextSegments(dir, shard, prev?.tables[t] ?? [], dead, added, summarize as never);
    if (env.memo && t !== 'rejects') env.memo.set(t, groupRows(rows));
  }
  const extra: Record<string, unknown> = {};
  // Output fingerprints: the new ones for recomputed problems, the old ones for the rest.
  const prevOut = prev?.extra?.out as Record<string, string> | undefined;
  if (out.fingerprints || prevOut) {
    const merged: Record<string, string> = { ...(prevOut ?? {}) };
    for (const id of dead) delete merged[id];
    Object.assign(merged, out.fingerprints ?? {});
    extra.out = merged;
  }
  // Unfinished problems get a fingerprint no plan computes: the next run recomputes them.
  const recorded = { ...fps };
  for (const id of out.retry ?? []) if (id in recorded) recorded[id] = `retry:${recorded[id]}`;
  const rec: ShardRecord = {
    stage: stage.name,
    shard,
    fingerprint: shardFingerprint(recorded),
    problems: recorded,
    tables,
    stats: out.stats,
    ...(Object.keys(extra).length ? { extra } : {}),
    run_id: env.runId,
    finished_at: new Date().toISOString(),
  };
  if (total === 0) await env.state.dropRecord(stage.name, shard);
  else await env.state.writeRecord(rec);
  const listed = new Set(total === 0 ? [] : Object.values(tables).flatMap((segs) => segs.map((x) => x.file)));
  const superseded = Object.values(prev?.tables ?? {})
    .flat()
    .filter((x) => !listed.has(x.file)).length;
  return {
    ...base,
    superseded,
    status: 'done',
    computed: changed.length,
    stats: out.stats,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The summary kept of every rejects segment: items by reason code. */
export const rejectCounts = (rows: readonly unknown[]) => {
  const by: Record<string, number> = {};
  for (const r of rows as { code: string }[]) by[r.code] = (by[r.code] ?? 0) + 1;
  return { by_code: by };
};

function groupRows(rows: readonly ProblemKeyed[]): Map<string, unknown[]> {
  return byProblemId(rows);
}

/** The bundles of the changed problems: the problem row and its rows of every table the stage reads. */
async function loadBundles(
  env: JobEnv,
  stage: ProblemStage,
  shard: string,
  ups: Map<string, ShardRecord | null>,
  only: ReadonlySet<string>,
): Promise<ProblemBundle[]> {
  // A stage that writes nothing by design under this config (rectify without a model) reads nothing either.
  const idle = stage.produces?.(env.config) === false;
  const tables = new Set<StateTableName>(idle ? [] : stage.reads);
  const problemsWriter = env.writers.get('problems') ?? READ;
  if (stage.name !== problemsWriter && !idle) tables.add('problems');
  const grouped = new Map<StateTableName, Map<string, unknown[]>>();
  for (const t of tables) {
    const memo = env.memo?.get(t);
    if (
      memo &&
      [...only].every((id) => memo.has(id) || !(id in (ups.get(env.writers.get(t) ?? READ)?.problems ?? {})))
    ) {
      grouped.set(t, memo);
      continue;
    }
    const rec = ups.get(env.writers.get(t) ?? READ) ?? null;
    const rows = await env.state.readRows<ProblemKeyed>(t, shard, rec?.tables[t] ?? [], only);
    const g = groupRows(rows);
    grouped.set(t, g);
    // The next stage of the chain that reads this table takes it from memory.
    if (env.memo) {
      const m = env.memo.get(t);
      if (m) for (const [id, list] of g) m.set(id, list);
      else env.memo.set(t, g);
    }
  }
  const out: ProblemBundle[] = [];
  for (const id of [...only].sort()) {
    const problem = (grouped.get('problems')?.get(id)?.[0] as Problem | undefined) ?? ({ problem_id: id } as Problem);
    const rows: ProblemBundle['rows'] = {};
    for (const t of stage.reads) rows[t] = grouped.get(t)?.get(id) ?? [];
    out.push({ problem, rows });
  }
  return out;
}
