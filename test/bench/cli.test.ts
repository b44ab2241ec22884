/**
 * `tracepipe bench` through the built CLI: its help names every benchmark there is, and an
 * unknown name fails listing them (no benchmark runs here: `make bench` runs them).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BENCHMARKS } from '../../bench/index.ts';
import { cli, requireBuilt } from '../pipeline/cli/helpers.ts';

const run = promisify(execFile);

describe('tracepipe bench (CLI)', () => {
  it('names every benchmark in --help', async () => {
    requireBuilt();
    const { stdout } = await run(process.execPath, [cli, 'bench', '--help'], {
      env: { ...process.env, COLUMNS: '400' },
    });
    for (const name of Object.keys(BENCHMARKS))
      expect(stdout, name).toMatch(new RegExp(`(^|[\\s:,])${name}(,|\\s|$)`, 'm'));
  });

  it('fails on an unknown name, listing the names', async () => {
    requireBuilt();
    const e = await run(process.execPath, [cli, 'bench', '--only', 'nope']).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(e?.code).toBe(1);
    expect(e?.stderr).toContain(`no benchmark named nope; there are ${Object.keys(BENCHMARKS).join(', ')}`);
  });
});
