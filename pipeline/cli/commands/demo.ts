/**
 * @module pipeline/cli/commands/demo
 * `tracepipe demo`: synth problems, start the SIMULATOR in a child process, run the whole
 * pipeline through the real `openai` client over HTTP, stop the simulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig, runDirOf } from '../../../schemas/config.ts';
import { runPipeline, type RunResult } from '../../engine/run.ts';
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
  const { writeSynth } = await import('../../../sim/synth.ts');
  await writeSynth(problemsFile, { n: opts.n, seed: opts.seed });
  opts.log(`synth: ${opts.n} problems (math, physics, chemistry) in ${problemsFile}`);
  const sim = await startSimProcess(
    ['--seed', String(opts.seed), '--n', String(opts.n), '--latency-ms', String(opts.latencyMs ?? 20)],
    opts.onCleanup,
  );
  const raw = {
    name: opts.name,
    runs_dir: resolve(opts.runsDir),
    inputs: [{ path: problemsFile, format: 'jsonl' }],
    model: { base_url: `${sim.url}/v1`, model: SIM_MODEL, api_key_env: 'TRACEPIPE_SIM_KEY', simulated: true },
    generate: {
      k: opts.k,
      modes: ['ars-guided', 'free'],
      temperature: 0.8,
      seed: opts.seed,
      concurrency: 64,
      max_tokens: 1024,
    },
  };
  await writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(raw, null, 2)}\n`);
  const config = parseConfig(raw, 'demo config', runDir);
  try {
    return await runPipeline(config, {
      signal: opts.signal,
      abort: opts.abort,
      log: opts.log,
      command: 'tracepipe demo',
    });
  } finally {
    sim.child.kill('SIGTERM');
  }
}
