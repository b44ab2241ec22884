/**
 * The client's settings derive from the config schema, and the teacher's and the extractor's carry
 * the user's limits, retries, timeouts, budget and prices (before, they were built from defaults).
 */
import { afterEach, describe, it, expect } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../../schemas/config.ts';
import {
  defaultGenerateConfig,
  extractorSettings,
  generateSettings,
  redactModel,
  teacherSettings,
  type ModelSettings,
} from '../../../../pipeline/io/client/config.ts';
import { openModel } from '../../../../pipeline/io/client/open.ts';
import { Store } from '../../../../pipeline/io/store.ts';
import { startFake, type Fake } from '../../../generate/fake.ts';

const endpoint = (model: string) => ({ base_url: 'http://127.0.0.1:9/v1', model, api_key_env: 'K' });
const limits = {
  concurrency: 3,
  rpm: 30,
  tpm: 9000,
  timeout_ms: 5000,
  max_retries: 1,
  max_reasks: 0,
  max_budget: 0.5,
  max_failure_rate: 0.1,
};
const prices = [
  { model: 'teacher', input_per_mtok: 3, output_per_mtok: 15 },
  { model: 'extractor', input_per_mtok: 0.5, output_per_mtok: 1 },
];
const config = (over: object = {}) =>
  parseConfig(
    {
      name: 't',
      inputs: [{ path: 'p.jsonl' }],
      model: endpoint('student'),
      decompose: { ...endpoint('teacher'), temperature: 0.3, max_tokens: 700 },
      align: { mode: 'extractor', extractor: endpoint('extractor') },
      generate: { ...limits, k: 5, temperature: 0.9, top_p: 0.8, seed: 3, prices },
      ...over,
    },
    'c',
    '/d',
  );
const priced = {
  teacher: { input_per_mtok: 3, output_per_mtok: 15 },
  extractor: { input_per_mtok: 0.5, output_per_mtok: 1 },
};

describe('settings from the one schema', () => {
  it('defaultGenerateConfig is the schema default (k 8, max_retries 6), prices keyed by model', () => {
    const g = config().generate!;
    const fromSchema = parseConfig({ name: 't', inputs: [{ path: 'p' }], generate: {} }, 'c', '/').generate!;
    expect(defaultGenerateConfig).toEqual({ ...fromSchema, prices: {} });
    expect(defaultGenerateConfig).toMatchObject({ k: 8, max_retries: 6 });
    expect(generateSettings(config())).toEqual({
      model: endpoint('student'),
      generate: { ...g, prices: priced },
    });
  });

  it("the teacher gets the user's limits, retries, timeouts, budget and prices, with its own sampling", () => {
    expect(teacherSettings(config())).toEqual({
      model: endpoint('teacher'),
      generate: {
        ...defaultGenerateConfig,
        ...limits,
        prices: priced,
        k: 1,
        temperature: 0.3,
        max_tokens: 700,
        seed: 0,
        use_n: false,
      },
    });
  });

  it('the extractor gets them too, with deterministic sampling: temperature 0, seed 0, no n', () => {
    expect(extractorSettings(config())).toEqual({
      model: endpoint('extractor'),
      generate: { ...defaultGenerateConfig, ...limits, prices: priced, k: 1, temperature: 0, seed: 0, use_n: false },
    });
  });

  it('without a generate section, the teacher and extractor take the schema defaults', () => {
    const c = config({ generate: null });
    expect(teacherSettings(c)!.generate).toMatchObject({ max_retries: 6, timeout_ms: 120_000, max_budget: null });
    expect(extractorSettings(c)!.generate).toMatchObject({ concurrency: 64, rpm: null });
  });

  it('is null for a model the config does not use', () => {
    const c = config({ model: null, decompose: null, align: { mode: 'numeric', extractor: endpoint('x') } });
    expect([generateSettings(c), teacherSettings(c), extractorSettings(c)]).toEqual([null, null, null]);
  });

  it('redactModel keeps the variable name and cuts userinfo and query values from the URL', () => {
    expect(redactModel({ base_url: 'https://u:sk-1@h/v1?key=sk-2', model: 'x' })).toEqual({
      base_url: 'https://h/v1?key=<redacted>',
      model: 'x',
      api_key_env: 'OPENAI_API_KEY',
      api_key: '<redacted>',
    });
  });
});

describe("the user's settings reach the teacher's and the extractor's requests", () => {
  let fake: Fake | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const req = (i: number) => ({
    messages: [{ role: 'user' as const, content: `q${i}` }],
    max_tokens: 100,
    json_schema: null,
  });

  /** Sends prompts one at a time through a client opened with `s`, until the budget stops it. */
  async function spend(s: ModelSettings, n: number) {
    const store = await Store.open(join(await mkdtemp(join(tmpdir(), 'tp-settings-')), 'state.duckdb'));
    const m = await openModel(store, { ...s.model, base_url: fake!.url }, s.generate, { env: {} });
    const outcomes = [];
    try {
      for (let i = 0; i < n; i++) outcomes.push(...(await m.port.sample(req(i), [0])));
      return { outcomes, counters: m.port.counters() };
    } finally {
      await m.close();
      store.close();
    }
  }

  it.each([
    ['teacher', teacherSettings],
    ['extractor', extractorSettings],
  ] as const)('%s: its cost is counted at its price and the budget stops it', async (name, settingsOf) => {
    fake = await startFake();
    // 50 prompt tokens and a reserve of 100 output tokens per request: a budget of $0.01 allows a few.
    const c = config({
      generate: {
        ...limits,
        max_budget: 0.01,
        prices: [{ model: name, input_per_mtok: 20, output_per_mtok: 60 }],
      },
    });
    const { outcomes, counters } = await spend(settingsOf(c)!, 10);
    expect(counters.cost_usd).toBeGreaterThan(0);
    expect(counters.cost_usd).toBeLessThanOrEqual(0.01);
    expect(outcomes.some((o) => !o.ok && o.code === 'budget')).toBe(true);
    expect(fake.requests.length).toBe(counters.requests);
    expect(fake.requests.length).toBeLessThan(10);
  });

  it("teacher: a hanging server fails at the user's timeout with the user's retries", async () => {
    fake = await startFake({ fault: () => ({ status: 200, hang: true }) });
    const c = config({ generate: { ...limits, timeout_ms: 200, max_retries: 1 } });
    const { outcomes, counters } = await spend(teacherSettings(c)!, 1);
    expect(outcomes[0]!.ok).toBe(false);
    // One try and one retry, each cut at 200 ms (the default is 120 s and 6 retries).
    expect(fake.requests.length).toBe(2);
    expect(counters.retries).toBe(1);
  });
});
