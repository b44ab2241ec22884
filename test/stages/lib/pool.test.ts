/** Tests of bounded concurrency over a list. */
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../../stages/lib/pool.ts';

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight, starts them in order, and returns results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (ms, i) => {
      started.push(i);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, ms * 5));
      inFlight--;
      return ms * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('calls nothing on an empty list, and treats a limit below 1 as 1', async () => {
    let calls = 0;
    expect(await mapLimit([], 4, async () => ++calls)).toEqual([]);
    expect(calls).toBe(0);
    expect(await mapLimit([1, 2], 0, async (x) => x + 1)).toEqual([2, 3]);
  });
});
