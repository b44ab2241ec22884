/**
 * @module pipeline/engine/queue/local-redis
 * A throwaway Redis for tests and benchmarks: Debian's `redis-server` on a free port of 127.0.0.1,
 * its files in a temporary folder, no persistence; stopped (and its folder removed) by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

/** The server binary: `TRACEPIPE_REDIS_SERVER`, or Debian's. */
export const REDIS_SERVER = process.env.TRACEPIPE_REDIS_SERVER ?? '/usr/bin/redis-server';
/** Is the server binary installed? */
export const hasRedisServer = () => existsSync(REDIS_SERVER);

export interface LocalRedis {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Starts a redis-server and resolves once it accepts connections (a port taken meanwhile is retried). */
export async function startLocalRedis(): Promise<LocalRedis> {
  if (!hasRedisServer())
    throw new Error(`${REDIS_SERVER} not found: install it with apt-get update && apt-get install -y redis-server`);
  const dir = await mkdtemp(join(tmpdir(), 'tp-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const ready = await new Promise<boolean>((resolve) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) resolve(true);
      };
      child.stdout!.on('data', onData);
      child.once('exit', () => resolve(false));
    });
    if (ready) {
      child.stdout!.resume();
      child.stderr!.resume();
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            await once(child, 'exit');
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    if (attempt >= 3) throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${out.slice(-500)}`);
  }
}
