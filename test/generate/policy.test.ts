import { describe, it, expect, afterEach } from 'vitest';
import { runGenerate } from './helpers.ts';
import { startFake, defaultReply, type Fake } from './fake.ts';
import { ars, cfgFor, problem, tempStore } from './helpers.ts';

let fake: Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});
const one = () => ({ problems: [problem('p1')], nodes: ars('p1') });
const text = (c: unknown) => (typeof c === 'string' ? c : '');
const isReask = (r: { body: { messages: { content: unknown }[] } }) =>
  text(r.body.messages[1]!.content).includes('A previous reply could not be used');

describe('generate: retries, re-asks, truncation, budget', () => {
  it('re-asks an invalid guided reply and lands the path on the valid answer', async () => {
    fake = await startFake({ reply: (r, i) => (isReask(r) ? defaultReply(r, i) : { content: '{"steps": [' }) });
    const { store } = await tempStore();
    const out = await runGenerate(one(), cfgFor(fake.url, { k: 2, modes: ['ars-guided'] }), { store });
    expect(out.paths.map((p) => p.path_id)).toEqual(['p1/ars-guided/0', 'p1/ars-guided/1']);
    expect(out.stats.reasks).toBe(2);
    const reask = fake.requests.find(isReask)!;
    expect(reask.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(text(reask.body.messages[1]!.content)).toMatch(
      /^Problem:\nWhat is p1\?[\s\S]*\n\nA previous reply could not be used: reply is not valid JSON: [^\n]*\. Reply with only the JSON object, one entry per sub-question in order, then "final"\.$/,
    );
    store.close();
  });

  it('rejects a path that stays invalid after max_reasks, with the reason and the raw reply', async () => {
    fake = await startFake({
      reply: () => ({ content: JSON.stringify({ steps: [], final: { reasoning: '', answer: '1' } }) }),
    });
    const { store } = await tempStore();
    const out = await runGenerate(one(), cfgFor(fake.url, { k: 1, modes: ['ars-guided'], max_reasks: 2 }), { store });
    expect(out.paths).toEqual([]);
    expect(out.rejects).toEqual([
      {
        stage: 'generate',
        source: 'p1',
        item: 'p1/ars-guided/0',
        code: 'schema',
        path: 'reply',
        message: 'path p1/ars-guided/0: reply has 0 steps, expected 2 (one per sub-question) (after 2 re-asks)',
        raw: '{"steps":[],"final":{"reasoning":"","answer":"1"}}',
      },
    ]);
    expect(fake.requests).toHaveLength(3);
    store.close();
  });

  it('retries a truncated reply once with twice the max_tokens, then rejects one truncated twice', async () => {
    fake = await startFake({
      reply: (r, i) =>
        r.body.max_tokens === 100 || text(r.body.messages[1]!.content).includes('p2')
          ? { content: 'Step 1: cut', finish_reason: 'length' }
          : defaultReply(r, i),
    });
    const { store } = await tempStore();
    const out = await runGenerate(
      { problems: [problem('p1'), problem('p2')], nodes: [] },
      cfgFor(fake.url, { k: 1, modes: ['free'], max_tokens: 100 }),
      { store },
    );
    expect(out.paths.map((p) => [p.path_id, p.finish_reason])).toEqual([['p1/free/0', 'stop']]);
    expect(out.rejects.map((r) => [r.item, r.code, r.raw])).toEqual([['p2/free/0', 'truncated', 'Step 1: cut']]);
    expect(fake.requests.map((r) => r.body.max_tokens).sort()).toEqual([100, 100, 200, 200]);
    expect(out.stats.truncated).toBe(3);
    store.close();
  });

  it('retries 5xx, resets and timeouts with backoff, and rejects a 400 at once', async () => {
    const seen = new Map<string, number>();
    fake = await startFake({
      fault: (r) => {
        const key = text(r.body.messages[1]!.content);
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        if (key.includes('p1') && n === 1) return { status: 503 };
        if (key.includes('p1') && n === 2) return { status: 0, hang: true };
        if (key.includes('p3')) return { status: 400, body: JSON.stringify({ error: { message: 'bad prompt' } }) };
        return null;
      },
    });
    const { store } = await tempStore();
    const out = await runGenerate(
      { problems: [problem('p1'), problem('p2'), problem('p3')], nodes: [] },
      cfgFor(fake.url, { k: 1, modes: ['free'], timeout_ms: 200 }),
      { store },
    );
    expect(out.paths.map((p) => p.path_id)).toEqual(['p1/free/0', 'p2/free/0']);
    expect(out.rejects.map((r) => [r.item, r.code])).toEqual([['p3/free/0', 'http_400']]);
    expect(out.rejects[0]!.message).toMatch(/^path p3\/free\/0: request failed after retries: 400/);
    expect(out.stats).toMatchObject({
      retries: 2,
      errors: 3,
      by_status: { http_503: 1, timeout: 1, http_400: 1, 200: 2 },
    });
    store.close();
  });

  it('on 429 honours Retry-After by cooling the whole queue down, without spending retries', async () => {
    let first = true;
    const sentAt: number[] = [];
    fake = await startFake({
      fault: () => {
        sentAt.push(Date.now());
        if (first) {
          first = false;
          return { status: 429, headers: { 'retry-after-ms': '300' } };
        }
        return null;
      },
    });
    const { store } = await tempStore();
    const out = await runGenerate(
      { problems: [problem('p1')], nodes: [] },
      cfgFor(fake.url, { k: 1, modes: ['free'], max_retries: 0 }),
      { store },
    );
    expect(out.paths).toHaveLength(1);
    expect(out.stats).toMatchObject({ retries: 0, rate_limited: 1 });
    expect(sentAt[1]! - sentAt[0]!).toBeGreaterThanOrEqual(290);
    store.close();
  });

  it('stops cleanly before max_budget is exceeded and reports the cost', async () => {
    fake = await startFake();
    const { store } = await tempStore();
    // Each request reserves its worst case, 1000 output tokens at $1/Mtok = $0.001, and really spends
    // ~15 tokens; with $0.00104 a request goes out only while less than $0.00004 is spent.
    const cfg = cfgFor(fake.url, {
      k: 1,
      modes: ['free'],
      max_tokens: 1000,
      concurrency: 1,
      max_budget: 0.00104,
      prices: { 'fake-model': { input_per_mtok: 0, output_per_mtok: 1 } },
    });
    const out = await runGenerate({ problems: ['a', 'b', 'c', 'd', 'e'].map((id) => problem(id)), nodes: [] }, cfg, {
      store,
    });
    expect(out.stats.stopped_by_budget).toBe(true);
    expect(out.paths.length).toBeGreaterThanOrEqual(1);
    expect(out.paths.length).toBeLessThan(5);
    expect(out.paths.length + out.stats.skipped).toBe(5);
    expect(out.rejects).toEqual([]);
    expect(out.stats.cost_usd + 0.001).toBeLessThanOrEqual(0.00104 + 0.00004);
    expect(out.stats.cost_usd).toBeCloseTo(out.stats.tokens_out / 1e6, 12);
    store.close();
  });

  it('an abort keeps the finished paths, sends nothing after, and a resume completes the rest', async () => {
    fake = await startFake({ latencyMs: 5 });
    const { store } = await tempStore();
    const ac = new AbortController();
    const problems = Array.from({ length: 40 }, (_, i) => problem(`p${i}`));
    const cfg = cfgFor(fake.url, { k: 1, modes: ['free'], concurrency: 2 });
    const out = await runGenerate({ problems, nodes: [] }, cfg, {
      store,
      signal: ac.signal,
      progress: {
        update: (c) => {
          if (c.done >= 10) ac.abort();
        },
        finish: () => {},
      },
    });
    expect(out.stats.stopped_by_signal).toBe(true);
    expect(out.paths.length).toBeGreaterThanOrEqual(10);
    expect(out.paths.length).toBeLessThan(40);
    expect(out.rejects).toEqual([]);
    const before = fake.requests.length;
    const full = await runGenerate({ problems, nodes: [] }, cfg, { store });
    expect(full.paths).toHaveLength(40);
    expect(full.stats.cache_hits).toBe(out.paths.length);
    expect(fake.requests.length - before).toBe(40 - out.paths.length);
    for (const p of out.paths) expect(full.paths.find((q) => q.path_id === p.path_id)).toEqual(p);
    store.close();
  });
});
