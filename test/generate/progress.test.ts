import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { createProgress } from '../../pipeline/io/client/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    }),
    { isTTY },
  );
  return { stream, chunks };
}
const counts = (done: number) => ({
  done,
  tokens_in: 100 * done,
  tokens_out: 50 * done,
  cache_hits: 1,
  retries: 2,
  errors: 3,
});

describe('createProgress', () => {
  it('writes one JSON line with done/total, rate, ETA and counters when not a TTY', () => {
    let t = 0;
    const { stream, chunks } = sink(false);
    const p = createProgress('generate', 40, { stream, intervalMs: 60_000, now: () => t });
    t = 10_000;
    p.finish(counts(10));
    expect(chunks.map((c) => JSON.parse(c))).toEqual([
      {
        progress: 'generate',
        done: 10,
        tokens_in: 1000,
        tokens_out: 500,
        cache_hits: 1,
        retries: 2,
        errors: 3,
        total: 40,
        rate: 1,
        eta_s: 30,
        elapsed_s: 10,
        final: true,
      },
    ]);
  });

  it('draws a bar on a TTY, redrawing the same line', () => {
    let t = 0;
    const { stream, chunks } = sink(true);
    const p = createProgress('generate', 40, { stream, intervalMs: 60_000, now: () => t });
    t = 5_000;
    p.finish(counts(20));
    expect(chunks).toEqual([
      '\r\x1b[2Kgenerate [############............] 20/40 4.0/s ETA 5s tok 2000+1000 cache 1 retry 2 err 3\n',
    ]);
  });
});
