/** The limiter's cooldown as a process lives it, a cooldown woken by a stop, and the x-ratelimit headers. */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Limiter } from '../../../../pipeline/io/client/limits.ts';

const child = fileURLToPath(new URL('./cooldown-child.ts', import.meta.url));

/** Runs the child in `mode`; resolves with its exit code and output. */
const runChild = (mode: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = execFile(
      process.execPath,
      ['--experimental-transform-types', '--no-warnings', child, mode],
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    p.stdin?.end();
  });

describe('Limiter cooldown', () => {
  it('keeps the process alive while work waits on it: the work finishes, no exit 13', async () => {
    const r = await runChild('work');
    expect(r.stderr).not.toMatch(/unsettled top-level await/);
    expect(r).toMatchObject({ code: 0, stdout: 'done 1,2,3\n' });
  });

  it('holds nothing when no work waits: a 10-minute cooldown does not keep an idle process alive', async () => {
    expect(await runChild('idle')).toMatchObject({ code: 0, stdout: '' });
  }, 20_000);

  it('a request waiting on a cooldown wakes when its signal fires, and runs to see it', async () => {
    const lim = new Limiter({ concurrency: 2, rpm: null, tpm: null });
    lim.cooldown(600_000);
    const ac = new AbortController();
    const p = lim.run(1, async () => (ac.signal.aborted ? 'saw the stop' : 'ran'), ac.signal);
    setTimeout(() => ac.abort(), 20);
    expect(await p).toBe('saw the stop');
  }, 10_000);
});

describe('Limiter.observe (x-ratelimit-* headers)', () => {
  it.each([
    ['a spent request budget', 1, { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2s' }],
    ['a spent budget without a reset (1 s)', 1, { 'x-ratelimit-remaining-requests': '0' }],
    ['too few tokens left', 1, { 'x-ratelimit-remaining-tokens': '5', 'x-ratelimit-reset-tokens': '6m0s' }],
    [
      'a spent budget that resets now ("0s")',
      0,
      { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '0s' },
    ],
    ['empty headers', 0, { 'x-ratelimit-remaining-requests': '', 'x-ratelimit-remaining-tokens': ' ' }],
    ['a garbled count', 0, { 'x-ratelimit-remaining-requests': 'n/a', 'x-ratelimit-remaining-tokens': 'many' }],
    ['budget left', 0, { 'x-ratelimit-remaining-requests': '12', 'x-ratelimit-remaining-tokens': '9000' }],
  ])('%s -> %i cooldown(s)', (_what, cooldowns, headers) => {
    const lim = new Limiter({ concurrency: 1, rpm: null, tpm: null });
    lim.observe(new Headers(headers), 100);
    expect(lim.cooldowns).toBe(cooldowns);
  });
});
