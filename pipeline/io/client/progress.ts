/**
 * @module pipeline/io/client/progress
 * Progress reporting: stages push counters into a `ProgressSink`; `createProgress` renders them
 * every interval as a one-line bar on a TTY, or as one JSON line per interval otherwise.
 */

import type { ProgressCounts, ProgressSink } from '../../../stages/lib/ports.ts';

export type { ProgressCounts, ProgressSink } from '../../../stages/lib/ports.ts';

export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  intervalMs?: number;
  now?: () => number;
}

/** A progress sink for `label` with `total` units (a number, or read at each render), writing to `stream` (default stderr) every `intervalMs`. */
export function createProgress(
  label: string,
  totalOf: number | (() => number),
  opts: ProgressOptions = {},
): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const now = opts.now ?? Date.now;
  const started = now();
  let last: ProgressCounts = { done: 0, tokens_in: 0, tokens_out: 0, cache_hits: 0, retries: 0, errors: 0 };
  let dirty = true;
  const render = (final: boolean) => {
    if (!dirty && !final) return;
    dirty = false;
    const total = typeof totalOf === 'number' ? totalOf : totalOf();
    const elapsed = Math.max(1, now() - started) / 1000;
    const rate = last.done / elapsed;
    const eta = rate > 0 ? Math.max(0, (total - last.done) / rate) : null;
    if (tty) {
      const width = 24;
      const filled = total > 0 ? Math.round((width * Math.min(last.done, total)) / total) : width;
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${last.done}/${total} ${rate.toFixed(1)}/s ETA ${eta === null ? '?' : formatSecs(eta)} tok ${last.tokens_in}+${last.tokens_out} cache ${last.cache_hits} retry ${last.retries} err ${last.errors}`;
      stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    } else {
      stream.write(
        `${JSON.stringify({ progress: label, ...last, total, rate: Number(rate.toFixed(2)), eta_s: eta === null ? null : Math.round(eta), elapsed_s: Math.round(elapsed), final })}\n`,
      );
    }
  };
  const timer = setInterval(() => render(false), opts.intervalMs ?? (tty ? 200 : 10_000));
  timer.unref();
  return {
    update(c) {
      last = { ...c };
      dirty = true;
    },
    finish(c) {
      last = { ...c };
      clearInterval(timer);
      render(true);
    },
  };
}

function formatSecs(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One progress line for a stage that runs as many jobs (shards): each job gets its own sink, the
 * line shows their sum against the sum of their totals.
 */
export function aggregateProgress(label: string, opts: ProgressOptions = {}) {
  const jobs = new Map<number, ProgressCounts>();
  const totals = new Map<number, number>();
  let next = 0;
  const sum = (): ProgressCounts => {
    const s = { done: 0, tokens_in: 0, tokens_out: 0, cache_hits: 0, retries: 0, errors: 0 };
    for (const c of jobs.values()) for (const k of Object.keys(s) as (keyof ProgressCounts)[]) s[k] += c[k];
    return s;
  };
  let sink: ProgressSink | null = null;
  return {
    /** A sink for one job of `total` units. */
    job(total: number): ProgressSink {
      const id = next++;
      totals.set(id, total);
      sink ??= createProgress(label, () => [...totals.values()].reduce((a, b) => a + b, 0), opts);
      return {
        update(c) {
          jobs.set(id, { ...c });
          sink!.update(sum());
        },
        finish(c) {
          jobs.set(id, { ...c });
          sink!.update(sum());
        },
      };
    },
    /** The stage is over: the line is printed once more, final. */
    done(): void {
      sink?.finish(sum());
      sink = null;
    },
  };
}
