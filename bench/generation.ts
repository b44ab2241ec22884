/**
 * @module bench/generation
 * Generation throughput against the bundled SIMULATOR (run in a child process so it does not
 * share our event loop): 625 synth problems × K=8 ars-guided, one request per sample, 200 ms
 * mean latency, 128 requests in flight. Saturation S = achieved req/s ÷ (128 / 0.2 s). Then a
 * warm re-run on the same state must send zero requests; its wall time is compared to the cold one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '../stages/generate/generate.ts';
import { withModel } from '../pipeline/io/client/open.ts';
import { imagePort } from '../pipeline/io/client/images.ts';
import { buildArs } from '../stages/lib/ars.ts';
import { Store } from '../pipeline/io/store.ts';
import { defaultGenerateConfig, type GenerateConfig } from '../pipeline/io/client/config.ts';
import { synth, type SynthProblem } from '../sim/synth.ts';
import type { SimulatorOptions } from '../sim/server.ts';
import type { ArsNode, Problem } from '../schemas/index.ts';

/** Synth problems as generate's input (problems and validated ARS nodes). */
export function synthInput(bank: readonly SynthProblem[]): { problems: Problem[]; nodes: ArsNode[] } {
  const problems: Problem[] = [];
  const nodes: ArsNode[] = [];
  for (const sp of bank) {
    const p = sp.input;
    const built = buildArs(p.problem_id, p.ars, { question: p.question, answer: p.answer, answer_spec: p.answer_spec });
    if ('issues' in built)
      throw new Error(
        `synth problem ${p.problem_id} has an invalid ARS: ${built.issues.map((i) => i.message).join('; ')}`,
      );
    problems.push({
      problem_id: p.problem_id,
      domain: p.domain,
      question: p.question,
      images: p.images,
      choices: p.choices,
      answer: p.answer,
      answer_spec: p.answer_spec,
      source: 'synth',
      content_hash: p.problem_id,
      role: 'data',
    });
    nodes.push(...built.nodes);
  }
  return { problems, nodes };
}

export interface SimChild {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/** Starts the simulator in a child process (this file with `--sim-child`); resolves with its base URL. */
export async function startSimChild(opts: SimulatorOptions): Promise<SimChild> {
  const self = fileURLToPath(import.meta.url);
  const flags = self.endsWith('.ts') ? ['--experimental-transform-types', '--no-warnings'] : [];
  const child = spawn(process.execPath, [...flags, self, '--sim-child', JSON.stringify(opts)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', (l) => resolve((JSON.parse(l) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`simulator child exited with code ${code} before it listened`)));
  });
  return {
    url,
    child,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

export interface GenerationBench {
  bench: 'generation';
  saturation: number;
  requests: number;
  achieved_rps: number;
  ideal_rps: number;
  cold_wall_ms: number;
  cpu_ms_per_request: number;
  peak_rss_mb: number;
  warm_requests: number;
  warm_wall_ms: number;
  warm_wall_ratio: number;
}

/** Runs the cold and warm generation benchmark and returns its numbers. */
export async function benchGeneration(
  opts: { problems?: number; k?: number; latencyMs?: number; concurrency?: number } = {},
): Promise<GenerationBench> {
  const n = opts.problems ?? 625;
  const k = opts.k ?? 8;
  const latencyMs = opts.latencyMs ?? 200;
  const concurrency = opts.concurrency ?? 128;
  const sim = await startSimChild({ seed: 1, n, latencyMs, maxConcurrency: concurrency });
  const dir = await mkdtemp(join(tmpdir(), 'tp-bench-gen-'));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    const input = synthInput(synth({ n, seed: 1 }));
    const generateCfg: GenerateConfig = {
      ...defaultGenerateConfig,
      k,
      modes: ['ars-guided'],
      use_n: false,
      concurrency,
      seed: 1,
      max_tokens: 2048,
      timeout_ms: 30_000,
    };
    const cfg = { model: { base_url: `${sim.url}/v1`, model: 'sim' }, generate: generateCfg, runId: 'bench' };
    const store = await Store.open(join(dir, 'state.duckdb'));
    const cpu0 = process.cpuUsage();
    const run = () =>
      withModel(store, cfg.model, cfg.generate, { env: {} }, (model) =>
        generate(input, cfg, { model, images: imagePort([process.cwd()]) }),
      );
    const cold = await run();
    const cpu = process.cpuUsage(cpu0);
    const warm = await run();
    store.close();
    const idealRps = concurrency / (latencyMs / 1000);
    const achieved = cold.stats.requests / (cold.stats.wall_ms / 1000);
    return {
      bench: 'generation',
      saturation: round(achieved / idealRps, 3),
      requests: cold.stats.requests,
      achieved_rps: round(achieved, 1),
      ideal_rps: idealRps,
      cold_wall_ms: cold.stats.wall_ms,
      cpu_ms_per_request: round((cpu.user + cpu.system) / 1000 / Math.max(1, cold.stats.requests), 3),
      peak_rss_mb: round(peak / 2 ** 20, 1),
      warm_requests: warm.stats.requests,
      warm_wall_ms: warm.stats.wall_ms,
      warm_wall_ratio: round(warm.stats.wall_ms / cold.stats.wall_ms, 4),
    };
  } finally {
    clearInterval(sampler);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

// Child mode: serve the simulator until stdin closes.
if (process.argv[2] === '--sim-child') {
  const { startSimulator } = await import('../sim/server.ts');
  const sim = await startSimulator(JSON.parse(process.argv[3] ?? '{}') as SimulatorOptions);
  process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
  process.stdin.resume();
  process.stdin.on(
    'end',
    () =>
      void sim.close().then(() => {
        process.exitCode = 0;
        process.stdin.destroy();
      }),
  );
}
