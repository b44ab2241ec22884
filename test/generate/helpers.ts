/** @module test/generate/helpers  Literal problems and ARS rows, and a temp store, for generate's tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../pipeline/io/store.ts';
import { defaultGenerateConfig, type GenerateConfig } from '../../pipeline/io/client/config.ts';
import type { ArsNode, Problem } from '../../schemas/index.ts';
import { withModel } from '../../pipeline/io/client/open.ts';
import { imagePort } from '../../pipeline/io/client/images.ts';
import { generate } from '../../stages/generate/generate.ts';
import { decompose } from '../../stages/decompose/decompose.ts';
import type { ProgressSink } from '../../stages/lib/ports.ts';
import type { ModelConfig } from '../../pipeline/io/client/config.ts';

export interface RunDeps {
  store: Store;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: ProgressSink;
}
export interface RunCfg {
  model: ModelConfig;
  generate: GenerateConfig;
  runId: string;
  imageRoot?: string | readonly string[];
}

const roots = (r: RunCfg['imageRoot']) => (r === undefined ? [process.cwd()] : typeof r === 'string' ? [r] : [...r]);
const opts = (d: RunDeps) => ({
  ...(d.env ? { env: d.env } : {}),
  ...(d.signal ? { signal: d.signal } : {}),
  ...(d.log ? { log: d.log } : {}),
});

/** `generate` with a client (and its cache) opened on `deps.store`, as the pipeline runs it. */
export function runGenerate(input: Parameters<typeof generate>[0], cfg: RunCfg, deps: RunDeps) {
  return withModel(deps.store, cfg.model, cfg.generate, opts(deps), (model) =>
    generate(input, cfg, {
      model,
      images: imagePort(roots(cfg.imageRoot)),
      ...(deps.log ? { log: deps.log } : {}),
      ...(deps.progress ? { progress: deps.progress } : {}),
    }),
  );
}

/** `decompose` with a client opened on `deps.store`. */
export function runDecompose(input: Parameters<typeof decompose>[0], cfg: RunCfg, deps: RunDeps) {
  return withModel(deps.store, cfg.model, cfg.generate, opts(deps), (model) =>
    decompose(input, cfg, { model, images: imagePort(roots(cfg.imageRoot)), ...(deps.log ? { log: deps.log } : {}) }),
  );
}

export const spec = { kind: 'number' as const, tolerance: null, unit: null };

export function problem(id: string, extra: Partial<Problem> = {}): Problem {
  return {
    problem_id: id,
    domain: 'math',
    question: `What is ${id}?`,
    images: [],
    choices: [],
    answer: '3',
    answer_spec: spec,
    source: 'test',
    content_hash: id,
    role: 'data',
    ...extra,
  };
}

/** Q1, Q2 (depends on Q1), F. */
export function ars(id: string): ArsNode[] {
  const n = (node_id: string, position: number, depends_on: string[], is_final = false): ArsNode => ({
    problem_id: id,
    node_id,
    position,
    question: `${node_id} of ${id}?`,
    depends_on,
    answer: null,
    answer_spec: spec,
    uses_image: false,
    is_final,
  });
  return [n('Q1', 0, []), n('Q2', 1, ['Q1']), n('F', 2, ['Q2'], true)];
}

export function cfgFor(url: string, over: Partial<GenerateConfig> = {}) {
  return {
    model: { base_url: url, model: 'fake-model' },
    generate: { ...defaultGenerateConfig, k: 3, seed: 7, timeout_ms: 2000, max_retries: 3, ...over },
    runId: 'r1',
  };
}

export async function tempStore(prefix = 'tp-gen-'): Promise<{ dir: string; store: Store }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, store: await Store.open(join(dir, 'state.duckdb')) };
}
