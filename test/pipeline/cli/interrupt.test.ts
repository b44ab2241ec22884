/**
 * Ctrl-C on a long run: the CLI stops cleanly (exit 130, manifest "interrupted"), keeps every
 * finished reply, and the next run resumes to the same paths as an uninterrupted one.
 */
import { describe, it, expect } from 'vitest';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';
import { RunState } from '../../../pipeline/io/state.ts';
import { readdir } from 'node:fs/promises';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');

describe('SIGINT during generate', () => {
  it('exits 130 keeping finished work, and a re-run completes the same paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-sigint-'));
    await run(process.execPath, [cli, 'synth', '--out', join(dir, 'p.jsonl'), '--n', '40', '--seed', '3']);
    const sim = spawn(
      process.execPath,
      [cli, 'sim', 'serve', '--seed', '3', '--n', '40', '--latency-ms', '150', '--max-concurrency', '4'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      const url = await new Promise<string>((ok) =>
        createInterface({ input: sim.stdout! }).on('line', (l) => {
          const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
          if (m) ok(m[1]!);
        }),
      );
      const config = join(dir, 'c.json');
      await writeFile(
        config,
        JSON.stringify({
          name: 'int',
          runs_dir: dir,
          inputs: [{ path: join(dir, 'p.jsonl') }],
          model: { base_url: `${url}/v1`, model: 'sim', simulated: true },
          generate: { k: 2, concurrency: 4, use_n: false, seed: 1 },
        }),
      );
      const child = spawn(process.execPath, [cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });
      // Interrupt once generation is under way: replies are landing in the shards' caches.
      const cacheDir = join(dir, 'int', 'state', 'cache');
      const cachedLines = async () => {
        let n = 0;
        for (const shard of await readdir(cacheDir).catch(() => [] as string[]))
          for (const f of await readdir(join(cacheDir, shard)))
            n += (await readFile(join(cacheDir, shard, f), 'utf8')).split('\n').filter(Boolean).length;
        return n;
      };
      for (let i = 0; i < 600 && (await cachedLines()) < 4; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(130);
      expect(err).toMatch(
        /SIGINT: no new request starts; finishing the requests in flight and keeping all finished work/,
      );
      const m1 = JSON.parse(await readFile(join(dir, 'int', 'manifest.json'), 'utf8'));
      expect(m1.status).toBe('interrupted');
      const cached = await cachedLines();
      expect(cached).toBeGreaterThan(0);
      expect(cached).toBeLessThan(160);

      await run(process.execPath, [cli, 'run', '--config', config]);
      const m2 = JSON.parse(await readFile(join(dir, 'int', 'manifest.json'), 'utf8'));
      expect(m2.status).toBe('done');
      const gen = m2.stages.find((s: { name: string }) => s.name === 'generate');
      expect(gen.totals.generated_paths).toBe(160);
      const paths = await new RunState(join(dir, 'int', 'state')).allRows<{ problem_id: string; path_id: string }>(
        'generate',
        'paths',
      );
      expect(paths).toHaveLength(160);
      expect(new Set(paths.map((p) => p.path_id)).size).toBe(160);
    } finally {
      sim.kill('SIGTERM');
    }
  }, 120_000);
});
