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
import { Store } from '../../../pipeline/io/store.ts';

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
      // Interrupt once generation is under way (its first progress line).
      await new Promise<void>((ok) => {
        const t = setInterval(() => {
          if (/generate: 40 problems/.test(err)) {
            clearInterval(t);
            setTimeout(ok, 1500);
          }
        }, 50);
      });
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(130);
      expect(err).toMatch(/SIGINT: finishing requests in flight and keeping all finished work/);
      const m1 = JSON.parse(await readFile(join(dir, 'int', 'manifest.json'), 'utf8'));
      expect(m1.status).toBe('interrupted');
      const store = await Store.open(join(dir, 'int', 'state.duckdb'));
      const cached = (await store.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM request_cache'))[0]!.n;
      store.close();
      expect(cached).toBeGreaterThan(0);
      expect(cached).toBeLessThan(160);

      await run(process.execPath, [cli, 'run', '--config', config]);
      const m2 = JSON.parse(await readFile(join(dir, 'int', 'manifest.json'), 'utf8'));
      expect(m2.status).toBe('done');
      const gen = m2.stages.find((s: { name: string }) => s.name === 'generate').stats;
      expect(gen.generated).toBe(160);
      expect(gen.cache_hits).toBeGreaterThanOrEqual(cached);
      const s2 = await Store.open(join(dir, 'int', 'state.duckdb'));
      const ids = await s2.query<{ n: number; d: number }>(
        'SELECT count(*)::INTEGER AS n, count(DISTINCT path_id)::INTEGER AS d FROM paths',
      );
      s2.close();
      expect(ids[0]).toEqual({ n: 160, d: 160 });
    } finally {
      sim.kill('SIGTERM');
    }
  }, 120_000);
});
