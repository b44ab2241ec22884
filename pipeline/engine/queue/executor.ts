/**
 * @module pipeline/engine/queue/executor
 * The queue executor (`tracepipe run --queue`): the coordinator's side. Each shard job the engine
 * hands it is planned against the records on disk (nothing to do: its skipped results come back at
 * once, nothing is enqueued), named by content, marked as wanted by this run, and added to BullMQ;
 * it then waits for a worker's result. Adding a job whose id exists does nothing: it attaches to it.
 * The engine sequences the stage groups (it waits for a group's jobs before the next), so the queue
 * needs no flow between them; a flow would also tie each job to one parent, and BullMQ refuses a job
 * that already has another parent ("The parent job … cannot be replaced"), so a restarted
 * coordinator could not attach to the jobs its predecessor left. A first Ctrl-C removes the jobs no
 * worker has started (the active ones finish and are recorded); a second one stops waiting.
 * Progress: one line per stage group.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../../schemas/config.ts';
import { redactUrl } from '../../../schemas/redact.ts';
import type { ProblemStage, StageDef } from '../../../stages/lib/stage.ts';
import type { Log } from '../../../stages/lib/ports.ts';
import type { RunState } from '../../io/state.ts';
import type { JobResult } from '../job.ts';
import type { Executor, ShardJob } from '../runner.ts';
import { bullConnection, KEY_TTL_S, keys, openRedis, QUEUE_NAME, runKeyOf } from './connection.ts';
import { initBudget } from './budget.ts';
import { planShardJob } from './job-id.ts';
import { QueueProgress } from './progress.ts';
import type { ProgressOptions } from '../../io/client/progress.ts';
import type { QueueJobData, QueueJobResult } from './worker.ts';

/** Jobs in flight at once: every shard of a stage group (the engine's shard count is at most 4096). */
const SLOTS = 4096;

/** How long finished jobs stay in Redis (for dashboards, and so a coordinator that restarts can attach). */
const KEEP = { completed: { age: 24 * 3600, count: 20_000 }, failed: { age: 7 * 24 * 3600 } };

export interface QueueExecutorOptions {
  url: string;
  stages: readonly StageDef[];
  state: RunState;
  config: Config;
  runId: string;
  log: Log;
  /** First Ctrl-C: jobs not yet started are taken off the queue. */
  drain: AbortSignal;
  /** Second Ctrl-C: stop waiting for the active ones. */
  abort: AbortSignal;
  /** Attempts of a job that fails (a stalled job, whose worker died, is retried besides these). */
  attempts?: number;
  /** Where the progress lines go (default stderr). */
  progress?: ProgressOptions;
  /** How often the coordinator checks that some worker is connected while jobs wait (default 60 s). */
  watchMs?: number;
}

/** While jobs wait and no worker is connected, the coordinator says so at most this often (in checks). */
const SAY_EVERY = 10;

type Waiting = { resolve: (r: QueueJobResult | null) => void };

/** The coordinator's executor: shard jobs go to BullMQ and come back as the workers' results. */
export class QueueExecutor implements Executor {
  /** True once a worker said its replies came from the bundled simulator. */
  simulated = false;
  private readonly pending = new Map<string, Waiting>();
  private readonly names = new Map<string, string>();
  private readonly progress: QueueProgress;
  private readonly stageMap: Map<string, ProblemStage>;
  private readonly runKey: string;
  private readonly watch: NodeJS.Timeout;

  private constructor(
    private readonly o: QueueExecutorOptions,
    private readonly redis: Redis,
    private readonly queue: Queue<QueueJobData, QueueJobResult>,
    private readonly events: QueueEvents,
  ) {
    this.stageMap = new Map(o.stages.filter((s): s is ProblemStage => s.kind === 'problem').map((s) => [s.name, s]));
    this.runKey = runKeyOf(o.state.dir);
    this.progress = new QueueProgress(o.progress);
    events.on('progress', ({ jobId, data }) => this.progress.counts(jobId, data));
    events.on('stalled', ({ jobId }) => {
      const name = this.names.get(jobId);
      if (name)
        o.log(
          `queue: ${name} stalled (its worker stopped renewing its lock): it goes back on the queue for another worker`,
        );
    });
    // Jobs wait for ever when no worker runs (all of them died, or none was started): say so, on
    // the first check that finds none and every SAY_EVERY checks after.
    let idle = 0;
    this.watch = setInterval(() => {
      if (this.pending.size === 0) return;
      void queue.getWorkers().then(
        (ws) => {
          if (ws.length > 0) idle = 0;
          else if (idle++ % SAY_EVERY === 0)
            o.log(
              `queue: no worker is connected to ${redactUrl(o.url)} and ${this.pending.size} shard job(s) wait; start one: tracepipe worker --queue URL`,
            );
        },
        () => {},
      );
    }, o.watchMs ?? 60_000);
    o.drain.addEventListener('abort', () => void this.dropWaiting(), { once: true });
    o.abort.addEventListener('abort', () => {
      for (const w of this.pending.values()) w.resolve(null);
    });
  }

  /** Connects, makes this run the owner of its folder (older runs' jobs become stale), and registers its budget. */
  static async open(o: QueueExecutorOptions): Promise<QueueExecutor> {
    const redis = await openRedis(o.url);
    const queue = new Queue<QueueJobData, QueueJobResult>(QUEUE_NAME, { connection: bullConnection(o.url) });
    const events = new QueueEvents(QUEUE_NAME, { connection: bullConnection(o.url) });
    queue.on('error', (e) => o.log(`queue: ${e.message}`));
    events.on('error', (e) => o.log(`queue events: ${e.message}`));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const ex = new QueueExecutor(o, redis, queue, events);
    await redis.set(keys.owner(ex.runKey), o.runId, 'EX', KEY_TTL_S);
    const budget = o.config.generate?.max_budget;
    if (budget !== undefined && budget !== null) await initBudget(redis, o.runId, budget);
    const workers = (await queue.getWorkers()).length;
    o.log(
      `queue: shard jobs go to ${redactUrl(o.url)} (queue ${QUEUE_NAME}); ${workers} worker(s) connected${
        workers ? '' : ': jobs wait until one starts (tracepipe worker --queue URL)'
      }`,
    );
    return ex;
  }

  slots(): number {
    return SLOTS;
  }

  finished(stage: string): void {
    this.progress.finish(stage);
  }

  async run(job: ShardJob): Promise<JobResult[]> {
    const group = job.stages.join('+');
    this.progress.enter(group);
    const plan = await planShardJob(job, this.stageMap, this.o.state);
    if (plan.upToDate) return plan.upToDate;
    const name = `${group}@${job.shard}`;
    this.names.set(plan.id, name);
    this.progress.enqueued(group, plan.id);
    try {
      // Stale: a newer coordinator did not want the job yet when it ran. Enqueue it afresh (a few times at most).
      for (let attempt = 1; ; attempt++) {
        if (this.o.drain.aborted) return [];
        const out = await this.enqueue(name, plan.id, job);
        if (out === null) return [];
        if (out.simulated) this.simulated = true;
        if (!out.stale) return out.results;
        if (attempt >= 3)
          throw new Error(
            `shard job ${name} was discarded as stale ${attempt} times: is another coordinator running on ${this.o.state.dir}?`,
          );
        await this.queue.remove(plan.id);
      }
    } finally {
      this.progress.finished(plan.id);
    }
  }

  /** Marks the job wanted by this run, adds it (or attaches to the job of that id), and waits for its result. */
  private async enqueue(name: string, id: string, job: ShardJob): Promise<QueueJobResult | null> {
    await this.redis
      .multi()
      .hset(keys.wanted(this.runKey), id, this.o.runId)
      .expire(keys.wanted(this.runKey), KEY_TTL_S)
      .exec();
    const bj = await this.queue.add(
      name,
      { job, runKey: this.runKey },
      {
        jobId: id,
        attempts: this.o.attempts ?? 3,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: KEEP.completed,
        removeOnFail: KEEP.failed,
      },
    );
    // An earlier run's job of the same content that failed: try it again rather than report its old failure.
    if ((await bj.getState()) === 'failed') await bj.retry('failed');
    return this.wait(bj, name);
  }

  private wait(bj: Job<QueueJobData, QueueJobResult>, name: string): Promise<QueueJobResult | null> {
    const id = bj.id!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve });
      bj.waitUntilFinished(this.events)
        .then(
          (r: QueueJobResult) => resolve(r),
          (e: Error) => reject(new Error(`shard job ${name} failed on the workers: ${e.message}`)),
        )
        .finally(() => this.pending.delete(id));
    });
  }

  /** Takes the jobs no worker has started off the queue; the run then stops once the active ones end. */
  private async dropWaiting(): Promise<void> {
    for (const [id, w] of this.pending) if ((await this.queue.remove(id).catch(() => 0)) === 1) w.resolve(null);
  }

  /** Ends the progress lines and closes the connections. */
  async close(): Promise<void> {
    clearInterval(this.watch);
    this.progress.close();
    for (const w of this.pending.values()) w.resolve(null);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }
}
