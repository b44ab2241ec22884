import { beforeAll, describe, it, expect } from 'vitest';
import { Limiter } from '../../pipeline/io/client/limits.ts';
import { backoffMs, parseDuration, retryAfter, classify, loadSdk } from '../../pipeline/io/client/retry.ts';
import { Accounting, estimateTokens } from '../../pipeline/io/client/accounting.ts';
import { APIConnectionTimeoutError, APIError } from 'openai';

// The client loads openai with its first request; `classify` knows its error classes from then on.
beforeAll(() => loadSdk());

const startTimes = async (lim: Limiter, n: number, est = 1) => {
  const t0 = Date.now();
  const at: number[] = [];
  await Promise.all(
    Array.from({ length: n }, () =>
      lim.run(est, async () => {
        at.push(Date.now() - t0);
      }),
    ),
  );
  return at.sort((a, b) => a - b);
};

describe('Limiter', () => {
  it('holds requests per minute to the limit after a 5-second burst', async () => {
    // 120 rpm = 2/s with a burst of 10: the 12th request cannot start before ~1 s.
    const at = await startTimes(new Limiter({ concurrency: 100, rpm: 120, tpm: null }), 12);
    expect(at[9]!).toBeLessThan(at[11]!);
    expect(at[11]!).toBeGreaterThanOrEqual(900);
  });

  it('holds tokens per minute, and settle() gives back what a request did not use', async () => {
    // 60,000 tpm = 1,000 tokens/s, bucket 5,000: five requests of 1,000 go at once, the sixth waits ~1 s.
    const lim = new Limiter({ concurrency: 100, rpm: null, tpm: 60_000 });
    const at = await startTimes(lim, 6, 1000);
    expect(at[5]!).toBeGreaterThanOrEqual(900);
    lim.settle(1000 * 6, 0);
    const again = await startTimes(lim, 5, 1000);
    expect(again[4]!).toBeLessThan(900);
  });

  it('a cooldown holds the whole queue; spent x-ratelimit headers start one', async () => {
    const lim = new Limiter({ concurrency: 4, rpm: null, tpm: null });
    lim.observe(new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '300ms' }), 10);
    const at = await startTimes(lim, 3);
    expect(at[0]!).toBeGreaterThanOrEqual(290);
    expect(lim.cooldowns).toBe(1);
    lim.observe(new Headers({ 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-remaining-tokens': '100' }), 10);
    expect(lim.cooldowns).toBe(1);
    lim.observe(new Headers({ 'x-ratelimit-remaining-tokens': '5', 'x-ratelimit-reset-tokens': '1s' }), 10);
    expect(lim.cooldowns).toBe(2);
    lim.close();
  });
});

describe('retry policy', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m', 3_720_000],
    ['0.5', 500],
    ['soon', null],
  ])('parseDuration(%s) = %s', (v, ms) => {
    expect(parseDuration(v)).toBe(ms);
  });

  it('reads Retry-After in seconds, as a date, and retry-after-ms', () => {
    expect(retryAfter(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfter(new Headers({ 'retry-after-ms': '150', 'retry-after': '2' }))).toBe(150);
    expect(retryAfter(new Headers({ 'retry-after': new Date(Date.now() + 60_000).toUTCString() }))).toBeGreaterThan(
      58_000,
    );
    expect(retryAfter(new Headers({}))).toBeNull();
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 5000, () => 1))).toEqual([100, 200, 400, 800, 5000]);
    expect(backoffMs(3, 100, 5000, () => 0)).toBe(0);
  });

  it('classifies failures', () => {
    const err = (status: number, message: string) =>
      APIError.generate(status, { error: { message } }, message, new Headers({ 'retry-after': '1' }));
    expect(classify(err(429, 'slow down'), false, false)).toMatchObject({
      kind: 'rate_limit',
      code: 'http_429',
      retryAfterMs: 1000,
    });
    expect(classify(err(503, 'busy'), false, false)).toMatchObject({ kind: 'retry', code: 'http_503' });
    expect(classify(err(400, "'n' is not supported"), true, false)).toMatchObject({ kind: 'n_refused' });
    expect(classify(err(400, 'bad prompt'), true, false)).toMatchObject({ kind: 'fatal', code: 'http_400' });
    expect(classify(new APIConnectionTimeoutError(), false, false)).toMatchObject({ kind: 'retry', code: 'timeout' });
    expect(classify(new SyntaxError('Unexpected token'), false, false)).toMatchObject({
      kind: 'retry',
      code: 'malformed_response',
    });
    expect(classify(new Error('x'), false, true)).toMatchObject({ kind: 'abort' });
  });
});

describe('Accounting', () => {
  it('reserves the worst case and refuses a request that could pass the budget', () => {
    const a = new Accounting({ input_per_mtok: 2, output_per_mtok: 10 }, 0.03);
    const r1 = a.reserve(1000, 1000)!; // $0.002 + $0.01
    expect(r1).toBeCloseTo(0.012, 12);
    expect(a.reserve(1000, 1000)).toBeCloseTo(0.012, 12);
    expect(a.reserve(1000, 1000)).toBeNull();
    expect(a.stopped_by_budget).toBe(true);
    a.settle(r1, { tokens_in: 1000, tokens_out: 100 });
    expect(a.spent).toBeCloseTo(0.003, 12);
    expect([a.tokens_in, a.tokens_out]).toEqual([1000, 100]);
  });

  it('estimates tokens as characters / 4 plus a flat cost per image', () => {
    expect(
      estimateTokens([
        { content: 'x'.repeat(40) },
        { content: [{ type: 'text', text: 'y'.repeat(8) }, { type: 'image_url' }] },
      ]),
    ).toBe(10 + 2 + 765);
  });
});
