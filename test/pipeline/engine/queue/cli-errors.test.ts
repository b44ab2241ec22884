/**
 * The queue flags through the built CLI: a `--queue` that is not a Redis URL, a Redis that does not
 * answer, and bad worker settings are each one line on stderr (no stack) and exit code 2; the URL's
 * password never reaches the output. (These need no redis-server.)
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../shared.ts';

const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');

const tp = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, TRACEPIPE_LOG: 'text' } },
      (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

describe('queue flags on the command line', () => {
  it.each([
    [
      ['worker', '--queue', 'http://127.0.0.1:6379'],
      'tracepipe: --queue should be a Redis URL such as redis://HOST:6379 (or rediss:// for TLS), got "http://127.0.0.1:6379"',
    ],
    [
      ['worker', '--queue', 'redis://127.0.0.1:6379', '--concurrency', '0', '--lock-ms', '10'],
      'tracepipe: --concurrency should be a whole number >= 1, got 0\ntracepipe: --lock-ms should be a whole number of milliseconds >= 1000, got 10',
    ],
    [
      ['worker', '--queue', 'redis://127.0.0.1:6379', '--name', '../x'],
      'tracepipe: --name should be letters, digits, ".", "_" or "-" (it names files), got "../x"',
    ],
  ])('tracepipe %j exits 2 with one line per problem', async (args, message) => {
    const r = await tp(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(message);
  });

  it('a Redis that does not answer is one line naming the URL without its password, exit 2 (worker and run)', async () => {
    const w = await tp(['worker', '--queue', 'redis://:hunter2-secret@127.0.0.1:1']);
    expect(w.code).toBe(2);
    expect(w.stderr.trim().split('\n')).toHaveLength(1);
    expect(w.stderr).toMatch(
      /^tracepipe: --queue redis:\/\/127\.0\.0\.1:1: Redis does not answer \(.*ECONNREFUSED.*\); start redis-server there/,
    );
    expect(w.stderr).not.toContain('hunter2');

    const dir = await mkdtemp(join(tmpdir(), 'tp-qcli-'));
    await writeFile(join(dir, 'p.jsonl'), '');
    await writeFile(join(dir, 'c.json'), JSON.stringify({ name: 'q', runs_dir: dir, inputs: [{ path: 'p.jsonl' }] }));
    const r = await tp(['run', '--config', join(dir, 'c.json'), '--queue', 'redis://:hunter2-secret@127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^tracepipe: --queue redis:\/\/127\.0\.0\.1:1: Redis does not answer/,
    );
    expect(r.stderr + r.stdout).not.toContain('hunter2');
  });

  it('documents the worker and the --queue flag in --help', async () => {
    const w = await tp(['worker', '--help']);
    expect(w.code).toBe(0);
    for (const flag of ['--queue', '--concurrency', '--name', '--lock-ms']) expect(w.stdout).toContain(flag);
    expect((await tp(['run', '--help'])).stdout).toMatch(/--queue\s+redis:\/\/HOST:6379: run the shard jobs/);
  });
});
