/**
 * @module pipeline/engine/queue/connection
 * The Redis behind queue mode: the `--queue` URL checked and reachable (a bad or unreachable one is a
 * one-line user error), the BullMQ connection options, one plain client for our own keys, and the
 * names of those keys. Every key lives under `tp:<queue>:`; a run folder is named by a hash of its path.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigError } from '../../../schemas/errors.ts';
import { redactUrl } from '../../../schemas/redact.ts';
import { checkQueueUrl } from './url.ts';

export { checkQueueUrl } from './url.ts';

/** The BullMQ queue every coordinator and worker of one Redis database shares. */
export const QUEUE_NAME = 'tracepipe';

/** Connection options for BullMQ's own clients (its blocking reads need `maxRetriesPerRequest: null`). */
export const bullConnection = (url: string) => ({ url, maxRetriesPerRequest: null });

/** Opens a client for our own keys and checks that Redis answers; an unreachable server is a one-line ConfigError. */
export async function openRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  checkQueueUrl(url);
  let ready = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // No auto-pipelining: with it, ioredis 5 sometimes hands a pipeline's callbacks fewer results
    // than commands and throws "results[i] is not iterable" outside any promise, which killed
    // workers mid-job (seen in the queue bench; redis/ioredis#1931). Each command is sent as is.
    enableAutoPipelining: false,
    // Fail the first connection at once; once connected, reconnect as usual.
    retryStrategy: (times) => (ready ? Math.min(times * 200, 2000) : null),
  });
  // Connection errors surface on the commands that fail; the first connection's cause is kept for the message.
  let cause: Error | null = null;
  redis.on('error', (e: Error) => (cause ??= e));
  try {
    await redis.connect();
    await redis.ping();
    ready = true;
    return redis;
  } catch (e) {
    redis.disconnect();
    throw new ConfigError(
      `--queue ${redactUrl(url)}: Redis does not answer (${(cause ?? (e as Error)).message}); start redis-server there (apt-get install redis-server) or fix the URL`,
    );
  }
}

/** A short stable name for a run folder (its state directory's path), used in keys. */
export const runKeyOf = (stateDir: string) => createHash('sha256').update(stateDir).digest('hex').slice(0, 16);

/** Our own keys under `tp:<queue>:`. */
export const keys = {
  /** The run id of the coordinator that owns a run folder now. */
  owner: (runKey: string) => `tp:${QUEUE_NAME}:run:${runKey}`,
  /** Job id → run id of the coordinator that wants it (a job no current coordinator wants is stale). */
  wanted: (runKey: string) => `tp:${QUEUE_NAME}:want:${runKey}`,
  /** The lock of one shard of a run folder: one job at a time writes there. */
  shard: (runKey: string, shard: string) => `tp:${QUEUE_NAME}:shard:${runKey}:${shard}`,
  /** The budget of one coordinator run (nano-USD: limit, granted). */
  budget: (runId: string) => `tp:${QUEUE_NAME}:budget:${runId}`,
  /** The admission state of one model server (by a hash of its base URL). */
  server: (serverKey: string, part: 'slots' | 'rpm' | 'tpm' | 'cool') => `tp:${QUEUE_NAME}:server:${serverKey}:${part}`,
};

/** How long our keys outlive their last write (a week: a nightly run's keys are gone before they pile up). */
export const KEY_TTL_S = 7 * 24 * 3600;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Registers a Lua script on a client (sent once, then run by its hash) and returns a function that runs it. */
export function script(redis: Redis, name: string, numberOfKeys: number, lua: string): ScriptFn {
  const r = redis as unknown as Record<string, ScriptFn | undefined>;
  if (!r[name]) redis.defineCommand(name, { numberOfKeys, lua });
  return (...args) => r[name]!.call(redis, ...args);
}

/** Lua: the server's clock in ms (every machine's limits use Redis's time, never its own). */
export const LUA_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
