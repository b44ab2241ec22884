/**
 * The queue executor and workers in one process, on literal stages and a real redis-server: a queue
 * run writes the rows a local run writes; an unchanged re-run enqueues nothing; the same job enqueued
 * twice runs once; a job no coordinator wants is not run; two jobs of one shard never run at once; a
 * failing stage fails the run naming its shard; a first Ctrl-C takes the waiting jobs off the queue.
 */
import { beforeEach, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Config } from '../../../../schemas/config.ts';
import type { StageDef } from '../../../../stages/lib/stage.ts';
import { RunState } from '../../../../pipeline/io/state.ts';
import { nodeFiles } from '../../../../pipeline/io/files.ts';
import { LocalExecutor, runEngine, type PortFactory, type ShardJob } from '../../../../pipeline/engine/runner.ts';
import { readInputs } from '../../../../pipeline/engine/read.ts';
import { writersOf } from '../../../../pipeline/engine/job.ts';
import { shardOf } from '../../../../pipeline/engine/shards.ts';
import { QueueExecutor } from '../../../../pipeline/engine/queue/executor.ts';
import { QueueWorker } from '../../../../pipeline/engine/queue/worker.ts';
import { bullConnection, keys, QUEUE_NAME, runKeyOf } from '../../../../pipeline/engine/queue/connection.ts';
import { describeRedis, literalStages, runConfig, sourceOf, useRedis, type Row, type Seen } from './helpers.ts';

const quiet = () => {};
const silent = { stream: { write: () => true } as unknown as NodeJS.WritableStream };
const noPorts: PortFactory = {
  open: async () => ({
    ports: {
      model: () => {
        throw new Error('no model');
      },
      images: async () => ({ ok: true, parts: [] }),
      files: nodeFiles(),
      log: quiet,
    },
    close: async () => {},
  }),
  finishProgress: () => {},
};

describeRedis('queue executor', () => {
  const redis = useRedis();
  beforeEach(async () => {
    await redis.client().flushall();
  });

  const workers = (n: number, stages: readonly StageDef[], abort = new AbortController().signal) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        QueueWorker.start({ url: redis.url, concurrency: 2, name: `w${i}`, lockMs: 2000, log: quiet, abort, stages }),
      ),
    );

  async function queueRun(
    stages: readonly StageDef[],
    state: RunState,
    config: Config,
    rows: [string, string][],
    o: { runId?: string; drain?: AbortSignal; attempts?: number; log?: (line: string) => void; watchMs?: number } = {},
  ) {
    const drain = o.drain ?? new AbortController().signal;
    const runId = o.runId ?? 'r1';
    const ex = await QueueExecutor.open({
      url: redis.url,
      stages,
      state,
      config,
      runId,
      log: o.log ?? quiet,
      drain,
      abort: new AbortController().signal,
      progress: silent,
      ...(o.attempts ? { attempts: o.attempts } : {}),
      ...(o.watchMs ? { watchMs: o.watchMs } : {}),
    });
    try {
      return await runEngine({
        config,
        runId,
        state,
        stages,
        source: sourceOf(() => rows),
        files: nodeFiles(),
        executor: ex,
        log: quiet,
        signal: drain,
      });
    } finally {
      await ex.close();
    }
  }

  const live = async (state: RunState) =>
    (await state.allRows<Row>('two', 'scores')).map((r) => `${r.problem_id}=${r.value}`).sort();

  const counts = async () => {
    const q = new Queue(QUEUE_NAME, { connection: bullConnection(redis.url) });
    try {
      return await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    } finally {
      await q.close();
    }
  };

  it('writes the rows a local run writes, every problem computed once; an unchanged re-run enqueues nothing', async () => {
    const rows = Array.from({ length: 20 }, (_, i): [string, string] => [`p${i}`, `v${i}`]);
    const local = await runConfig(8);
    const seenLocal: Seen = { one: [], two: [], maxPerShard: 0 };
    const localStages = literalStages(seenLocal);
    const localState = new RunState(join(local.dir, 'state'));
    await runEngine({
      config: local.config,
      runId: 'l',
      state: localState,
      stages: localStages,
      source: sourceOf(() => rows),
      files: nodeFiles(),
      executor: new LocalExecutor({ stages: localStages, state: localState, ports: noPorts, pool: null, log: quiet }),
      log: quiet,
      signal: new AbortController().signal,
    });

    const q = await runConfig(8);
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen, { delayMs: 20 });
    const state = new RunState(join(q.dir, 'state'));
    const ws = await workers(2, stages);
    try {
      const r = await queueRun(stages, state, q.config, rows);
      expect(r.status).toBe('done');
      expect(await live(state)).toEqual(await live(localState));
      expect(seen.one.sort()).toEqual(rows.map(([id]) => id).sort());
      expect(seen.two.sort()).toEqual(rows.map(([id]) => id).sort());
      const shardsWithProblems = new Set(rows.map(([id]) => shardOf(id, 8))).size;
      expect(shardsWithProblems).toBeLessThan(8);
      // one job per shard with problems for `one`, and one for `two`; none for a shard without problems
      expect((await counts()).completed).toBe(2 * shardsWithProblems);

      const again = await queueRun(stages, state, q.config, rows, { runId: 'r2' });
      expect(again.stages.map((s) => s.status)).toEqual(['skipped', 'skipped']);
      expect((await counts()).completed).toBe(2 * shardsWithProblems);
      expect(seen.one).toHaveLength(rows.length);
    } finally {
      await Promise.all(ws.map((w) => w.close()));
    }
  });

  /** The raw records of a run folder (what the coordinator reads before its first stage), and a job of stage `one`. */
  async function firstJob(
    rows: [string, string][],
    stages: readonly StageDef[],
    globals: Record<string, unknown> = {},
  ) {
    const { dir, config } = await runConfig(2);
    const state = new RunState(join(dir, 'state'));
    await readInputs(
      sourceOf(() => rows),
      config,
      state,
      nodeFiles(),
      { runId: 'r1', log: quiet },
    );
    const shard = shardOf(rows[0]![0], 2);
    const job: ShardJob = {
      stages: ['one'],
      shard,
      stateDir: state.dir,
      config,
      runId: 'r1',
      globals,
      writers: [...writersOf(stages)] as [string, string][],
      force: false,
      io: true,
    };
    return { state, config, job, shard };
  }

  const executor = (stages: readonly StageDef[], state: RunState, config: Config) =>
    QueueExecutor.open({
      url: redis.url,
      stages,
      state,
      config,
      runId: 'r1',
      log: quiet,
      drain: new AbortController().signal,
      abort: new AbortController().signal,
      progress: silent,
    });

  it('runs a job enqueued twice once: the second add finds its content address and waits for the same result', async () => {
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen, { delayMs: 200 });
    const { state, config, job } = await firstJob([['a', 'x']], stages);
    const ex = await executor(stages, state, config);
    const ws = await workers(2, stages);
    try {
      const [r1, r2] = await Promise.all([ex.run(job), ex.run(job)]);
      expect(r1).toEqual(r2);
      expect(r1[0]).toMatchObject({ stage: 'one', status: 'done', computed: 1 });
      expect(seen.one).toEqual(['a']);
      expect(await counts()).toMatchObject({ completed: 1, waiting: 0, active: 0, failed: 0 });
      // Once recorded, the job has nothing to do: it comes back skipped without going on the queue.
      expect((await ex.run(job))[0]).toMatchObject({ status: 'skipped' });
      expect((await counts()).completed).toBe(1);
    } finally {
      await ex.close();
      await Promise.all(ws.map((w) => w.close()));
    }
  });

  it('does not run a job that no coordinator of its run folder wants (a dead coordinator left it)', async () => {
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen);
    const { state, job, shard } = await firstJob([['a', 'x']], stages);
    const r = redis.client();
    await r.set(keys.owner(runKeyOf(state.dir)), 'r-newer');
    const q = new Queue(QUEUE_NAME, { connection: bullConnection(redis.url) });
    const { QueueEvents } = await import('bullmq');
    const events = new QueueEvents(QUEUE_NAME, { connection: bullConnection(redis.url) });
    const ws = await workers(1, stages);
    try {
      await events.waitUntilReady();
      const bj = await q.add('one@x', { job, runKey: runKeyOf(state.dir) }, { jobId: 'j-left-by-a-dead-run' });
      expect(await bj.waitUntilFinished(events)).toMatchObject({ stale: true, results: [] });
      expect(seen.one).toEqual([]);
      expect(existsSync(join(state.dir, 'records', 'one', `${shard}.json`))).toBe(false);
    } finally {
      await Promise.all(ws.map((w) => w.close()));
      await events.close();
      await q.close();
    }
  });

  it('never runs two jobs of one shard at once, even on two workers (the second re-plans after the first)', async () => {
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen, { delayMs: 400 });
    const { state, config, job } = await firstJob([['a', 'x']], stages);
    const ex = await executor(stages, state, config);
    const ws = await workers(2, stages);
    try {
      // Different run-stage results: two different jobs (ids) of the same stage and shard.
      const other = { ...job, globals: { other: true } };
      const [a, b] = await Promise.all([ex.run(job), ex.run(other)]);
      expect(seen.maxPerShard).toBe(1);
      expect(seen.one).toEqual(['a']);
      expect([a[0]!.status, b[0]!.status].sort()).toEqual(['done', 'skipped']);
    } finally {
      await ex.close();
      await Promise.all(ws.map((w) => w.close()));
    }
  });

  it('a coordinator restarted after a crash attaches to the jobs its predecessor left on the queue', async () => {
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen);
    const { dir, config } = await runConfig(4);
    const state = new RunState(join(dir, 'state'));
    const rows = Array.from({ length: 12 }, (_, i): [string, string] => [`p${i}`, 'v']);
    const shards = new Set(rows.map(([id]) => shardOf(id, 4))).size;
    // The first coordinator enqueues stage one's jobs (no worker is up) and dies.
    const first = await QueueExecutor.open({
      url: redis.url,
      stages,
      state,
      config,
      runId: 'r1',
      log: quiet,
      drain: new AbortController().signal,
      abort: new AbortController().signal,
      progress: silent,
    });
    const dead = runEngine({
      config,
      runId: 'r1',
      state,
      stages,
      source: sourceOf(() => rows),
      files: nodeFiles(),
      executor: first,
      log: quiet,
      signal: new AbortController().signal,
    }).catch(() => null);
    for (let i = 0; i < 100 && ((await counts()).waiting ?? 0) < shards; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await counts()).waiting).toBe(shards);
    await first.close();
    await dead;
    // The next one finds the same jobs (same content, same ids) and claims them: nothing is added; workers
    // that start then run each once, for the new run.
    const second = queueRun(stages, state, config, rows, { runId: 'r2' });
    const wanted = keys.wanted(runKeyOf(state.dir));
    const r2 = redis.client();
    for (let i = 0; i < 100 && (await r2.hvals(wanted)).filter((v) => v === 'r2').length < shards; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await r2.hlen(wanted)).toBe(shards);
    const ws = await workers(2, stages);
    try {
      const r = await second;
      expect(r.status).toBe('done');
      expect(seen.one.sort()).toEqual(rows.map(([id]) => id).sort());
      expect((await counts()).completed).toBe(2 * shards);
      for (const rec of (await state.records('one')).values()) expect(rec.run_id).toBe('r2');
    } finally {
      await Promise.all(ws.map((w) => w.close()));
    }
  });

  it('fails the run when a stage throws on the workers, naming the shard job and the error', async () => {
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen, { fail: 'b' });
    const { dir, config } = await runConfig(2);
    const ws = await workers(1, stages);
    try {
      await expect(
        queueRun(
          stages,
          new RunState(join(dir, 'state')),
          config,
          [
            ['a', 'x'],
            ['b', 'y'],
          ],
          { attempts: 1 },
        ),
      ).rejects.toThrow(new RegExp(`shard job one@${shardOf('b', 2)} failed on the workers: literal failure on b`));
    } finally {
      await Promise.all(ws.map((w) => w.close()));
    }
  });

  it('a first Ctrl-C takes the jobs no worker has started off the queue, and the run ends interrupted', async () => {
    const seen: Seen = { one: [], two: [], maxPerShard: 0 };
    const stages = literalStages(seen);
    const { dir, config } = await runConfig(4);
    const drain = new AbortController();
    const rows = Array.from({ length: 12 }, (_, i): [string, string] => [`p${i}`, 'v']);
    const lines: string[] = [];
    const run = queueRun(stages, new RunState(join(dir, 'state')), config, rows, {
      drain: drain.signal,
      log: (l) => lines.push(l),
      watchMs: 100,
    });
    for (let i = 0; i < 100 && (await counts()).waiting === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await counts()).waiting).toBeGreaterThan(0);
    // No worker runs: the coordinator says so instead of waiting in silence.
    for (let i = 0; i < 100 && !lines.some((l) => l.includes('no worker')); i++)
      await new Promise((r) => setTimeout(r, 50));
    const said = lines.filter((l) => l.includes('no worker is connected'));
    expect(said.length).toBeGreaterThan(0);
    expect(said[0]).toMatch(/shard job\(s\) wait; start one: tracepipe worker --queue URL$/);
    drain.abort();
    const r = await run;
    expect(r.status).toBe('interrupted');
    expect(r.stages[0]).toMatchObject({ name: 'one', status: 'interrupted' });
    expect(await counts()).toMatchObject({ waiting: 0, active: 0 });
    expect(seen.one).toEqual([]);
  });
});
