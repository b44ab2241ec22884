import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArsNode, PathRow } from '../../../schemas/index.ts';
import { alignAllWithExtractor } from '../../../stages/align/extract-all.ts';
import { defaultGenerateConfig } from '../../../pipeline/io/client/config.ts';
import { Store } from '../../../pipeline/io/store.ts';
import { withModel } from '../../../pipeline/io/client/open.ts';
import { startFake, type Fake } from '../../generate/fake.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const node = (
  problem_id: string,
  node_id: string,
  position: number,
  answer: string,
  depends_on: string[],
): ArsNode => ({
  problem_id,
  node_id,
  position,
  question: `q ${node_id}`,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
const nodes = ['p1', 'p2'].flatMap((p) => [node(p, 'Q1', 0, '9', []), node(p, 'F', 1, '18', ['Q1'])]);
const path = (problem_id: string, mode: PathRow['mode'], steps: string[]): PathRow => ({
  run_id: 'r',
  problem_id,
  path_id: `${problem_id}/${mode}/0`,
  mode,
  sample_index: 0,
  model: 'm',
  steps,
  node_answers: [],
  final_answer: null,
  given_correct: null,
  finish_reason: null,
  tokens_in: 0,
  tokens_out: 0,
});

describe('align stage, extractor mode', () => {
  let fake: Fake;
  beforeAll(async () => {
    // p1's steps mention "eggs": a valid alignment; p2's get a reply that never validates.
    fake = await startFake({
      reply: (req) => ({
        content: JSON.stringify(
          req.body.messages.some((m) => String(m.content).includes('eggs'))
            ? {
                nodes: [
                  { node_id: 'Q1', step: 0, answer: '10' },
                  { node_id: 'F', step: 1, answer: '20' },
                ],
              }
            : { nodes: [] },
        ),
      }),
    });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('aligns free paths through the client, keeps numeric alignment with a reject when the extractor fails, and caches', async () => {
    const store = await Store.open(join(await mkdtemp(join(tmpdir(), 'tp-extract-')), 'state.duckdb'));
    const input = {
      paths: [
        path('p1', 'free', ['She has 16 - 6 = 10 eggs.', 'She makes 10 * 2 = 20.']),
        path('p2', 'free', ['16 - 7 = 9', '9 * 2 = 18']),
      ],
      nodes,
    };
    const cfg = {
      model: { base_url: fake.url, model: 'extractor' },
      generate: { ...defaultGenerateConfig, max_reasks: 1, seed: 0, use_n: false },
    };
    const run = () =>
      withModel(store, cfg.model, cfg.generate, {}, (model) => alignAllWithExtractor(input, cfg.generate, { model }));
    const r = await run();
    expect(r.paths[0]!.node_answers).toEqual([
      { node_id: 'Q1', answer: '10', step: 0 },
      { node_id: 'F', answer: '20', step: 1 },
    ]);
    expect(r.paths[0]!.final_answer).toBe('20');
    expect(r.paths[1]!.node_answers.find((a) => a.node_id === 'Q1')).toEqual({ node_id: 'Q1', answer: '9', step: 0 });
    expect(r.rejects.map((x) => [x.stage, x.item, x.message.slice(0, 56)])).toEqual([
      ['align', 'p2/free/0', 'path p2/free/0: extractor failed, numeric alignment kept'],
    ]);
    expect(r.stats).toMatchObject({ extracted: 1, fell_back: 1 });
    const sent = fake.requests.length;
    const again = await run();
    expect(fake.requests.length).toBe(sent);
    expect(again.paths).toEqual(r.paths);
    store.close();
  });
});

describe('extractor share', () => {
  it('sends a stable share of paths by a hash of their id; a larger share keeps every path a smaller one sent', async () => {
    const { sentToExtractor } = await import('../../../stages/align/extract-all.ts');
    const ids = Array.from({ length: 2000 }, (_, i) => `p${i}/free/${i % 8}`);
    const half = ids.filter((id) => sentToExtractor(id, 0.5));
    expect(half.length).toBeGreaterThan(900);
    expect(half.length).toBeLessThan(1100);
    expect(ids.filter((id) => sentToExtractor(id, 0.5))).toEqual(half);
    const more = new Set(ids.filter((id) => sentToExtractor(id, 0.8)));
    expect(half.every((id) => more.has(id))).toBe(true);
    expect(ids.filter((id) => sentToExtractor(id, 0))).toEqual([]);
    expect(ids.every((id) => sentToExtractor(id, 1))).toBe(true);
  });

  it('aligns the paths outside the share numerically, sending them nowhere', async () => {
    const fake = await startFake({ reply: () => ({ content: '{"nodes": []}' }) });
    const store = await Store.open(join(await mkdtemp(join(tmpdir(), 'tp-extract-share-')), 'state.duckdb'));
    const input = { paths: [path('p2', 'free', ['16 - 7 = 9', '9 * 2 = 18'])], nodes };
    const cfg = {
      model: { base_url: fake.url, model: 'extractor' },
      generate: { ...defaultGenerateConfig, use_n: false },
    };
    const r = await withModel(store, cfg.model, cfg.generate, {}, (model) =>
      alignAllWithExtractor(input, { max_reasks: 0, share: 0 }, { model }),
    );
    expect(fake.requests).toHaveLength(0);
    expect(r.extractedIds.size).toBe(0);
    expect(r.paths[0]!.node_answers.find((a) => a.node_id === 'Q1')).toEqual({ node_id: 'Q1', answer: '9', step: 0 });
    store.close();
    await fake.close();
  });
});
