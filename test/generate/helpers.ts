/** @module test/generate/helpers  Literal problems and ARS rows, and a temp store, for generate's tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../pipeline/io/store.ts';
import { defaultGenerateConfig, type GenerateConfig } from '../../pipeline/io/client/config.ts';
import type { ArsNode, Problem } from '../../schemas/index.ts';

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
