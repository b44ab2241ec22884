/**
 * Content-addressed job ids and the shard lock's fence. The same job planned twice has the same id;
 * another shard, setting, run-stage result or record gives another; a recorded job is up to date
 * and a shard without problems is empty (neither goes on the queue). A worker whose shard lock was
 * taken over, or whose job the run's coordinator no longer wants, writes no record.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunState } from '../../../../pipeline/io/state.ts';
import { nodeFiles } from '../../../../pipeline/io/files.ts';
import { readInputs } from '../../../../pipeline/engine/read.ts';
import { runJob, writersOf } from '../../../../pipeline/engine/job.ts';
import { shardOf } from '../../../../pipeline/engine/shards.ts';
import type { ShardJob } from '../../../../pipeline/engine/runner.ts';
import type { ProblemStage } from '../../../../stages/lib/stage.ts';
import { planShardJob } from '../../../../pipeline/engine/queue/job-id.ts';
import { keys, runKeyOf } from '../../../../pipeline/engine/queue/connection.ts';
import { FencedState, LockLostError, ShardLock, StaleJobError } from '../../../../pipeline/engine/queue/shard-lock.ts';
import { describeRedis, literalStages, runConfig, sourceOf, useRedis, type Seen } from './helpers.ts';

const quiet = () => {};

async function setup() {
  const seen: Seen = { one: [], two: [], maxPerShard: 0 };
  const stages = literalStages(seen);
  const byName = new Map(stages.map((s) => [s.name, s as ProblemStage]));
  const { dir, config } = await runConfig(2);
  const state = new RunState(join(dir, 'state'));
  await readInputs(
    sourceOf(() => [
      ['a', 'x'],
      ['b', 'y'],
    ]),
    config,
    state,
    nodeFiles(),
    { runId: 'r1', log: quiet },
  );
  const job = (shard: string, over: Partial<ShardJob> = {}): ShardJob => ({
    stages: ['one'],
    shard,
    stateDir: state.dir,
    config,
    runId: 'r1',
    globals: {},
    writers: [...writersOf(stages)] as [string, string][],
    force: false,
    io: true,
    ...over,
  });
  return { stages: byName, state, config, job };
}

describe('content-addressed job ids', () => {
  it('name a job by everything its output depends on, and not by the run id of its coordinator', async () => {
    const t = await setup();
    const s = shardOf('a', 2);
    const base = await planShardJob(t.job(s), t.stages, t.state);
    expect(base.id).toMatch(/^j-[0-9a-f]{32}$/);
    expect(base.upToDate).toBeNull();
    expect((await planShardJob(t.job(s, { runId: 'another-run' }), t.stages, t.state)).id).toBe(base.id);
    const others = [
      t.job(s === 's00' ? 's01' : 's00'),
      t.job(s, { globals: { calibrate: { tau_pc: 0.7 } } }),
      t.job(s, { config: { ...t.config, emit: { ...t.config.emit, sft_per_problem: 9 } } }),
      t.job(s, { stages: ['one', 'two'] }),
      t.job(s, { force: true }),
    ];
    for (const o of others) expect((await planShardJob(o, t.stages, t.state)).id).not.toBe(base.id);
  });

  it('give a new id once the job has recorded its output, and then say the job is up to date', async () => {
    const t = await setup();
    const s = shardOf('a', 2);
    const before = await planShardJob(t.job(s), t.stages, t.state);
    await runJob(
      {
        state: t.state,
        config: t.config,
        runId: 'r1',
        globals: {},
        writers: writersOf([...t.stages.values()]),
        force: false,
        ports: {
          model: () => ({}) as never,
          images: async () => ({ ok: true, parts: [] }),
          files: nodeFiles(),
          log: quiet,
        },
      },
      t.stages.get('one')!,
      s,
    );
    const after = await planShardJob(t.job(s), t.stages, t.state);
    expect(after.id).not.toBe(before.id);
    expect(after.upToDate).toEqual([expect.objectContaining({ stage: 'one', status: 'skipped', computed: 0 })]);
  });

  it('call a shard without problems empty: nothing to enqueue', async () => {
    const t = await setup();
    // 'a' and 'b' both hash to s00 of two shards: s01 holds no problem.
    expect([shardOf('a', 2), shardOf('b', 2)]).toEqual(['s00', 's00']);
    const p = await planShardJob(t.job('s01'), t.stages, t.state);
    expect(p.upToDate).toEqual([expect.objectContaining({ status: 'empty', problems: 0 })]);
  });
});

describeRedis('the shard lock fence', () => {
  const redis = useRedis();

  const rec = (shard: string) => ({
    stage: 'one',
    shard,
    fingerprint: 'f',
    problems: {},
    tables: {},
    stats: {},
    run_id: 'r1',
    finished_at: new Date().toISOString(),
  });

  it('lets the holder of the lock of a wanted job write its record, and nobody else', async () => {
    const t = await setup();
    const r = redis.client();
    const runKey = runKeyOf(t.state.dir);
    await r.set(keys.owner(runKey), 'r1');
    await r.hset(keys.wanted(runKey), 'j-1', 'r1');
    const lock = await ShardLock.acquire(r, { runKey, shard: 's00', jobId: 'j-1', lockMs: 5000, waitMs: 100 });
    // A second job cannot take the lock while the first holds it.
    await expect(
      ShardLock.acquire(r, { runKey, shard: 's00', jobId: 'j-2', lockMs: 5000, waitMs: 300 }),
    ).rejects.toThrow(/shard s00 is locked by another job \(j-1\//);
    const fenced = new FencedState(t.state.dir, () => lock.fence());
    await fenced.writeRecord(rec('s00'));
    expect(existsSync(join(t.state.dir, 'records', 'one', 's00.json'))).toBe(true);

    // A newer coordinator owns the folder and does not want this job: no record.
    await r.set(keys.owner(runKey), 'r2');
    await expect(fenced.writeRecord(rec('s01'))).rejects.toThrow(StaleJobError);
    await expect(fenced.dropRecord('one', 's00')).rejects.toThrow(StaleJobError);
    expect(existsSync(join(t.state.dir, 'records', 'one', 's01.json'))).toBe(false);
    expect(existsSync(join(t.state.dir, 'records', 'one', 's00.json'))).toBe(true);

    // The lock expired and another worker took it (this one stalled): no record either.
    await r.set(keys.owner(runKey), 'r1');
    await r.set(keys.shard(runKey, 's00'), 'j-1/someone-else');
    await expect(fenced.writeRecord(rec('s01'))).rejects.toThrow(LockLostError);
    expect(existsSync(join(t.state.dir, 'records', 'one', 's01.json'))).toBe(false);
    await lock.release();
    // Releasing never deletes a lock another job holds.
    expect(await r.get(keys.shard(runKey, 's00'))).toBe('j-1/someone-else');
  });

  it('renews the lock while the job is wanted, and says so as soon as it is not (the job stops early)', async () => {
    const t = await setup();
    const r = redis.client();
    const runKey = runKeyOf(t.state.dir);
    await r.set(keys.owner(runKey), 'r1');
    await r.hset(keys.wanted(runKey), 'j-9', 'r1');
    let lost = 0;
    const lock = await ShardLock.acquire(r, {
      runKey,
      shard: 's01',
      jobId: 'j-9',
      lockMs: 600,
      waitMs: 100,
      onLost: () => lost++,
    });
    // Three lock lifetimes later it still holds the lock: renewals kept it.
    await new Promise((res) => setTimeout(res, 1800));
    expect(await r.get(keys.shard(runKey, 's01'))).toMatch(/^j-9\//);
    expect(lost).toBe(0);
    await r.set(keys.owner(runKey), 'r2');
    await new Promise((res) => setTimeout(res, 500));
    expect(lost).toBe(1);
    await expect(lock.fence()).rejects.toThrow(StaleJobError);
    await lock.release();
  });
});
