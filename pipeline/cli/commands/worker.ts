/**
 * @module pipeline/cli/commands/worker
 * `tracepipe worker --queue redis://HOST:6379 [--concurrency N]`: runs shard jobs of any run
 * coordinated through that Redis until stopped. First signal: no new job starts, the active ones
 * finish and are recorded. Second: requests in flight are cancelled and nothing more is recorded
 * (those jobs go to another worker once their locks expire).
 */
import type { Options } from 'yargs';
import { ConfigError } from '../../../schemas/errors.ts';
import { redactUrl } from '../../../schemas/redact.ts';
import { checkQueueUrl } from '../../engine/queue/url.ts';
import type { CliLog } from '../log.ts';

/** The options of `tracepipe worker`, as yargs takes them. */
export const workerOptions = {
  queue: {
    type: 'string',
    demandOption: true,
    requiresArg: true,
    describe: 'the Redis of the coordinator (tracepipe run --queue URL), e.g. redis://HOST:6379',
  },
  concurrency: {
    type: 'number',
    default: 8,
    requiresArg: true,
    describe: 'shard jobs at once; a model stage keeps many requests in flight per job, within the shared limits',
  },
  name: {
    type: 'string',
    requiresArg: true,
    describe: "this worker's name in logs and its cache files' name (default: <host>-<pid>)",
  },
  'lock-ms': {
    type: 'number',
    default: 30_000,
    requiresArg: true,
    describe:
      'a job whose worker has not renewed its lock for this long is handed to another worker; keep it above the longest CPU step of one shard',
  },
} as const satisfies Record<string, Options>;

export interface WorkerArgs {
  queue: string;
  concurrency: number;
  name?: string | undefined;
  'lock-ms': number;
}

/** Runs a worker until the first signal, then lets its active jobs finish. */
export async function workerCommand(
  a: WorkerArgs,
  ctx: { log: CliLog; drain: AbortSignal; abort: AbortSignal },
): Promise<void> {
  const url = checkQueueUrl(a.queue);
  const lines: string[] = [];
  if (!Number.isInteger(a.concurrency) || a.concurrency < 1)
    lines.push(`--concurrency should be a whole number >= 1, got ${a.concurrency}`);
  if (!Number.isInteger(a['lock-ms']) || a['lock-ms'] < 1000)
    lines.push(`--lock-ms should be a whole number of milliseconds >= 1000, got ${a['lock-ms']}`);
  if (a.name !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(a.name))
    lines.push(`--name should be letters, digits, ".", "_" or "-" (it names files), got ${JSON.stringify(a.name)}`);
  if (lines.length) throw new ConfigError(lines);
  const { QueueWorker } = await import('../../engine/queue/worker.ts');
  const worker = await QueueWorker.start({
    url,
    concurrency: a.concurrency,
    lockMs: a['lock-ms'],
    log: ctx.log,
    abort: ctx.abort,
    ...(a.name !== undefined ? { name: a.name } : {}),
  });
  ctx.log(
    `worker ${worker.name}: waiting for shard jobs on ${redactUrl(url)} (concurrency ${a.concurrency}, lock ${a['lock-ms']} ms)`,
  );
  await new Promise<void>((resolve) => {
    if (ctx.drain.aborted) resolve();
    else ctx.drain.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.log(`worker ${worker.name}: stopping: no new job starts; finishing the active ones`);
  const forced = new Promise<void>((resolve) => ctx.abort.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.race([worker.close(), forced.then(() => worker.close(true))]);
  ctx.log(`worker ${worker.name}: stopped`);
}
