/**
 * @module pipeline/engine/runner
 * The local executor. It reads the inputs into shards, then runs the stages in order: a problem
 * stage shard by shard (consecutive CPU-bound stages as one chain per shard, on worker threads;
 * stages that call a model in the main thread, several shards at once so the server stays busy),
 * a run stage once over the merged per-shard summaries. It knows no stage by name: everything it
 * needs is in the descriptors. Each job skips the problems whose fingerprints did not change.
 */
import { releaseHeap } from './heap.ts';
import type { Config } from '../../schemas/config.ts';
import type { StateTableName } from '../../schemas/state.ts';
import type { FilesPort, Log } from '../../stages/lib/ports.ts';
import type {
  FlowStep,
  InputSource,
  ProblemStage,
  RunStage,
  StageContext,
  StageDef,
  StageTotals,
} from '../../stages/lib/stage.ts';
import { mergeSummaries } from '../../stages/lib/summary.ts';
import type { RunState, SegmentRef, ShardRecord } from '../io/state.ts';
import { planJob, READ, runJob, writersOf, type JobResult } from './job.ts';
import { readInputs, type ReadInputIn, type ReadResult } from './read.ts';
import { fingerprint, shardIds } from './shards.ts';
import { runChain, type ChainRequest } from './chain.ts';
import { nodeFiles } from '../io/files.ts';
import type { LazyPool } from './pool.ts';

/** IO jobs kept in flight at once: several shards feed the model queue, so it never runs dry at a shard's end. */
const IO_SHARDS_AT_ONCE = 8;
/**
 * Problems a model stage's shards in flight hold at most when shards have few of them each (a
 * re-run's new problems, one or two a shard): more shards go at once, up to every shard, so the
 * server gets as many requests at once as from full shards.
 */
const IO_PROBLEMS_AT_ONCE = 256;

/** One job: a chain of stages on a shard; `io` marks a stage that calls a model (it runs where the model clients are). */
export interface ShardJob extends ChainRequest {
  io: boolean;
}

/** Where shard jobs run: this process and its worker threads, or the workers of a queue. */
export interface Executor {
  /** Runs one job and says what each of its stages did. */
  run(job: ShardJob): Promise<JobResult[]>;
  /** Jobs to keep in flight at once. */
  slots(kind: 'cpu' | 'io'): number;
  /** A stage ran on every shard (its progress line ends). */
  finished(stage: string): void;
  /** Reads one input in a thread of its own (executors with worker threads, reading with the stages' own source). */
  readInput?: ReadInputIn;
  /**
   * Before a group of CPU stages: `work` counts the problems it will compute (at most `min` of
   * them are counted). An executor whose worker threads have not started starts them for `min`
   * or more, and runs a smaller group in this thread.
   */
  prepare?(work: () => Promise<number>, min: number, group: string): Promise<void>;
  /** Whether CPU groups run on threads of their own now (the main thread waits on them). */
  readonly threads?: boolean;
  /**
   * After a group of CPU stages: its threads' garbage can go (they are idle until the next
   * group); after the `last` one, the threads themselves (the run stages after it, the report,
   * need the memory).
   */
  settle?(last: boolean): Promise<void>;
}

/** Builds the ports of a stage's job on a shard (model clients on the shard's cache), and releases them. */
export interface PortFactory {
  open(
    stage: ProblemStage,
    shard: string,
    problems: number,
  ): Promise<{ ports: Omit<StageContext, 'config' | 'runId' | 'shard' | 'globals'>; close(): Promise<void> }>;
  /** The stage ran on every shard: its progress line ends. */
  finishProgress(stage: string): void;
}

export interface EngineOptions {
  config: Config;
  runId: string;
  state: RunState;
  stages: readonly StageDef[];
  source: InputSource;
  files: FilesPort;
  /** Where shard jobs run. */
  executor: Executor;
  log: Log;
  /** Once aborted, no new job starts; the stage in progress finishes what it started. */
  signal: AbortSignal;
  force?: boolean;
  /** Run only this stage (its upstream must be current). */
  only?: string;
  dryRun?: boolean;
  /** Results the engine hands to run stages besides earlier stages' results (e.g. the report's run name). */
  globals?: Record<string, unknown>;
  /** Globals made on demand, just before a run stage that `uses` them (e.g. the snapshot the outputs will be). */
  provide?: Record<string, (read: ReadResult) => Promise<unknown>>;
  onStage?: (s: StageSummary) => Promise<void> | void;
}

/** What one stage did in this run. */
export interface StageSummary {
  name: string;
  kind: 'problem' | 'run';
  status: 'done' | 'skipped' | 'interrupted' | 'planned' | 'failed';
  seconds: number;
  shards: { total: number; ran: number; skipped: number };
  problems: { total: number; computed: number; removed: number };
  /** Counts of the work done in this run (summed over jobs). */
  stats: Record<string, unknown>;
  /** Why shards ran, by reason, with how many. */
  why: Record<string, number>;
  /** What the stage's tables hold over the whole run (its descriptor's `totals`). */
  totals: Record<string, unknown>;
  /** Its rows kept and dropped, for the report. */
  flow: FlowStep[];
  /** Live rows per table over the whole run. */
  rows: Partial<Record<StateTableName, number>>;
  /** Rejected items over the whole run, by reason code. */
  rejects: Record<string, number>;
  error?: string;
}

export interface EngineResult {
  read: ReadResult;
  stages: StageSummary[];
  globals: Record<string, unknown>;
  /** Files run stages produced (calibration.json, report/index.html), to publish. */
  files: Record<string, string>;
  status: 'done' | 'interrupted';
  /** State files this run left unlisted (replaced segments): a garbage collection has something to find. */
  superseded: number;
}

type Group =
  { kind: 'chain'; stages: ProblemStage[] } | { kind: 'io'; stage: ProblemStage } | { kind: 'run'; stage: RunStage };

/** Consecutive CPU-bound problem stages form one chain; the others (those that call a model under this config) stand alone. */
function groups(stages: readonly StageDef[], config: Config): Group[] {
  const out: Group[] = [];
  for (const s of stages) {
    const last = out.at(-1);
    if (s.kind === 'run') out.push({ kind: 'run', stage: s });
    else if (!s.cpu || (s.models?.(config).length ?? 0) > 0) out.push({ kind: 'io', stage: s });
    else if (last?.kind === 'chain') last.stages.push(s);
    else out.push({ kind: 'chain', stages: [s] });
  }
  return out;
}

/** Runs (or plans, with `dryRun`) every stage of a run. */
export async function runEngine(o: EngineOptions): Promise<EngineResult> {
  const shards = shardIds(o.config.engine.shards);
  const writers = writersOf(o.stages);
  const globals: Record<string, unknown> = { ...(o.globals ?? {}) };
  const files: Record<string, string> = {};
  const summaries: StageSummary[] = [];
  const read = await readInputs(o.source, o.config, o.state, o.files, {
    runId: o.runId,
    log: o.log,
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.executor.readInput ? { readInput: o.executor.readInput } : {}),
  });
  o.log(
    `read: ${read.rows} rows of ${read.problems} problems in ${shards.length} shards; ${read.changed.length} shard(s) changed (${read.seconds.toFixed(1)} s)`,
  );
  // The reader's garbage goes before the workers fill their heaps.
  releaseHeap();
  let superseded = read.superseded;
  // Stages load their libraries once this thread will mostly wait: on a model stage's requests
  // (and then the problem stages this thread computes too), or on the worker threads.
  let warmed = o.dryRun ?? false;
  const warm = (problemStages: boolean) => {
    if (warmed) return;
    warmed = true;
    for (const s of o.stages) if (s.warm && (s.kind === 'run' || problemStages)) void s.warm().catch(() => undefined);
  };
  if (o.only && !o.stages.some((s) => s.name === o.only)) {
    throw new Error(`no stage named ${o.only}; stages are ${o.stages.map((s) => s.name).join(', ')}`);
  }
  // Dry run: shards whose upstream would change are counted as running too.
  const dirty = new Set(read.changed);
  const all = groups(o.stages, o.config);
  for (const [gi, g] of all.entries()) {
    const members = g.kind === 'chain' ? g.stages : [g.stage];
    if (o.only && !members.some((m) => m.name === o.only)) {
      // Not run now: its last results still feed the stages that run (the report counts every stage).
      for (const m of members) {
        if (m.kind === 'run') {
          const prev = await o.state.record(m.name, 'run');
          if (prev?.extra) globals[m.name] = prev.extra.result;
        } else summaries.push(await recordedSummary(o.state, m, shards.length));
      }
      continue;
    }
    if (o.signal.aborted) break;
    // What the last group's totals and summaries parsed goes before this group runs.
    releaseHeap();
    const t0 = performance.now();
    const done = (s: StageSummary) => {
      summaries.push(s);
      return o.onStage?.(s);
    };
    if (g.kind === 'run') {
      for (const u of g.stage.uses ?? []) if (o.provide?.[u]) globals[u] = await o.provide[u]!(read);
      const s = await runRunStage(o, g.stage, writers, globals, files, summaries);
      await done({ ...s, seconds: (performance.now() - t0) / 1000 });
      continue;
    }
    const own: readonly ProblemStage[] = g.kind === 'chain' ? g.stages : [g.stage];
    const stages = o.only ? own.filter((m) => m.name === o.only) : own;
    if (o.dryRun) {
      for (const st of stages) await done(await planStage(o, st, shards, writers, globals, dirty, read.pending));
      continue;
    }
    if (g.kind === 'chain' && o.executor.prepare) {
      const min = o.config.engine.thread_min_problems;
      const group = stages.map((st) => st.name).join('+');
      await o.executor.prepare(
        async () => (await plannedWork(o, stages, shards, writers, globals, min)).problems,
        min,
        group,
      );
    }
    if (g.kind === 'io') warm(!(o.executor.threads ?? false));
    else if (o.executor.threads) warm(false);
    const results = new Map<string, JobResult[]>();
    for (const st of stages) results.set(st.name, []);
    // Each finished shard's records are read for the totals while the workers run the next shards
    // (after the job loop has handed out the next job), not all at once when the last one ends.
    const gathered = new Map<string, Map<string, TotalsPart | null>>(stages.map((st) => [st.name, new Map()]));
    const gathering: Promise<void>[] = [];
    const gather = (r: JobResult) =>
      gathering.push(
        new Promise((next) => setImmediate(next))
          .then(() => o.state.record(r.stage, r.shard))
          .then((rec) => void gathered.get(r.stage)!.set(r.shard, rec ? totalsPart(rec) : null))
          .catch(() => undefined),
      );
    let failure: Error | null = null;
    const io = g.kind === 'io';
    let width = o.executor.slots(io ? 'io' : 'cpu');
    if (io) {
      const work = await plannedWork(o, stages, shards, writers, globals, Infinity);
      const perShard = work.problems / Math.max(1, work.shards);
      width = Math.max(width, Math.floor(IO_PROBLEMS_AT_ONCE / Math.max(1, perShard)));
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(width, shards.length)) }, async () => {
        while (next < shards.length && !o.signal.aborted && !failure) {
          const shard = shards[next++]!;
          const job: ShardJob = {
            stages: stages.map((s) => s.name),
            shard,
            stateDir: o.state.dir,
            config: o.config,
            runId: o.runId,
            globals,
            writers: [...writers] as [string, string][],
            force: o.force ?? false,
            io,
          };
          try {
            // The job may have run in another thread or process: its records are read again from their files.
            const rs = await o.executor.run(job).finally(() => job.stages.forEach((st) => o.state.forget(st, shard)));
            for (const r of rs) {
              results.get(r.stage)!.push(r);
              superseded += r.superseded ?? 0;
              gather(r);
            }
          } catch (e) {
            failure ??= e as Error;
          }
        }
      }),
    );
    await Promise.all(gathering);
    // The workers' garbage goes before a later chain fills their heaps; after the last, they stop.
    if (g.kind === 'chain' && !failure) await o.executor.settle?.(!all.slice(gi + 1).some((x) => x.kind === 'chain'));
    const seconds = (performance.now() - t0) / 1000;
    if (g.kind === 'io') o.executor.finished(g.stage.name);
    for (const st of stages) {
      const rs = results.get(st.name)!;
      const summary = summarise(st, rs, shards.length, seconds / stages.length);
      const got = gathered.get(st.name)!;
      // Every shard's record read as its job ended; else (an interrupted group) all of them now.
      const t =
        got.size === shards.length
          ? totalsOf(
              st,
              shards.flatMap((sh) => {
                const x = got.get(sh);
                return x ? [x] : [];
              }),
            )
          : await stageTotals(o.state, st);
      summary.totals = st.totals?.(t) ?? { problems: t.problems, rows: t.rows, rejects: t.rejects };
      summary.flow = st.flow?.(t) ?? [];
      summary.rows = t.rows;
      summary.rejects = t.rejects;
      if (failure) summary.status = 'failed';
      else if (rs.some((r) => r.status === 'incomplete') || (o.signal.aborted && rs.length < shards.length))
        summary.status = 'interrupted';
      if (failure) summary.error = (failure as Error).message;
      await done(summary);
    }
    if (failure) throw failure;
  }
  return {
    read,
    stages: summaries,
    globals,
    files,
    status: o.signal.aborted ? 'interrupted' : 'done',
    superseded,
  };
}

const noPorts = (log: Log) => ({
  model: () => {
    throw new Error('planning asks no model');
  },
  images: async () => ({ ok: false as const, path: 'images', message: 'no images while planning' }),
  files: nodeFiles(),
  log,
});

function summarise(st: ProblemStage, rs: JobResult[], shards: number, seconds: number): StageSummary {
  const ran = rs.filter((r) => r.status === 'done');
  const why = (mergeSummaries(ran.map((r) => r.why)) as Record<string, number> | undefined) ?? {};
  return {
    name: st.name,
    kind: 'problem',
    status: ran.length ? 'done' : 'skipped',
    seconds,
    shards: { total: shards, ran: ran.length, skipped: rs.filter((r) => r.status === 'skipped').length },
    problems: {
      total: rs.reduce((n, r) => n + r.problems, 0),
      computed: rs.reduce((n, r) => n + r.computed, 0),
      removed: rs.reduce((n, r) => n + r.removed, 0),
    },
    stats: (mergeSummaries(ran.map((r) => r.stats)) as Record<string, unknown>) ?? {},
    why,
    totals: {},
    flow: [],
    rows: {},
    rejects: {},
  };
}

/** A stage not run now, as its records stand: skipped, with its totals. */
async function recordedSummary(state: RunState, st: ProblemStage, shards: number): Promise<StageSummary> {
  const s = summarise(st, [], shards, 0);
  const t = await stageTotals(state, st);
  return {
    ...s,
    totals: st.totals?.(t) ?? { problems: t.problems, rows: t.rows, rejects: t.rejects },
    flow: st.flow?.(t) ?? [],
    rows: t.rows,
    rejects: t.rejects,
  };
}

/** Rows, summaries and rejects of a stage's tables over every shard. */
export async function stageTotals(state: RunState, st: ProblemStage): Promise<StageTotals> {
  return totalsOf(st, [...(await state.records(st.name)).values()].map(totalsPart));
}

/** A stage's totals from its records, in shard order. */
function totalsOf(st: ProblemStage, recs: Iterable<TotalsPart>): StageTotals {
  const t: StageTotals = { rows: {}, summaries: {}, rejects: {}, problems: 0 };
  const parts = new Map<StateTableName, unknown[]>();
  for (const r of recs) {
    t.problems += r.problems;
    for (const [name, segs] of Object.entries(r.tables) as [StateTableName, TotalsPart['tables'][string]][]) {
      if (name !== 'rejects') t.rows[name] = (t.rows[name] ?? 0) + segs.reduce((n, s) => n + (s.live ?? s.rows), 0);
      for (const seg of segs)
        if (seg.summary !== undefined) (parts.get(name) ?? parts.set(name, []).get(name)!).push(seg.summary);
    }
  }
  for (const [name, ps] of parts) {
    if (name === 'rejects') t.rejects = (mergeSummaries(ps) as { by_code?: Record<string, number> }).by_code ?? {};
    else t.summaries[name] = (st.merge?.[name] ?? mergeSummaries)(ps);
  }
  return t;
}

/** What a stage's totals need of one record: its problem count and its segments' row counts and summaries. */
type TotalsPart = { problems: number; tables: Record<string, { rows: number; live?: number; summary?: unknown }[]> };

const totalsPart = (r: ShardRecord): TotalsPart => ({
  problems: Object.keys(r.problems).length,
  tables: Object.fromEntries(
    Object.entries(r.tables).map(([t, segs]) => [
      t,
      segs.map((x) => ({ rows: x.rows, live: x.live, ...(x.summary === undefined ? {} : { summary: x.summary }) })),
    ]),
  ),
});

/**
 * The problems a group of stages will compute (changed or removed) and the shards that hold them,
 * as far as the records show now: the stage with the most (a later stage's count misses what the
 * earlier ones will change), counted up to `min` problems.
 */
async function plannedWork(
  o: EngineOptions,
  stages: readonly ProblemStage[],
  shards: readonly string[],
  writers: ReturnType<typeof writersOf>,
  globals: Record<string, unknown>,
  min: number,
): Promise<{ problems: number; shards: number }> {
  let most = { problems: 0, shards: 0 };
  const env = { state: o.state, config: o.config, runId: o.runId, globals, writers, force: o.force ?? false };
  for (const st of stages) {
    const n = { problems: 0, shards: 0 };
    for (const shard of shards) {
      const plan = await planJob({ ...env, ports: noPorts(o.log) }, st, shard);
      const k = plan.changed.length + plan.removed.length;
      n.problems += k;
      if (k > 0) n.shards++;
      if (n.problems >= min) return n;
    }
    if (n.problems > most.problems) most = n;
  }
  return most;
}

/** Dry run of a problem stage: which shards would run and why (a shard whose upstream changes runs too). */
async function planStage(
  o: EngineOptions,
  st: ProblemStage,
  shards: readonly string[],
  writers: ReturnType<typeof writersOf>,
  globals: Record<string, unknown>,
  dirty: Set<string>,
  pending: Map<string, ShardRecord> | undefined,
): Promise<StageSummary> {
  const why: Record<string, number> = {};
  let ran = 0;
  let computed = 0;
  let total = 0;
  const overrides = new Map(
    [...(pending ?? new Map<string, ShardRecord>())].map(([shard, r]) => [`${READ}/${shard}`, r]),
  );
  for (const shard of shards) {
    const plan = await planJob(
      {
        state: o.state,
        config: o.config,
        runId: o.runId,
        globals,
        writers,
        force: o.force ?? false,
        ports: noPorts(o.log),
        overrides,
      },
      st,
      shard,
    );
    total += Object.keys(plan.fps).length;
    const upstream = dirty.has(shard);
    if (plan.changed.length || plan.removed.length || upstream) {
      ran++;
      computed += plan.changed.length;
      dirty.add(shard);
      const w = plan.changed.length || plan.removed.length ? plan.why : { 'inputs changed upstream (shards)': 1 };
      for (const [k, v] of Object.entries(w)) why[k] = (why[k] ?? 0) + v;
    }
  }
  return {
    name: st.name,
    kind: 'problem',
    status: 'planned',
    seconds: 0,
    shards: { total: shards.length, ran, skipped: shards.length - ran },
    problems: { total, computed, removed: 0 },
    stats: {},
    why,
    totals: {},
    flow: [],
    rows: {},
    rejects: {},
  };
}

/** Merges the per-segment summaries of a table over every shard. */
export async function mergedSummary(
  state: RunState,
  writer: string,
  table: StateTableName,
  merge: (parts: readonly unknown[]) => unknown = mergeSummaries,
): Promise<unknown> {
  const recs = await state.records(writer);
  const parts: unknown[] = [];
  for (const r of recs.values())
    for (const seg of r.tables[table] ?? []) if (seg.summary !== undefined) parts.push(seg.summary);
  return merge(parts);
}

/** A run stage: reuses its last result when its inputs (merged summaries, settings, results it uses) are unchanged. */
async function runRunStage(
  o: EngineOptions,
  st: RunStage,
  writers: ReturnType<typeof writersOf>,
  globals: Record<string, unknown>,
  files: Record<string, string>,
  done: readonly StageSummary[],
): Promise<Omit<StageSummary, 'seconds'>> {
  const summaries: Partial<Record<StateTableName, unknown>> = {};
  for (const t of st.needs) {
    const writer = writers.get(t) ?? READ;
    const def = o.stages.find((s) => s.name === writer);
    summaries[t] = await mergedSummary(o.state, writer, t, def?.kind === 'problem' ? def.merge?.[t] : undefined);
  }
  const fp = fingerprint([
    st.name,
    st.version,
    st.config(o.config),
    summaries,
    (st.uses ?? []).map((u) => globals[u] ?? null),
  ]);
  const prev = await o.state.record(st.name, 'run');
  const base = {
    name: st.name,
    kind: 'run' as const,
    shards: { total: 1, ran: 0, skipped: 0 },
    problems: { total: 0, computed: 0, removed: 0 },
    why: {},
    flow: [],
    rows: {},
    rejects: {},
  };
  if (prev && prev.fingerprint === fp && !o.force && prev.extra?.files) {
    globals[st.name] = prev.extra.result;
    Object.assign(files, prev.extra.files as Record<string, string>);
    return {
      ...base,
      status: 'skipped',
      shards: { total: 1, ran: 0, skipped: 1 },
      stats: prev.stats,
      totals: prev.stats,
    };
  }
  if (o.dryRun)
    return {
      ...base,
      status: 'planned',
      shards: { total: 1, ran: 1, skipped: 0 },
      stats: {},
      totals: {},
      why: { [prev ? 'inputs changed (shards)' : 'first run (shards)']: 1 },
    };
  const out = await st.run({
    config: o.config,
    runId: o.runId,
    summaries,
    globals,
    stages: done.map((s) => ({ name: s.name, totals: s.totals, flow: s.flow })),
    log: o.log,
  });
  globals[st.name] = out.result;
  Object.assign(files, out.files);
  await o.state.writeRecord({
    stage: st.name,
    shard: 'run',
    fingerprint: fp,
    problems: {},
    tables: {},
    stats: out.stats,
    extra: { result: out.result, files: out.files },
    run_id: o.runId,
    finished_at: new Date().toISOString(),
  });
  return {
    ...base,
    status: 'done',
    shards: { total: 1, ran: 1, skipped: 0 },
    stats: out.stats,
    totals: out.stats,
    why: { [prev ? 'inputs changed (shards)' : 'first run (shards)']: 1 },
  };
}

/**
 * The local executor: CPU chains on the worker threads (started when a group has enough work, see
 * `prepare`) or in this thread, model stages in this thread with the run's ports.
 */
export class LocalExecutor implements Executor {
  constructor(
    private readonly o: {
      stages: readonly StageDef[];
      state: RunState;
      ports: PortFactory;
      pool: LazyPool | null;
      log: Log;
      /** The run reads with the stages' own source (the one the workers load): inputs may be read on the workers. */
      ownSource?: boolean;
    },
  ) {
    const pool = o.pool;
    if (pool?.available && o.ownSource)
      this.readInput = (req) => {
        if (!pool.started) o.log(`engine: ${pool.size} worker threads start to read the inputs`);
        return pool.get().read(req);
      };
  }

  readonly readInput?: ReadInputIn;

  /** Whether the current group's chains go to the worker threads. */
  private threaded = false;

  async prepare(work: () => Promise<number>, min: number, group: string): Promise<void> {
    const pool = this.o.pool;
    if (!pool?.available) this.threaded = false;
    else if (pool.started) this.threaded = true;
    else {
      const n = min === 0 ? 0 : await work();
      this.threaded = n >= min;
      if (this.threaded)
        this.o.log(
          `engine: ${pool.size} worker threads start for ${group}` +
            (min === 0 ? ' (engine.thread_min_problems: 0)' : ` (${min} or more problems to compute)`),
        );
    }
  }

  get threads(): boolean {
    return this.threaded;
  }

  async settle(last: boolean): Promise<void> {
    const pool = this.o.pool;
    if (!pool?.started) return;
    if (last) await pool.close();
    else if (this.threaded) await pool.get().collect();
  }

  slots(kind: 'cpu' | 'io'): number {
    return kind === 'io' ? IO_SHARDS_AT_ONCE : this.threaded ? Math.max(1, this.o.pool!.size) : 1;
  }

  finished(stage: string): void {
    this.o.ports.finishProgress(stage);
  }

  private stage(name: string): ProblemStage {
    const s = this.o.stages.find((x) => x.name === name);
    if (!s || s.kind !== 'problem') throw new Error(`no problem stage named ${name}`);
    return s;
  }

  async run(job: ShardJob): Promise<JobResult[]> {
    if (!job.io) {
      if (this.threaded) return this.o.pool!.get().run(job);
      return runChain(job, {
        stages: new Map(job.stages.map((n) => [n, this.stage(n)])),
        state: this.o.state,
        log: this.o.log,
      });
    }
    const out: JobResult[] = [];
    for (const name of job.stages) {
      const st = this.stage(name);
      const env = {
        state: this.o.state,
        config: job.config,
        runId: job.runId,
        globals: job.globals,
        writers: new Map(job.writers) as ReturnType<typeof writersOf>,
        force: job.force,
      };
      const plan = await planJob({ ...env, ports: noPorts(this.o.log) }, st, job.shard);
      if (plan.changed.length === 0 && plan.removed.length === 0 && plan.prev) {
        out.push({
          stage: name,
          shard: job.shard,
          status: 'skipped',
          problems: Object.keys(plan.fps).length,
          computed: 0,
          removed: 0,
          stats: {},
          seconds: 0,
          why: plan.why,
        });
        continue;
      }
      const opened = await this.o.ports.open(st, job.shard, plan.changed.length);
      try {
        out.push(await runJob({ ...env, ports: opened.ports }, st, job.shard));
      } finally {
        await opened.close();
      }
    }
    return out;
  }
}
