/**
 * @module pipeline/engine/pool
 * Worker threads for CPU-bound stages: each takes a chain of stages on one shard at a time, so
 * both cores work on different shards; at the start of a run, each reads inputs (or parts of
 * them). Built code only (`dist/`): run from TypeScript sources (the tests), chains and reads run
 * in the main thread instead.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { JobResult } from './job.ts';
import type { ChainRequest } from './chain.ts';
import type { ReadPart, ReadRequest } from './read.ts';
import { ConfigError } from '../../schemas/errors.ts';

type Pending = { resolve: (r: never) => void; reject: (e: Error) => void };

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
        (m: {
          type: string;
          id?: number;
          results?: never;
          message?: string;
          stack?: string;
          line?: string;
          usage?: string[];
          name?: string;
        }) => {
          if (m.type === 'log') return log(m.line ?? '');
          const p = this.pending.get(m.id!);
          this.pending.delete(m.id!);
          this.release(w);
          if (m.type === 'done') p?.resolve(m.results!);
          else if (m.usage) p?.reject(Object.assign(new ConfigError(m.usage), { name: m.name ?? 'ConfigError' }));
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
    const file = WorkerPool.file();
    return n > 0 && file ? new WorkerPool(file, n, log) : null;
  }

  /** The built worker's file, or null (run from TypeScript sources). */
  static file(): string | null {
    const here = fileURLToPath(import.meta.url);
    if (!here.endsWith('.js')) return null;
    const file = here.replace(/pool\.js$/, 'worker.js');
    return existsSync(file) ? file : null;
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
  run(req: ChainRequest): Promise<JobResult[]> {
    return this.send<JobResult[]>({ req });
  }

  /** Reads an input (or a part of it) into raw segments of its state folder on the next free worker (see `readPart`). */
  read(read: ReadRequest): Promise<ReadPart> {
    return this.send<ReadPart>({ read });
  }

  /**
   * Collects every worker's garbage, once all of them are idle (between groups of stages): what a
   * group's shards left in a worker's heap is gone before the next group fills it.
   */
  async collect(): Promise<void> {
    // Every worker held at once, so each gets one message.
    const workers = await Promise.all(this.all.map(() => this.acquire()));
    await Promise.all(workers.map((w) => this.post(w, { release: true })));
  }

  private async send<T>(msg: object): Promise<T> {
    return this.post<T>(await this.acquire(), msg);
  }

  /** Sends a message to a worker it holds; the reply settles the promise and frees the worker. */
  private post<T>(w: Worker, msg: object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: never) => void, reject });
      w.postMessage({ id, ...msg });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/**
 * Worker threads started on first use: a run whose CPU work is small (a nightly re-run of a few
 * new problems) never pays their start, which the main thread's own work would wait on.
 */
export class LazyPool {
  private pool: WorkerPool | null = null;

  constructor(
    private readonly n: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Whether there are built workers to start (run from TypeScript sources, there are none). */
  get available(): boolean {
    return this.n > 0 && WorkerPool.file() !== null;
  }

  get started(): boolean {
    return this.pool !== null;
  }

  get size(): number {
    return this.available ? this.n : 0;
  }

  /** The pool, started now if it was not. */
  get(): WorkerPool {
    this.pool ??= WorkerPool.create(this.n, this.log);
    if (!this.pool) throw new Error('no built worker to start (run from TypeScript sources)');
    return this.pool;
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.close();
  }
}
