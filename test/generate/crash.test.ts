import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../../sim/server.ts';
import { Store } from '../../pipeline/io/store.ts';
import { paths, type PathRow } from '../../schemas/index.ts';
import type { GenerateStats } from '../../stages/generate/generate.ts';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const N = 150;
const SEED = 4;

/** Runs the child; with `killAtDone` it is SIGKILLed (after a random 0-30 ms) once its progress reports that many samples done. */
function runChild(
  stateDir: string,
  url: string,
  useN: boolean,
  killAtDone?: number,
): Promise<{ killed: boolean; out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--experimental-transform-types', '--no-warnings', child, stateDir, url, String(N), String(SEED)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TP_USE_N: useN ? '1' : '0' } },
    );
    let out = '';
    let err = '';
    let armed = killAtDone !== undefined;
    const kill = () => {
      armed = false;
      setTimeout(() => p.kill('SIGKILL'), Math.floor(Math.random() * 30));
    };
    if (armed && killAtDone === 0) kill();
    p.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    p.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (!armed) return;
      const done = Math.max(0, ...[...err.matchAll(/"done":(\d+)/g)].map((m) => Number(m[1])));
      if (done >= killAtDone!) kill();
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`crash child failed with ${code}: ${err}`));
      else resolve({ killed: signal === 'SIGKILL', out, code });
    });
  });
}

async function readPaths(stateDir: string): Promise<PathRow[]> {
  const s = await Store.open(join(stateDir, 'state.duckdb'));
  const rows = await s.read(paths, 'path_id');
  s.close();
  return rows;
}

describe('generate survives SIGKILL', () => {
  it.each([false, true])(
    '(use_n=%s) killed at 5 random moments and resumed, ends with exactly the rows of an uninterrupted run',
    async (useN) => {
      const sim = await startSimulator({ seed: SEED, n: N, latencyMs: 15 });
      try {
        const refDir = await mkdtemp(join(tmpdir(), 'tp-crash-ref-'));
        const ref = await runChild(refDir, sim.url, useN);
        const refStats: GenerateStats = (JSON.parse(ref.out) as { stats: GenerateStats }).stats;
        const expected = await readPaths(refDir);
        expect(expected).toHaveLength(N * 2 * 4);

        const dir = await mkdtemp(join(tmpdir(), 'tp-crash-'));
        const kills: number[] = [];
        const total = N * 2 * 4;
        for (let i = 0; i < 5; i++) {
          // Random points stratified over the run's progress (the first may fall before any reply).
          const at = Math.floor(((i + Math.random()) / 5) * total * 0.95);
          const r = await runChild(dir, sim.url, useN, at);
          kills.push(r.killed ? at : -at);
        }
        const last = await runChild(dir, sim.url, useN);
        const stats = (JSON.parse(last.out) as { stats: GenerateStats }).stats;
        const got = await readPaths(dir);
        expect(got.map((p) => p.path_id)).toEqual(expected.map((p) => p.path_id));
        expect(got).toEqual(expected);
        expect(stats.cache_hits).toBeGreaterThan(0);
        expect(stats.requests + stats.cache_hits).toBeGreaterThanOrEqual(useN ? N * 2 : N * 8);
        console.log(
          JSON.stringify({
            crash: {
              use_n: useN,
              kills_at_done: kills,
              final_requests: stats.requests,
              final_cache_hits: stats.cache_hits,
              ref_wall_ms: refStats.wall_ms,
            },
          }),
        );
      } finally {
        await sim.close();
      }
    },
    300_000,
  );
});
