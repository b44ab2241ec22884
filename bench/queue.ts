/**
 * @module bench/queue
 * Generation on the queue with 1, 2 and 4 `tracepipe worker` processes against the SIMULATOR capped
 * at 256 requests in flight and 6,000 rpm (`sim serve --max-concurrency 256 --over-capacity 429 --rpm
 * 6000`, 1 s mean latency), each count a whole `tracepipe run --queue` of 900 synth problems × 8
 * ars-guided samples (7,200 requests, one per sample), the config's limits set to the server's caps.
 * Everything is measured at the simulator (`GET /v1/sim/stats`, polled twice a second): achieved_rps is
 * the rate of accepted requests between the first and the last poll that saw generation move;
 * cap_rps the binding cap, min(256 / latency, rpm / 60); max_rpm_seen the most requests accepted in
 * any 60 s window, and over_rpm / over_capacity the requests the simulator had to refuse (the shared
 * limiter should leave it none to refuse). Needs the built CLI (`make bench` builds) and redis-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { writeSynth } from '../sim/synth.ts';
import { startLocalRedis } from '../pipeline/engine/queue/local-redis.ts';
import { repo } from './cli.ts';

const here = fileURLToPath(import.meta.url);
/** The built CLI (the bench spawns it as users run it). */
const CLI = here.endsWith('.ts')
  ? resolve(dirname(here), '..', 'dist', 'pipeline', 'cli', 'main.js')
  : resolve(dirname(here), '..', 'pipeline', 'cli', 'main.js');

const CAP = 256;
const RPM = 6000;
const LATENCY_MS = 1000;

export interface QueueBench {
  bench: 'queue';
  workers: number;
  achieved_rps: number;
  cap_rps: number;
  saturation: number;
  max_rpm_seen: number;
  rpm_limit: number;
  max_rpm_offered: number;
  requests: number;
  over_rpm: number;
  over_capacity: number;
  max_in_flight: number;
  wall_s: number;
}

interface Stats {
  outcomes: Record<string, number>;
  max_rpm_seen: number;
  max_rpm_offered: number;
  max_in_flight: number;
}

/** Where each count's processes log (kept after the bench: a failed count names its files). */
const LOGS = join(repo, 'build', 'bench-queue');

/**
 * Starts the built CLI. Its stderr goes to `log` and its last 4,000 characters are kept for the
 * error message of a failed count; its stdout is read too (an unread pipe would block a process
 * that fills it).
 */
const tp = (args: string[], log: string): ChildProcess & { tail: () => string } => {
  const c = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRACEPIPE_LOG: 'json' },
  });
  const file = createWriteStream(log);
  let tail = '';
  c.stderr!.on('data', (d: Buffer) => {
    file.write(d);
    tail = (tail + d.toString()).slice(-4000);
  });
  c.stdout!.on('data', (d: Buffer) => file.write(d));
  c.once('exit', () => file.end());
  return Object.assign(c, { tail: () => tail });
};

const stop = async (c: ChildProcess) => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  await once(c, 'exit');
};

/** One count: a fresh simulator, `workers` worker processes, one coordinator; the simulator's counts. */
async function one(workers: number, redisUrl: string, opts: { problems: number; k: number }): Promise<QueueBench> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-queue-'));
  const problems = join(dir, 'p.jsonl');
  await writeSynth(problems, { n: opts.problems, seed: 1 });
  await mkdir(LOGS, { recursive: true });
  const logOf = (name: string) => join(LOGS, `${workers}-workers-${name}.log`);
  const sim = tp(
    [
      'sim',
      'serve',
      '--seed',
      '1',
      '--n',
      String(opts.problems),
      '--latency-ms',
      String(LATENCY_MS),
      '--max-concurrency',
      String(CAP),
      '--over-capacity',
      '429',
      '--rpm',
      String(RPM),
    ],
    logOf('sim'),
  );
  const procs: ChildProcess[] = [];
  try {
    const url = await new Promise<string>((ok, fail) => {
      sim.once('exit', (code) => fail(new Error(`the simulator exited with code ${code} before it listened`)));
      createInterface({ input: sim.stdout! }).on('line', (l) => {
        const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
        if (m) ok(m[1]!);
      });
    });
    const config = join(dir, 'c.json');
    await writeFile(
      config,
      JSON.stringify({
        name: 'bench',
        runs_dir: join(dir, 'runs'),
        inputs: [{ path: problems }],
        model: { base_url: `${url}/v1`, model: 'sim', simulated: true },
        generate: {
          k: opts.k,
          modes: ['ars-guided'],
          use_n: false,
          seed: 1,
          concurrency: CAP,
          rpm: RPM,
          max_tokens: 1024,
          timeout_ms: 30_000,
        },
        engine: { shards: 64 },
      }),
    );
    const ws: (ChildProcess & { tail: () => string })[] = [];
    for (let i = 0; i < workers; i++)
      ws.push(tp(['worker', '--queue', redisUrl, '--name', `bench-w${i}`], logOf(`worker-${i}`)));
    procs.push(...ws);
    // A worker that exits before the coordinator is done fails the count at once (the run could
    // otherwise wait for ever on jobs nobody takes), naming how it ended and its last lines.
    const workerGone = new Promise<never>((_, fail) =>
      ws.forEach((w, i) =>
        w.once('exit', (code, signal) =>
          fail(
            new Error(
              `worker ${i} of ${workers} exited (code ${code}, signal ${signal}) before the run ended; log ${logOf(`worker-${i}`)}:\n${w.tail()}`,
            ),
          ),
        ),
      ),
    );
    workerGone.catch(() => {});
    const t0 = performance.now();
    const coord = tp(['run', '--queue', redisUrl, '--config', config], logOf('coordinator'));
    procs.push(coord);
    const polls: { t: number; ok: number }[] = [];
    let stats: Stats | null = null;
    const poll = async () => {
      stats = (await (await fetch(`${url}/v1/sim/stats`)).json()) as Stats;
      polls.push({ t: performance.now(), ok: stats.outcomes.ok ?? 0 });
    };
    const exit = once(coord, 'exit');
    let done = false;
    void exit.then(() => (done = true));
    while (!done) {
      await Promise.race([poll(), workerGone]);
      await Promise.race([new Promise((r) => setTimeout(r, 500)), exit, workerGone]);
    }
    const [code] = await exit;
    if (code !== 0)
      throw new Error(`tracepipe run --queue exited with code ${code} (${workers} workers): ${coord.tail()}`);
    const wall = (performance.now() - t0) / 1000;
    await poll();
    const moving = polls.filter((p, i) => i > 0 && p.ok > polls[i - 1]!.ok);
    const first = polls.find((p) => p.ok > 0)!;
    const last = moving.at(-1)!;
    const achieved = (last.ok - first.ok) / ((last.t - first.t) / 1000);
    const cap = Math.min(CAP / (LATENCY_MS / 1000), RPM / 60);
    const s = stats! as Stats;
    return {
      bench: 'queue',
      workers,
      achieved_rps: round(achieved, 1),
      cap_rps: cap,
      saturation: round(achieved / cap, 3),
      max_rpm_seen: s.max_rpm_seen,
      rpm_limit: RPM,
      max_rpm_offered: s.max_rpm_offered,
      requests: s.outcomes.ok ?? 0,
      over_rpm: s.outcomes.over_rpm ?? 0,
      over_capacity: s.outcomes.over_capacity ?? 0,
      max_in_flight: s.max_in_flight,
      wall_s: round(wall, 1),
    };
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await stop(sim);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the counts one after another on one redis-server (emptied between them) and returns a line each. */
export async function benchQueue(
  opts: { workers?: readonly number[]; problems?: number; k?: number } = {},
): Promise<QueueBench[]> {
  const redis = await startLocalRedis();
  const client = new Redis(redis.url);
  try {
    const out: QueueBench[] = [];
    for (const w of opts.workers ?? [1, 2, 4]) {
      await client.flushall();
      out.push(await one(w, redis.url, { problems: opts.problems ?? 900, k: opts.k ?? 8 }));
    }
    return out;
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
