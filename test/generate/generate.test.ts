import { describe, it, expect, afterEach } from 'vitest';
import { runGenerate } from './helpers.ts';
import { startFake, defaultReply, type Fake } from './fake.ts';
import { ars, cfgFor, problem, tempStore } from './helpers.ts';

let fake: Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});
const input = () => ({ problems: [problem('p1'), problem('p2')], nodes: [...ars('p1'), ...ars('p2')] });

describe('generate', () => {
  it('samples K guided and free paths per problem with n, and a re-run makes zero requests', async () => {
    fake = await startFake();
    const { store } = await tempStore();
    const cold = await runGenerate(input(), cfgFor(fake.url), { store });
    expect(cold.rejects).toEqual([]);
    expect(cold.paths.map((p) => p.path_id)).toEqual([
      'p1/ars-guided/0',
      'p1/ars-guided/1',
      'p1/ars-guided/2',
      'p1/free/0',
      'p1/free/1',
      'p1/free/2',
      'p2/ars-guided/0',
      'p2/ars-guided/1',
      'p2/ars-guided/2',
      'p2/free/0',
      'p2/free/1',
      'p2/free/2',
    ]);
    expect(fake.requests.length).toBe(4);
    expect(fake.requests.every((r) => r.body.n === 3 && r.body.seed === 7)).toBe(true);
    const g = cold.paths[0]!;
    expect(g.node_answers.map((a) => [a.node_id, a.answer])).toEqual([
      ['Q1', '1'],
      ['Q2', '2'],
      ['F', g.final_answer],
    ]);
    expect(g.steps).toHaveLength(3);
    expect(cold.paths[3]!.node_answers).toEqual([]);
    expect(cold.paths[3]!.steps[0]).toMatch(/^Step 1: think/);
    expect(cold.stats).toMatchObject({ requests: 4, cache_hits: 0, paths: 12, rejects: 0 });

    const warm = await runGenerate(input(), cfgFor(fake.url), { store });
    expect(fake.requests.length).toBe(4);
    expect(warm.stats).toMatchObject({ requests: 0, cache_hits: 12 });
    expect(warm.paths).toEqual(cold.paths);
    store.close();
  });

  it('falls back to one request per sample when the server refuses n, and remembers it', async () => {
    fake = await startFake({ refuseN: true });
    const { store } = await tempStore();
    const out = await runGenerate(input(), cfgFor(fake.url, { concurrency: 1 }), { store });
    expect(out.paths).toHaveLength(12);
    expect(out.stats.n_refused).toBe(true);
    expect(fake.requests.filter((r) => (r.body.n ?? 1) > 1)).toHaveLength(1);
    expect(
      fake.requests
        .filter((r) => r.body.n === undefined)
        .map((r) => r.body.seed)
        .sort(),
    ).toEqual([7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9]);
    store.close();
  });
});
