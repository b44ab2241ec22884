/**
 * @module pipeline/engine/queue/shard-lock
 * One writer per shard of a run folder, across every worker: a job takes the shard's lock in Redis
 * before it plans and writes a record only through a fence that checks, in one Lua call, that it
 * still holds the lock and that the run's current coordinator still wants the job, and extends the
 * lock (so the rename that follows cannot race a takeover). The same check renews the lock every
 * third of `lockMs`, so a job that failed it stops early. A killed worker's lock expires after
 * `lockMs`, and the job BullMQ hands to another worker takes it then.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RunState, type ShardRecord } from '../../io/state.ts';
import { sleep } from '../../io/client/retry.ts';
import { keys, script } from './connection.ts';

/** The job's output must not be recorded: its coordinator is gone, or a newer run owns the folder. */
export class StaleJobError extends Error {
  override name = 'StaleJobError';
}

/** This worker lost the shard's lock (it stalled past `lockMs`); another worker may be writing there. */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

// KEYS: lock, owner, wanted. ARGV: token, ms, job id.
const FENCE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
local run = redis.call('GET', KEYS[2])
if not run or redis.call('HGET', KEYS[3], ARGV[3]) ~= run then return 'stale' end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 'ok'`;

// KEYS: lock. ARGV: token: deletes the lock if this job still holds it.
const RELEASE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** Is this job wanted by the coordinator that owns its run folder now? */
export async function isWanted(redis: Redis, runKey: string, jobId: string): Promise<string | null> {
  const [owner, wantedBy] = await Promise.all([redis.get(keys.owner(runKey)), redis.hget(keys.wanted(runKey), jobId)]);
  return owner !== null && owner === wantedBy ? owner : null;
}

/** A held shard lock. */
export class ShardLock {
  /** What the last check found: once not `ok`, it stays so. */
  private status: 'ok' | 'lost' | 'stale' = 'ok';
  private readonly timer: NodeJS.Timeout;
  private readonly check: () => Promise<unknown>;

  private constructor(
    redis: Redis,
    key: string,
    token: string,
    lockMs: number,
    runKey: string,
    private readonly jobId: string,
    onLost: (() => void) | undefined,
  ) {
    const fence = script(redis, 'tpShardFence', 3, FENCE);
    this.check = () => fence(key, keys.owner(runKey), keys.wanted(runKey), token, lockMs, jobId);
    this.release = async () => {
      clearInterval(this.timer);
      await script(redis, 'tpShardRelease', 1, RELEASE)(key, token).catch(() => {});
    };
    // Renewing is checking: a job that lost its lock or its coordinator learns it now, not at its record.
    this.timer = setInterval(() => {
      this.check()
        .then((r) => {
          if (r !== 'ok' && this.status === 'ok') {
            this.status = r as 'lost' | 'stale';
            onLost?.();
          }
        })
        .catch(() => {});
    }, lockMs / 3);
    this.timer.unref();
  }

  /** Releases the lock if this job still holds it. */
  readonly release: () => Promise<void>;

  /**
   * Takes the lock of `shard` of a run folder for job `jobId`, waiting while another job holds it
   * (at most `waitMs`, then throws: BullMQ retries the job later).
   */
  static async acquire(
    redis: Redis,
    o: {
      runKey: string;
      shard: string;
      jobId: string;
      lockMs: number;
      waitMs: number;
      signal?: AbortSignal;
      /** Called once when a renewal finds the lock lost or the job no longer wanted. */
      onLost?: () => void;
    },
  ): Promise<ShardLock> {
    const key = keys.shard(o.runKey, o.shard);
    const token = `${o.jobId}/${randomUUID()}`;
    const t0 = Date.now();
    for (;;) {
      if ((await redis.set(key, token, 'PX', o.lockMs, 'NX')) === 'OK')
        return new ShardLock(redis, key, token, o.lockMs, o.runKey, o.jobId, o.onLost);
      if (Date.now() - t0 > o.waitMs || o.signal?.aborted)
        throw new Error(
          `shard ${o.shard} is locked by another job (${await redis.get(key)}) for more than ${Math.round(o.waitMs / 1000)} s; the job is retried later`,
        );
      await sleep(Math.min(500, o.lockMs / 4), o.signal);
    }
  }

  /** Throws unless this job may record its output now (see the module note); extends the lock on success. */
  async fence(): Promise<void> {
    const r = this.status === 'ok' ? await this.check() : this.status;
    if (r === 'lost')
      throw new LockLostError(
        `job ${this.jobId} lost the lock of its shard (this worker stalled); nothing is recorded`,
      );
    if (r === 'stale')
      throw new StaleJobError(`job ${this.jobId} is no longer wanted by the run's coordinator; nothing is recorded`);
  }
}

/** A run's state whose record writes pass the shard lock's fence first; segments need no fence. */
export class FencedState extends RunState {
  constructor(
    dir: string,
    private readonly fence: () => Promise<void>,
  ) {
    super(dir);
  }

  override async writeRecord(rec: ShardRecord): Promise<void> {
    await this.fence();
    await super.writeRecord(rec);
  }

  override async dropRecord(stage: string, shard: string): Promise<void> {
    await this.fence();
    await super.dropRecord(stage, shard);
  }
}
