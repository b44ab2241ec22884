/**
 * @module pipeline/cli/commands/demo
 * `tracepipe demo`: synth problems, start the SIMULATOR in a child process, run the whole
 * pipeline through the real `openai` client over HTTP, stop the simulator. Every mode runs: a
 * third of the problems come without an ARS (the simulated teacher decomposes them), half of the
 * free paths are aligned by the simulated extractor, paths are drawn adaptively, and failing
 * paths are rectified; the last line counts each mode from the stages' totals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig, runDirOf } from '../../../schemas/config.ts';
import { runPipeline, type RunResult } from '../../engine/run.ts';
import type { StageSummary } from '../../engine/runner.ts';
import { writeFileAtomic } from '../../io/store.ts';

export interface DemoOptions {
  n: number;
  k: number;
  seed: number;
  name: string;
  runsDir: string;
  signal: AbortSignal;
  abort: AbortSignal;
  log: (line: string) => void;
  onCleanup: (f: () => Promise<void>) => void;
  latencyMs?: number;
}

export const SIM_MODEL = 'tracepipe-simulator';

/** Share of the demo's free paths sent to the extractor (the rest are aligned numerically). */
export const DEMO_EXTRACTOR_SHARE = 0.5;

/** Whether the demo strips a synth problem's ARS: a third of each domain (domains cycle with the index). */
export const demoWithoutArs = (index: number) => Math.floor(index / 3) % 3 === 2;

/** The demo's count of each mode, from the stages' totals (what the last summary line says). */
export function demoModes(stages: readonly Pick<StageSummary, 'name' | 'totals'>[]) {
  const totals = (name: string) => (stages.find((s) => s.name === name)?.totals ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const aligners = (totals('align').by_aligner ?? {}) as Record<string, number>;
  const adaptive = (totals('generate').adaptive ?? {}) as Record<string, number>;
  const r = totals('rectify');
  const pairs = ((totals('emit').step_preference as { by_chosen_source?: Record<string, number> } | undefined)
    ?.by_chosen_source ?? {}) as Record<string, number>;
  return {
    decomposed_problems: num(totals('decompose').decomposed),
    extractor_aligned_paths: num(aligners.extractor),
    numeric_aligned_paths: num(aligners.numeric),
    samples_drawn: num(adaptive.samples_drawn),
    requests_saved: num(adaptive.requests_saved),
    ffs_paths: num(r.ffs_paths),
    rectified_paths: num(r.rectified_paths),
    rectified_pairs: num(pairs.rectified),
    peer_pairs: num(pairs.peer),
  };
}

/** Starts `tracepipe sim serve` as a child process and waits for its URL. */
export async function startSimProcess(
  args: string[],
  onCleanup: (f: () => Promise<void>) => void,
): Promise<{ url: string; child: ChildProcess }> {
  const cli = process.argv[1]!;
  const child = spawn(process.execPath, [...process.execArgv, cli, 'sim', 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`simulator exited with code ${code} before it listened`)));
    lines.on('line', (line) => {
      process.stderr.write(`${line}\n`);
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) ok(m[1]!);
    });
  });
  return { url, child };
}

/** Runs the demo end to end and returns the finished run. */
export async function demo(opts: DemoOptions): Promise<RunResult> {
  const runDir = runDirOf({ name: opts.name, runs_dir: resolve(opts.runsDir) });
  const inputDir = join(runDir, 'input');
  await mkdir(inputDir, { recursive: true });
  const problemsFile = join(inputDir, 'problems.jsonl');
  const { synth, synthRow } = await import('../../../sim/synth.ts');
  const rows = synth({ n: opts.n, seed: opts.seed }).map((p, i) => ({
    ...synthRow(p),
    ...(demoWithoutArs(i) ? { ars: [] } : {}),
  }));
  await writeFile(problemsFile, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const bare = rows.filter((_, i) => demoWithoutArs(i)).length;
  opts.log(`synth: ${opts.n} problems (math, physics, chemistry) in ${problemsFile}; ${bare} come without an ARS`);
  const sim = await startSimProcess(
    ['--seed', String(opts.seed), '--n', String(opts.n), '--latency-ms', String(opts.latencyMs ?? 20)],
    opts.onCleanup,
  );
  const endpoint = { base_url: `${sim.url}/v1`, model: SIM_MODEL, api_key_env: 'TRACEPIPE_SIM_KEY' };
  const raw = {
    name: opts.name,
    runs_dir: resolve(opts.runsDir),
    inputs: [{ path: problemsFile, format: 'jsonl' }],
    model: { ...endpoint, simulated: true },
    // The simulated teacher writes the ARS of the problems that come without one.
    decompose: endpoint,
    align: { mode: 'extractor', extractor: endpoint, extractor_share: DEMO_EXTRACTOR_SHARE },
    generate: {
      k: opts.k,
      modes: ['ars-guided', 'free'],
      temperature: 0.8,
      seed: opts.seed,
      concurrency: 64,
      max_tokens: 1024,
      adaptive: { first_round: Math.min(4, opts.k) },
    },
    rectify: {},
  };
  await writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(raw, null, 2)}\n`);
  const config = parseConfig(raw, 'demo config', runDir);
  try {
    const result = await runPipeline(config, {
      signal: opts.signal,
      abort: opts.abort,
      log: opts.log,
      command: 'tracepipe demo',
    });
    const m = demoModes(result.stages);
    opts.log(
      `demo modes (SIMULATION, every reply from the simulator): ${m.decomposed_problems} of ${bare} problems without an ARS decomposed by the teacher; ${m.extractor_aligned_paths} free paths aligned by the extractor, ${m.numeric_aligned_paths} numerically; ${m.samples_drawn} samples drawn adaptively, ${m.requests_saved} saved; ${m.rectified_paths} of ${m.ffs_paths} FFS paths rectified, ${m.rectified_pairs} rectified and ${m.peer_pairs} peer step pairs`,
    );
    return result;
  } finally {
    sim.child.kill('SIGTERM');
  }
}
