/**
 * @module pipeline/engine/run
 * One run of a config: take the run folder's lock, read the inputs into shards, run the stages
 * (each shard recomputing only the problems that changed), publish a snapshot when the outputs
 * changed, and keep `manifest.json` current after every stage: config (secrets redacted), input
 * hashes, code version, model, per-stage counts and timings, the snapshot, status and why.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { redact, runDirOf, type Config } from '../../schemas/config.ts';
import { STATE_TABLES } from '../../schemas/state.ts';
import type { StageDef, InputSource } from '../../stages/lib/stage.ts';
import { SOURCE, STAGES } from '../../stages/index.ts';
import { emit } from '../../stages/emit/emit.ts';
import { datasetCard, repoCard } from '../../stages/emit/card.ts';
import type { CalibrationResult } from '../../stages/calibrate/index.ts';
import { thresholdsByDomain } from '../../stages/report/data.ts';
import { RunState, writeAtomic } from '../io/state.ts';
import { nodeFiles } from '../io/files.ts';
import { acquireLock } from './lock.ts';
import { RunPorts } from './ports.ts';
import { LazyPool } from './pool.ts';
import { LocalExecutor, runEngine, type StageSummary } from './runner.ts';
import type { ReadResult } from './read.ts';
import { cleanSnapshots, nextSnapshot, publish, type SnapshotInfo } from './publish.ts';
import type { QueueExecutor } from './queue/executor.ts';

export interface RunResult {
  runDir: string;
  runId: string;
  status: 'done' | 'interrupted' | 'failed';
  /** Why the run failed, in one line (the CLI prints it last). */
  reason: string | null;
  stages: StageSummary[];
  read: ReadResult | null;
  /** The snapshot this run published, or null when the outputs did not change. */
  snapshot: SnapshotInfo | null;
  simulated: boolean;
  dryRun: boolean;
}

export interface RunOptions {
  only?: string;
  force?: boolean;
  dryRun?: boolean;
  log?: (s: string) => void;
  /** First Ctrl-C: no new request starts, requests in flight finish; no new job starts. */
  signal?: AbortSignal;
  /** Second Ctrl-C: requests in flight are cancelled. */
  abort?: AbortSignal;
  /** A fixed run id (evals that compare two runs byte for byte). */
  runId?: string;
  stages?: readonly StageDef[];
  source?: InputSource;
  env?: NodeJS.ProcessEnv;
  /** The command line, for the lock file. */
  command?: string;
  /** A Redis URL: shard jobs run on `tracepipe worker` processes through BullMQ instead of in this process. */
  queue?: string;
}

export const SIMULATION_NOTE =
  'SIMULATION: the model endpoint of this run was the bundled tracepipe simulator (tracepipe sim serve), not a model. Its paths and every dataset built from them are synthetic, for demos and tests.';

/** Input bytes from which a first run starts its worker threads before reading (about a thousand problems). */
const FIRST_RUN_THREAD_BYTES = 1 << 20;

/** Codes of rejects that are failed requests (not replies the pipeline could not use). */
const REQUEST_FAILURE = /^(http_\d+|http_error|timeout|connection|malformed_response)$/;

/** Runs (or resumes, or plans) the pipeline for a config. Only `main` handles errors and exits. */
export async function runPipeline(config: Config, opts: RunOptions = {}): Promise<RunResult> {
  const runDir = resolve(runDirOf(config));
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  await mkdir(runDir, { recursive: true });
  const lock = await acquireLock(runDir, opts.command ?? 'tracepipe run', log);
  const stateDir = join(runDir, 'state');
  const state = new RunState(stateDir);
  // This process holds the lock: its cached records are current but for the jobs run elsewhere.
  if (!opts.dryRun) state.trust();
  const drain = opts.signal ?? new AbortController().signal;
  const abort = opts.abort ?? new AbortController().signal;
  const runId =
    opts.runId ??
    `${config.name}-${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`;
  const meta = await readMeta(stateDir);
  // Present while a run is under way: a run that finds it knows the last one left files to collect.
  const marker = join(stateDir, '.unfinished');
  const unfinished = existsSync(marker);
  /** One moment names this run's snapshot, in the report and in publish. */
  const snapshotAt = new Date();
  // The content fingerprint computed for the report's snapshot id: publish reuses it (no stage writes in between).
  let provided: string | undefined;
  // The inputs' digests are hashed while the workers read them (this thread is idle then).
  const digests = Promise.all(config.inputs.map(async (i) => ({ ...i, ...(await fileDigest(i.path)) })));
  const manifest = {
    tool: 'tracepipe',
    code_version: codeVersion(),
    run_id: runId,
    name: config.name,
    status: 'running' as string,
    reason: null as string | null,
    dry_run: opts.dryRun ?? false,
    simulated: config.model?.simulated === true || meta.simulated === true,
    simulation: null as string | null,
    model: config.model ? redact({ base_url: config.model.base_url, model: config.model.model }) : null,
    config: redact(config),
    inputs: config.inputs.map((i) => ({ ...i, sha256: null as string | null, bytes: null as number | null })),
    started_at: new Date().toISOString(),
    finished_at: null as string | null,
    read: null as ReadResult | null,
    stages: [] as StageSummary[],
    snapshot: null as { id: string; parent: string | null; datasets: SnapshotInfo['datasets'] } | null,
  };
  const write = () =>
    opts.dryRun
      ? Promise.resolve()
      : writeAtomic(join(runDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const result: RunResult = {
    runDir,
    runId,
    status: 'done',
    reason: null,
    stages: [],
    read: null,
    snapshot: null,
    simulated: manifest.simulated,
    dryRun: opts.dryRun ?? false,
  };
  const ports = new RunPorts(config, { runDir, abort, drain, log, ...(opts.env ? { env: opts.env } : {}) });
  const workers = config.engine.workers > 0 ? config.engine.workers : availableParallelism();
  const queued = opts.queue !== undefined && !opts.dryRun;
  const pool = opts.dryRun || queued ? null : new LazyPool(workers, log);
  // A first run over a megabyte of inputs or more (about a thousand problems, all of them new)
  // will want the workers: they start now, loading while this thread reads.
  if (pool?.available && !existsSync(join(stateDir, 'records', 'read'))) {
    const bytes = config.inputs.reduce((n, i) => n + (existsSync(i.path) ? statSync(i.path).size : 0), 0);
    if (bytes >= FIRST_RUN_THREAD_BYTES) {
      pool.get();
      log(
        `engine: ${pool.size} worker threads start (a first run over ${(bytes / (1 << 20)).toFixed(1)} MB of inputs)`,
      );
    }
  }
  let queue: QueueExecutor | null = null;
  try {
    await rm(join(stateDir, '.scratch'), { recursive: true, force: true });
    if (!opts.dryRun) {
      await mkdir(stateDir, { recursive: true });
      await writeFile(marker, `${runId}\n`);
    }
    await cleanSnapshots(runDir);
    await write();
    const reportMeta = {
      name: config.name,
      model: config.model?.model ?? 'imported',
      simulated: manifest.simulated,
      simulationNote: manifest.simulated ? SIMULATION_NOTE : null,
    };
    const stages = opts.stages ?? STAGES;
    if (queued) {
      const { QueueExecutor } = await import('./queue/executor.ts');
      queue = await QueueExecutor.open({ url: opts.queue!, stages, state, config, runId, log, drain, abort });
    }
    const engine = await runEngine({
      config,
      runId,
      state,
      stages,
      source: opts.source ?? SOURCE,
      files: nodeFiles(),
      executor:
        queue ?? new LocalExecutor({ stages, state, ports, pool, log, ownSource: !opts.source && !opts.stages }),
      log,
      signal: drain,
      force: opts.force ?? false,
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      globals: { meta: reportMeta },
      // The snapshot these outputs will be published as, for the report that names it.
      provide: {
        snapshot: async (read) => {
          const n = await nextSnapshot(
            {
              runDir,
              state,
              config,
              datasets: datasetsOf(config, []).datasets,
              stages: PROBLEM_STAGES,
              inputRejects: read.rejects,
            },
            snapshotAt,
          );
          provided = n.content;
          return { id: n.id, parent: n.parent };
        },
      },
      onStage: async (s) => {
        if ((ports.simulated || queue?.simulated) && !manifest.simulated) {
          manifest.simulated = reportMeta.simulated = true;
          reportMeta.simulationNote = SIMULATION_NOTE;
        }
        manifest.stages = [...manifest.stages.filter((x) => x.name !== s.name), s];
        await write();
      },
    });
    // The workers are done: their heaps go before publish needs memory.
    await pool?.close();
    manifest.read = engine.read;
    result.read = engine.read;
    result.stages = engine.stages;
    if (manifest.simulated) {
      manifest.simulation = SIMULATION_NOTE;
      await writeMeta(stateDir, { ...meta, simulated: true });
    }
    result.simulated = manifest.simulated;
    if (opts.dryRun) return result;
    if (engine.status === 'interrupted') {
      result.status = 'interrupted';
      result.reason = 'interrupted: finished work is kept; a re-run resumes from it';
      return result;
    }
    result.reason = failureOf(config, engine.read, engine.stages, stages);
    if (result.reason) {
      result.status = 'failed';
      return result;
    }
    if (!opts.only || opts.only === 'emit') {
      const snap = await publishRun(
        config,
        runDir,
        state,
        runId,
        engine.files,
        engine.read,
        engine.globals,
        engine.stages,
        manifest.simulated,
        log,
        snapshotAt,
        provided,
      );
      result.snapshot = snap;
      if (snap) manifest.snapshot = { id: snap.id, parent: snap.parent, datasets: snap.datasets };
    }
    // The run's own copies of the latest report and calibration (also in the snapshot).
    for (const [rel, text] of Object.entries(engine.files))
      if (rel.startsWith('report/')) await writeAtomic(join(runDir, rel), text);
    if (engine.files['calibration.json'])
      await writeAtomic(join(runDir, 'calibration.json'), engine.files['calibration.json']);
    // Garbage exists only where this run replaced segments, a run before it did not finish, or
    // (on the queue) a worker may have died in the middle of a shard.
    if (!unfinished && engine.superseded === 0 && !queued) {
      await rm(marker, { force: true });
      return result;
    }
    const listed = new Set<string>();
    for (const st of stages)
      for (const r of (await state.records(st.name)).values())
        for (const [t, segs] of Object.entries(r.tables))
          for (const seg of segs) listed.add(join(t === 'rejects' ? `rejects.${st.name}` : t, r.shard, seg.file));
    for (const r of (await state.records('read')).values())
      for (const seg of r.tables.raw ?? []) listed.add(join('raw', r.shard, seg.file));
    await state.collectGarbage(listed);
    await rm(marker, { force: true });
    return result;
  } catch (e) {
    result.status = 'failed';
    result.reason = (e as Error).message;
    throw e;
  } finally {
    manifest.inputs = await digests;
    manifest.status = result.status;
    manifest.reason = result.reason;
    manifest.finished_at = new Date().toISOString();
    await write().catch(() => undefined);
    ports.close();
    await pool?.close();
    await queue?.close();
    await lock.release();
  }
}

/** Why a finished run must exit non-zero: no input, a stage that produced nothing, too many failed requests. */
function failureOf(
  config: Config,
  read: ReadResult,
  stages: readonly StageSummary[],
  defs: readonly StageDef[],
): string | null {
  if (read.rows === 0 && read.rejects.length === 0)
    return `the inputs hold no rows (${config.inputs.map((i) => i.path).join(', ')})`;
  // Failed requests against the model, for every stage that calls one.
  const max = (config.generate as { max_failure_rate?: number } | null)?.max_failure_rate ?? 0.2;
  for (const s of stages) {
    const def = defs.find((d) => d.name === s.name);
    if (!def || def.kind !== 'problem' || !def.models || def.models(config).length === 0) continue;
    const failed = Object.entries(s.rejects)
      .filter(([code]) => REQUEST_FAILURE.test(code))
      .reduce((n, [, v]) => n + v, 0);
    const tried =
      (def.items ?? def.writes).reduce((n, t) => n + (s.rows[t] ?? 0), 0) +
      Object.values(s.rejects).reduce((n, v) => n + v, 0);
    if (tried > 0 && failed / tried > max)
      return `${s.name}: ${failed} of ${tried} items failed at the server (${((100 * failed) / tried).toFixed(1)}% > generate.max_failure_rate ${max}); ${Object.entries(
        s.rejects,
      )
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')} (see rejects.parquet)`;
  }
  for (const s of stages) {
    const def = defs.find((d) => d.name === s.name);
    if (!def || def.kind !== 'problem' || s.problems.total === 0 || def.produces?.(config) === false) continue;
    const made = (def.items ?? def.writes).reduce((n, t) => n + (s.rows[t] ?? 0), 0);
    if (made === 0)
      return `${s.name} produced nothing from ${s.problems.total} problem(s)${
        Object.keys(s.rejects).length
          ? `; rejects: ${Object.entries(s.rejects)
              .map(([c, n]) => `${c} ${n}`)
              .join(', ')} (see rejects.parquet)`
          : ''
      }`;
  }
  return null;
}

/** What the emit stage publishes: each dataset's card texts, with its counts over the whole run. */
function datasetsOf(config: Config, stages: readonly StageSummary[]) {
  const emitTotals = (stages.find((s) => s.name === 'emit')?.totals ?? {}) as Record<
    string,
    { rows: number; candidates: number; dropped: Record<string, number> }
  >;
  const meta = emit({ problems: [], nodes: [], scored: [] }, config.emit);
  const datasets = meta.map((d) => ({
    name: d.name as keyof typeof STATE_TABLES,
    writer: 'emit',
    title: d.title,
    summary: d.summary,
    trl: d.trl,
    candidates: emitTotals[d.name]?.candidates ?? 0,
    dropped: emitTotals[d.name]?.dropped ?? {},
  }));
  return { meta, datasets, emitTotals };
}

const PROBLEM_STAGES = STAGES.filter((s) => s.kind === 'problem').map((s) => s.name);

/** Publishes the run's outputs as a snapshot (when they changed), with dataset cards and the repository card. */
async function publishRun(
  config: Config,
  runDir: string,
  state: RunState,
  runId: string,
  files: Record<string, string>,
  read: ReadResult,
  globals: Record<string, unknown>,
  stages: readonly StageSummary[],
  simulated: boolean,
  log: (line: string) => void,
  at: Date,
  content: string | undefined,
): Promise<SnapshotInfo | null> {
  const { meta, datasets, emitTotals } = datasetsOf(config, stages);
  const cal = globals.calibrate as CalibrationResult | undefined;
  const inForce = thresholdsByDomain(config, cal, Object.keys(cal?.domains ?? {}));
  const model = config.model?.model ?? 'imported';
  return publish(
    {
      runDir,
      state,
      config,
      runId,
      datasets,
      files,
      inputRejects: read.rejects,
      stages: PROBLEM_STAGES,
      ...(content === undefined ? {} : { content }),
      simulated,
      limits: {
        memoryLimit: config.engine.duckdb_memory_limit,
        tempDirectory: config.engine.duckdb_temp_directory ?? join(state.dir, '.duckdb-tmp'),
      },
      log,
      cards: async (dir, snap, rows, textOnly) => {
        for (const d of meta) {
          const table = textOnly && d.table.columns.includes('images') ? d.table.without('images') : d.table;
          const card = datasetCard(table, {
            title: d.title,
            summary: d.summary,
            rows: rows[d.name] ?? 0,
            candidates: emitTotals[d.name]?.candidates ?? 0,
            dropped: emitTotals[d.name]?.dropped ?? {},
            settings: { ...config.emit, calibrate: config.calibrate },
            trl: d.trl,
            run: config.name,
            runId,
            model,
            simulated,
            snapshot: { id: snap.id, parent: snap.parent },
            thresholds: inForce,
          });
          await writeFile(join(dir, d.name, 'README.md'), card);
        }
        await writeFile(
          join(dir, 'README.md'),
          repoCard(
            meta.map((d) => ({
              name: d.name,
              table: textOnly && d.table.columns.includes('images') ? d.table.without('images') : d.table,
              rows: rows[d.name] ?? 0,
            })),
            {
              run: config.name,
              runId,
              model,
              simulated,
              snapshot: { id: snap.id, parent: snap.parent },
              thresholds: inForce,
            },
          ),
        );
      },
    },
    at,
  );
}

async function readMeta(stateDir: string): Promise<{ simulated?: boolean }> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'meta.json'), 'utf8')) as { simulated?: boolean };
  } catch {
    return {};
  }
}

async function writeMeta(stateDir: string, meta: { simulated?: boolean }): Promise<void> {
  await writeAtomic(join(stateDir, 'meta.json'), JSON.stringify(meta));
}

/** sha256 and size of an input file, streamed (memory stays flat for large inputs). */
export async function fileDigest(file: string): Promise<{ sha256: string | null; bytes: number | null }> {
  try {
    const { size } = await stat(file);
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    return { sha256: h.digest('hex'), bytes: size };
  } catch {
    return { sha256: null, bytes: null };
  }
}

let version: string | undefined;
/** `git describe` of the code when it is a checkout, else the package version. */
export function codeVersion(): string {
  if (version) return version;
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  try {
    version = execFileSync('git', ['-C', root, 'describe', '--always', '--dirty'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    version = 'unknown';
  }
  return version;
}
