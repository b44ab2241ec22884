/**
 * A rate-limited server as a user meets it: the simulator in its own process answers 5% of
 * requests 429 (Retry-After) and 5% 5xx, and refuses (429) anything past 64 requests in flight;
 * `tracepipe run` in a child process, 20 times in a row, must finish each run with every path.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';
import { RunState } from '../../../pipeline/io/state.ts';

const exec = promisify(execFile);
const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const N = 40;
const K = 4;
const RUNS = 20;
const CAP = 64;

/** Runs the built CLI; resolves with its exit code and output whatever the code. */
function runCli(
  args: string[],
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('tracepipe run against a rate-limited simulator in its own process', () => {
  let dir: string;
  let sim: ChildProcess;
  let simErr = '';
  let url: string;

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
    dir = await mkdtemp(join(tmpdir(), 'tp-429-'));
    await exec(process.execPath, [cli, 'synth', '--out', join(dir, 'p.jsonl'), '--n', String(N), '--seed', '5']);
    sim = spawn(
      process.execPath,
      [
        cli,
        'sim',
        'serve',
        '--problems',
        join(dir, 'p.jsonl'),
        '--rate-429',
        '0.05',
        '--retry-after-ms',
        '200',
        '--rate-5xx',
        '0.05',
        '--latency-ms',
        '20',
        '--max-concurrency',
        String(CAP),
        '--over-capacity',
        '429',
        '--fault-seed',
        '17',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    sim.stderr!.on('data', (c: Buffer) => (simErr += c.toString()));
    url = await new Promise<string>((ok, fail) => {
      sim.once('exit', (code) => fail(new Error(`simulator exited with ${code} before it listened: ${simErr}`)));
      createInterface({ input: sim.stdout! }).on('line', (l) => {
        const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
        if (m) ok(m[1]!);
      });
    });
  });

  afterAll(async () => {
    if (sim && sim.exitCode === null && sim.signalCode === null) {
      sim.kill('SIGTERM');
      await once(sim, 'exit');
    }
  });

  it(`${RUNS} runs in a row each exit 0 with all ${N * 2 * K} paths, and no request passes the server's limit`, async () => {
    const perRun: { generated: number; rate_limited: number; retries: number; requests: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const config = join(dir, `c${i}.json`);
      await writeFile(
        config,
        JSON.stringify({
          name: `r${i}`,
          runs_dir: dir,
          inputs: [{ path: join(dir, 'p.jsonl') }],
          model: { base_url: `${url}/v1`, model: 'sim' },
          // One request per sample (no `n`), so each run sends hundreds of requests and meets many 429s.
          generate: { k: K, concurrency: CAP, use_n: false, seed: i },
        }),
      );
      const r = await runCli(['run', '--config', config]);
      const tail = r.stderr.split('\n').slice(-8).join('\n');
      expect(r.code, `run ${i} exited ${r.code} (signal ${r.signal}); stderr ends:\n${tail}`).toBe(0);
      const m = JSON.parse(await readFile(join(dir, `r${i}`, 'manifest.json'), 'utf8'));
      expect(m.status, `run ${i} manifest status`).toBe('done');
      const stage = m.stages.find((s: { name: string }) => s.name === 'generate');
      const gen = stage.stats;
      expect(stage.totals.generated_paths, `run ${i} generated paths`).toBe(N * 2 * K);
      expect(stage.rejects, `run ${i} rejected paths`).toEqual({});
      // The replies carried the simulator's fingerprint, and the client says so; so do the manifest and the outputs.
      expect(gen.simulated, `run ${i} generate stats: simulated`).toBe(true);
      expect(m.simulated, `run ${i} manifest simulated`).toBe(true);
      const rows = await new RunState(join(dir, `r${i}`, 'state')).allRows<{ problem_id: string; path_id: string }>(
        'generate',
        'paths',
      );
      expect({ n: rows.length, d: new Set(rows.map((r) => r.path_id)).size }, `run ${i} paths table`).toEqual({
        n: N * 2 * K,
        d: N * 2 * K,
      });
      perRun.push({
        generated: stage.totals.generated_paths,
        rate_limited: gen.rate_limited,
        retries: gen.retries,
        requests: gen.requests,
      });
    }
    sim.kill('SIGTERM');
    await once(sim, 'exit');
    const m = /tracepipe simulator stopped: (\{.*\})$/m.exec(simErr);
    expect(m, `simulator's closing line in: ${simErr}`).not.toBeNull();
    const closing = JSON.parse(m![1]!) as { requests: number; outcomes: Record<string, number>; max_in_flight: number };
    const outcomes = closing.outcomes;
    console.log(
      JSON.stringify({
        rate_limit_cli: {
          runs: RUNS,
          sim_requests: closing.requests,
          outcomes,
          max_in_flight: closing.max_in_flight,
          rate_limited: perRun.reduce((s, r) => s + r.rate_limited, 0),
          retries: perRun.reduce((s, r) => s + r.retries, 0),
        },
      }),
    );
    // The injected faults really happened, and none of the client's requests went past the cap.
    expect(outcomes['429']).toBeGreaterThan(RUNS);
    expect(outcomes['5xx']).toBeGreaterThan(RUNS);
    expect(outcomes.over_capacity).toBe(0);
    expect(perRun.reduce((s, r) => s + r.rate_limited, 0)).toBe(outcomes['429']);
  }, 900_000); // about 90 s alone; a 2-core machine shared with other test runs takes several times that
});
