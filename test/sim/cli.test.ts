import { describe, it, expect, vi } from 'vitest';
import yargs from 'yargs';
import { simOptsFromArgv, simServe, simServeOptions } from '../../sim/cli.ts';
import { ConfigError } from '../../schemas/errors.ts';

const parse = (argv: string[]) => yargs(argv).options(simServeOptions).strict().parseSync();

describe('sim serve', () => {
  it('describes every option as a simulation', () => {
    for (const [k, o] of Object.entries(simServeOptions)) expect(o.describe, k).toMatch(/^SIMULATION: /);
  });

  it('turns flags into simulator options', () => {
    expect(
      simOptsFromArgv(
        parse([
          '--port',
          '8000',
          '--p-error',
          '0.3',
          '--rate-429',
          '0.1',
          '--rate-5xx',
          '0.05',
          '--over-capacity',
          '429',
          '--refuse-n',
          '--problems',
          'p.jsonl',
          '--fault-seed',
          '2',
        ]),
      ),
    ).toEqual({
      port: 8000,
      seed: 1,
      n: 300,
      pError: 0.3,
      difficultySpread: 1.5,
      pSilent: 0.03,
      pLastStep: 0.03,
      freeErrorScale: 1.5,
      latencyMs: 0,
      latencyJitter: 0.25,
      maxConcurrency: 0,
      rate429: 0.1,
      retryAfterMs: 1000,
      rate5xx: 0.05,
      rateHang: 0,
      hangMs: 60000,
      rateMalformed: 0,
      rateTruncated: 0,
      faultSeed: 2,
      pDecomposeError: 0,
      pExtractError: 0,
      rpm: 0,
      problemsFile: 'p.jsonl',
      overCapacity: '429',
      refuseN: true,
    });
  });

  it('turns the helper error rates and the rpm limit into options, and refuses a flag that is not a number', () => {
    expect(
      simOptsFromArgv(parse(['--rpm', '6000', '--p-decompose-error', '0.1', '--p-extract-error', '0.2'])),
    ).toMatchObject({ rpm: 6000, pDecomposeError: 0.1, pExtractError: 0.2 });
    expect(() => simOptsFromArgv(parse(['--rpm', 'lots']))).toThrow(
      new ConfigError('sim serve --rpm should be a number, got NaN'),
    );
  });

  it('says in --problems help that problems outside the synth bank get random answers', () => {
    expect(simServeOptions.problems.describe).toMatch(/RANDOM ANSWERS/);
  });

  it('prints its URL as a simulation, serves, and stops when the signal aborts', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      lines.push(String(s));
      return true;
    });
    const errLines: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      errLines.push(String(s));
      return true;
    });
    const ac = new AbortController();
    const done = simServe(parse(['--n', '30']), ac.signal);
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    spy.mockRestore();
    const m = /^tracepipe simulator \(SIMULATION, not a model\) listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n$/.exec(
      lines[0]!,
    );
    expect(m).not.toBeNull();
    const res = await fetch(`${m![1]}/models`);
    expect([res.status, res.headers.get('x-tracepipe-simulated')]).toEqual([200, 'true']);
    ac.abort();
    await done;
    err.mockRestore();
    const stop = /^tracepipe simulator stopped: (\{.*\})\n$/.exec(errLines.at(-1) ?? '');
    expect(JSON.parse(stop![1]!)).toMatchObject({ simulation: expect.stringMatching(/^SIMULATION/), requests: 1 });
    await expect(fetch(`${m![1]}/models`)).rejects.toThrow();
  });
});
