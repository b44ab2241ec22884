/**
 * @module pipeline/engine/queue/worker
 * A queue worker (`tracepipe worker`): it takes shard jobs off BullMQ and runs each with the engine's
 * own code (`LocalExecutor.run`: plan, recompute what changed, write segments then the record) on the
 * run folder the job names, which every worker mounts at the same path. Before it plans, a job takes
 * its shard's lock; its records pass the lock's fence; its model clients share each server's limits
 * and the run's budget through Redis; its cache entries go to this worker's own file in the shard's
 * cache. A job no coordinator wants any more is completed as stale without running.
 * CPU-bound stages run in this process's event loop (one job's stage at a time per job slot): run one
 * worker per core for CPU-heavy runs, and keep `lockMs` above the longest CPU step of one shard.
 */
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { STAGES } from '../../../stages/index.ts';
import type { StageDef } from '../../../stages/lib/stage.ts';
import type { JobResult } from '../job.ts';
import { RunPorts } from '../ports.ts';
import { LocalExecutor, type PortFactory, type ShardJob } from '../runner.ts';
import type { ModelSettings } from '../../io/client/config.ts';
import { bullConnection, openRedis, QUEUE_NAME } from './connection.ts';
import { AdmissionCore, serverKeyOf } from './limiter.ts';
import { RedisLimiter } from './client-limiter.ts';
import { initBudget, RedisBudget } from './budget.ts';
import { FencedState, isWanted, ShardLock, StaleJobError } from './shard-lock.ts';
import { forwardingSink } from './progress.ts';

/** What a job carries: the engine's shard job and the name of its run folder in our keys. */
export interface QueueJobData {
  job: ShardJob;
  runKey: string;
}

/** What a job returns: the engine's results, or `stale` (nothing was run or recorded). */
export interface QueueJobResult {
  results: JobResult[];
  stale: boolean;
  simulated: boolean;
  worker: string;
}

export interface QueueWorkerOptions {
  url: string;
  /** Jobs run at once (each a stage of one shard; a model stage keeps many requests in flight). */
  concurrency: number;
  /** This worker's name: in logs, and as the writer of its cache files. Default `<host>-<pid>`. */
  name?: string;
  /** A job whose worker has not renewed its locks for this long is handed to another worker. */
  lockMs: number;
  log: (line: string) => void;
  /** Aborts requests in flight and refuses every record write from then on (a second Ctrl-C). */
  abort: AbortSignal;
  stages?: readonly StageDef[];
  env?: NodeJS.ProcessEnv;
}

/** The default worker name: host and PID, in the characters a file name may hold. */
export const defaultWorkerName = () => `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '_');

/** One worker process's BullMQ worker, with its admission cores (one per server) and run budgets. */
export class QueueWorker {
  private readonly cores = new Map<string, AdmissionCore>();
  private readonly budgets = new Map<string, RedisBudget>();
  private readonly bull: Worker<QueueJobData, QueueJobResult>;
  readonly name: string;

  private constructor(
    private readonly redis: Redis,
    private readonly o: QueueWorkerOptions,
  ) {
    this.name = o.name ?? defaultWorkerName();
    this.bull = new Worker<QueueJobData, QueueJobResult>(QUEUE_NAME, (job) => this.process(job), {
      connection: bullConnection(o.url),
      concurrency: o.concurrency,
      name: this.name,
      lockDuration: o.lockMs,
      stalledInterval: Math.max(500, Math.round(o.lockMs / 2)),
      // A job whose worker is killed twice (or more) is still retried, not failed.
      maxStalledCount: 5,
    });
    this.bull.on('error', (e) => o.log(`worker ${this.name}: ${e.message}`));
    this.bull.on('failed', (job, e) =>
      o.log(`worker ${this.name}: job ${job?.name ?? '?'} (${job?.id ?? '?'}) failed: ${e.message}`),
    );
  }

  /** Connects (a Redis that does not answer is a one-line ConfigError) and starts taking jobs. */
  static async start(o: QueueWorkerOptions): Promise<QueueWorker> {
    const redis = await openRedis(o.url);
    const w = new QueueWorker(redis, o);
    await w.bull.waitUntilReady();
    return w;
  }

  /** Stops taking jobs and waits for the active ones (`force`: does not wait; they are retried elsewhere). */
  async close(force = false): Promise<void> {
    await this.bull.close(force);
    for (const c of this.cores.values()) c.dispose();
    this.redis.disconnect();
  }

  private core(s: ModelSettings): AdmissionCore {
    const limits = { concurrency: s.generate.concurrency, rpm: s.generate.rpm, tpm: s.generate.tpm };
    const key = `${serverKeyOf(s.model.base_url)}/${JSON.stringify(limits)}`;
    let c = this.cores.get(key);
    if (!c) this.cores.set(key, (c = new AdmissionCore(this.redis, serverKeyOf(s.model.base_url), limits, this.name)));
    return c;
  }

  private async budget(job: ShardJob): Promise<RedisBudget | null> {
    const g = job.config.generate;
    if (!g || g.max_budget === null) return null;
    let b = this.budgets.get(job.runId);
    if (!b) {
      await initBudget(this.redis, job.runId, g.max_budget);
      this.budgets.set(job.runId, (b = new RedisBudget(this.redis, job.runId, g.max_budget, g.prices)));
    }
    return b;
  }

  private async process(bj: Job<QueueJobData>): Promise<QueueJobResult> {
    const { job: data, runKey } = bj.data;
    const id = bj.id!;
    const label = `worker ${this.name}: ${bj.name}`;
    const stale: QueueJobResult = { results: [], stale: true, simulated: false, worker: this.name };
    // Rows and the budget belong to the coordinator that owns the folder now (it may have attached to an older job).
    const owner = await isWanted(this.redis, runKey, id);
    if (!owner) {
      this.o.log(`${label}: no coordinator wants this job any more; completed without running`);
      return stale;
    }
    // The job's own abort: the worker's, or a renewal that finds the lock lost or the job unwanted.
    const abort = new AbortController();
    const stop = () => abort.abort();
    this.o.abort.addEventListener('abort', stop, { once: true });
    const lock = await ShardLock.acquire(this.redis, {
      runKey,
      shard: data.shard,
      jobId: id,
      lockMs: this.o.lockMs,
      waitMs: 3 * this.o.lockMs + 10_000,
      signal: abort.signal,
      onLost: () => {
        this.o.log(`${label}: its lock is lost or its coordinator no longer wants it: stopping its requests`);
        stop();
      },
    }).catch((e: unknown) => {
      this.o.abort.removeEventListener('abort', stop);
      throw e;
    });
    const job: ShardJob = { ...data, runId: owner };
    const t0 = performance.now();
    let ports: RunPorts | null = null;
    let budget: RedisBudget | null = null;
    const sinks: ReturnType<typeof forwardingSink>[] = [];
    const tick = setInterval(() => sinks.forEach((s) => s.flush()), 1000);
    try {
      budget = await this.budget(job);
      const b = budget;
      ports = new RunPorts(job.config, {
        runDir: dirname(job.stateDir),
        abort: abort.signal,
        drain: new AbortController().signal,
        log: this.o.log,
        writer: this.name,
        limiter: (s) => new RedisLimiter(this.core(s), b),
        ...(b ? { budget: b } : {}),
        ...(this.o.env ? { env: this.o.env } : {}),
      });
      const inner = ports;
      const factory: PortFactory = {
        open: async (stage, shard, problems) => {
          const opened = await inner.open(stage, shard, problems);
          const p = opened.ports.progress;
          if (!p) return opened;
          const sink = forwardingSink(p, (c) => void bj.updateProgress({ ...c, worker: this.name }).catch(() => {}));
          sinks.push(sink);
          return { ...opened, ports: { ...opened.ports, progress: sink } };
        },
        finishProgress: (stage) => inner.finishProgress(stage),
      };
      const state = new FencedState(job.stateDir, async () => {
        if (this.o.abort.aborted) throw new StaleJobError(`${label}: the worker is stopping; nothing is recorded`);
        await lock.fence();
      });
      this.o.log(`${label}: started (job ${id})`);
      const results = await new LocalExecutor({
        stages: this.o.stages ?? STAGES,
        state,
        ports: factory,
        pool: null,
        log: this.o.log,
      }).run(job);
      const computed = results.reduce((n, r) => n + r.computed, 0);
      this.o.log(
        `${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${computed} problem(s) computed)`,
      );
      return { results, stale: false, simulated: ports.simulated, worker: this.name };
    } catch (e) {
      if (!(e instanceof StaleJobError)) throw e;
      this.o.log(`${label}: ${e.message}`);
      return stale;
    } finally {
      clearInterval(tick);
      sinks.forEach((s) => s.flush());
      for (const s of job.stages) ports?.finishProgress(s);
      ports?.close();
      await budget?.release().catch(() => {});
      await lock.release();
      this.o.abort.removeEventListener('abort', stop);
    }
  }
}
