/**
 * @module pipeline/engine/queue/progress
 * Progress of a queue run, both ends. A worker forwards its model counters to its job's progress
 * (at most once a second); the coordinator shows one line per stage group: shard jobs done of those
 * enqueued, with the counters (tokens, cache hits, retries, errors) summed over every worker.
 */
import type { ProgressCounts, ProgressSink } from '../../../stages/lib/ports.ts';
import { createProgress, type ProgressOptions } from '../../io/client/progress.ts';

const ZERO: ProgressCounts = { done: 0, tokens_in: 0, tokens_out: 0, cache_hits: 0, retries: 0, errors: 0 };
const FIELDS = Object.keys(ZERO) as (keyof ProgressCounts)[];

/** A sink that passes counters on and also hands them to `forward`, at most every `everyMs` (and once at the end). */
export function forwardingSink(
  inner: ProgressSink,
  forward: (c: ProgressCounts) => void,
  everyMs = 1000,
): ProgressSink & { flush(): void } {
  let latest: ProgressCounts | null = null;
  let last = 0;
  const push = (force: boolean) => {
    if (!latest || (!force && Date.now() - last < everyMs)) return;
    last = Date.now();
    forward(latest);
    latest = null;
  };
  return {
    update(c) {
      inner.update(c);
      latest = { ...c };
      push(false);
    },
    finish(c) {
      inner.finish(c);
      latest = { ...c };
      push(true);
    },
    flush: () => push(true),
  };
}

interface Group {
  sink: ProgressSink | null;
  enqueued: number;
  done: number;
  jobs: Map<string, ProgressCounts>;
}

/** The coordinator's progress lines, one per stage group, fed by queue events. */
export class QueueProgress {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, string>();

  constructor(private readonly opts: ProgressOptions = {}) {}

  private group(name: string): Group {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { sink: null, enqueued: 0, done: 0, jobs: new Map() }));
    return g;
  }

  /** Stage groups run one after another: entering one ends the lines of the others. */
  enter(name: string): void {
    for (const other of this.groups.keys()) if (other !== name) this.finish(other);
  }

  /** A job of `name` went on the queue. */
  enqueued(name: string, jobId: string): void {
    const g = this.group(name);
    g.enqueued++;
    this.groupOf.set(jobId, name);
    g.sink ??= createProgress(`${name} (shard jobs)`, () => g.enqueued, this.opts);
    this.render(g);
  }

  /** A worker's counters for one job. */
  counts(jobId: string, c: unknown): void {
    const name = this.groupOf.get(jobId);
    if (!name || !c || typeof c !== 'object') return;
    const g = this.group(name);
    const row = { ...ZERO };
    for (const f of FIELDS) row[f] = Number((c as Record<string, unknown>)[f] ?? 0) || 0;
    g.jobs.set(jobId, row);
    this.render(g);
  }

  /** A job of the run finished. */
  finished(jobId: string): void {
    const name = this.groupOf.get(jobId);
    if (!name) return;
    this.groupOf.delete(jobId);
    const g = this.group(name);
    g.done++;
    this.render(g);
  }

  private sum(g: Group): ProgressCounts {
    const s = { ...ZERO };
    for (const c of g.jobs.values()) for (const f of FIELDS) if (f !== 'done') s[f] += c[f];
    return { ...s, done: g.done };
  }

  private render(g: Group): void {
    g.sink?.update(this.sum(g));
  }

  /** Ends a group's line (printed once more, final). */
  finish(name: string): void {
    const g = this.groups.get(name);
    if (!g) return;
    g.sink?.finish(this.sum(g));
    this.groups.delete(name);
  }

  /** Ends every line. */
  close(): void {
    for (const name of [...this.groups.keys()]) this.finish(name);
  }
}
