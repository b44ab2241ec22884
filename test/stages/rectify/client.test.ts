/** The model client sends a continuation with rectification's own temperature, under its own cache key. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withModel } from '../../../pipeline/io/client/open.ts';
import { startFake, type Fake } from '../../generate/fake.ts';
import { cfgFor, tempStore } from '../../generate/helpers.ts';

describe('a prompt with its own temperature', () => {
  let fake: Fake;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it('is sent with it, and cached apart from the same prompt at the role temperature', async () => {
    const { store } = await tempStore();
    const cfg = cfgFor(fake.url, { temperature: 0.2, use_n: false });
    const req = { messages: [{ role: 'user' as const, content: 'Continue.' }], max_tokens: 64, json_schema: null };
    await withModel(store, cfg.model, cfg.generate, {}, async (model) => {
      await model.sample({ ...req, temperature: 0.9 }, [0]);
      await model.sample(req, [0]);
      await model.sample({ ...req, temperature: 0.9 }, [0]);
      expect(model.counters()).toMatchObject({ requests: 2, cache_hits: 1 });
    });
    expect(fake.requests.map((r) => (r.body as { temperature?: number }).temperature)).toEqual([0.9, 0.2]);
    store.close();
  });
});
