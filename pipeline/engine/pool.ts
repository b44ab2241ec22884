/**
 * @module pipeline/engine/pool
 * Worker threads for CPU-bound stages: each takes a chain of stages on one shard at a time, so
 * both cores work on different shards. Built code only (`dist/`): run from TypeScript sources (the
 * tests), chains run in the main thread instead.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { JobResult } from './job.ts';
import type { ChainRequest } from './chain.ts';

type Pending = { resolve: (r: JobResult[]) => void; reject: (e: Error) => void };

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly all: Worker[] = [];
  private next = 0;

  private constructor(file: string, n: number, log: (line: string) => void) {
    for (let i = 0; i < n; i++) {
      // A larger young generation: the stages allocate many short-lived objects per path, and
      // fewer scavenges cut GC time (measured by the offline bench).
      const w = new Worker(file, { workerData: { index: i }, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
      w.on(
        'message',
        (m: { type: string; id?: number; results?: JobResult[]; message?: string; stack?: string; line?: string }) => {
          if (m.type === 'log') return log(m.line ?? '');
          const p = this.pending.get(m.id!);
          this.pending.delete(m.id!);
          this.release(w);
          if (m.type === 'done') p?.resolve(m.results!);
          else p?.reject(Object.assign(new Error(m.message), { stack: m.stack }));
        },
      );
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** A pool of `n` workers, or null when there is no built worker to start (then the caller runs chains itself). */
  static create(n: number, log: (line: string) => void): WorkerPool | null {
    if (n <= 0) return null;
    const here = fileURLToPath(import.meta.url);
    if (!here.endsWith('.js')) return null;
    const file = here.replace(/pool\.js$/, 'worker.js');
    if (!existsSync(file)) return null;
    return new WorkerPool(file, n, log);
  }

  get size(): number {
    return this.all.length;
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  private acquire(): Promise<Worker> {
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Runs a chain on the next free worker. */
  async run(req: ChainRequest): Promise<JobResult[]> {
    const w = await this.acquire();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, req });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
