/**
 * The model client against a local server: draining (requests in flight finish and are cached,
 * nothing new starts) against aborting (in-flight requests cancelled), a 429 whose Retry-After
 * is already past, a server that restarts, the simulator's fingerprint, and limiters and budgets
 * shared by two clients.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFake, defaultReply, type Fake, type FakeRequest } from '../../../generate/fake.ts';
import { tempStore } from '../../../generate/helpers.ts';
import { openModel } from '../../../../pipeline/io/client/open.ts';
import { Limiter } from '../../../../pipeline/io/client/limits.ts';
import { Accounting } from '../../../../pipeline/io/client/accounting.ts';
import { defaultGenerateConfig, type GenerateConfig } from '../../../../pipeline/io/client/config.ts';
import type { SampleRequest } from '../../../../stages/lib/ports.ts';

let fake: Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const req: SampleRequest = {
  messages: [{ role: 'user', content: 'What is 1 + 2?' }],
  max_tokens: 50,
  json_schema: null,
};
const gen = (over: Partial<GenerateConfig> = {}): GenerateConfig => ({
  ...defaultGenerateConfig,
  use_n: false,
  seed: 1,
  timeout_ms: 30_000,
  max_retries: 3,
  ...over,
});
const model = (url: string) => ({ base_url: url, model: 'fake-model' });
const six = [0, 1, 2, 3, 4, 5];

/** Resolves once `pred` holds (polled every 5 ms). */
async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 5));
}

/** Starts `server` on 127.0.0.1 at `port` (0: any free one). */
const listen = (server: Server, port: number) =>
  new Promise<Server>((ok) => server.listen(port, '127.0.0.1', () => ok(server)));

/** A chat completion body as a server sends it, with `extra` fields. */
const completion = (r: FakeRequest, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: r.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: defaultReply(r, 0).content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    ...extra,
  });

describe('ModelClient: drain and abort', () => {
  it('after drain, requests in flight finish and are cached, queued samples stop without a request', async () => {
    fake = await startFake({ latencyMs: 300 });
    const { store } = await tempStore();
    const drain = new AbortController();
    const m = await openModel(store, model(fake.url), gen({ concurrency: 2 }), { drain: drain.signal, env: {} });
    const pending = m.port.sample(req, six);
    await until(() => fake!.requests.length === 2);
    expect(m.port.stopped()).toBeNull();
    drain.abort();
    expect(m.port.stopped()).toBe('signal');
    const out = await pending;
    expect(out.map((o) => (o.ok ? 'ok' : o.stopped))).toEqual(['ok', 'ok', 'abort', 'abort', 'abort', 'abort']);
    expect(fake.requests).toHaveLength(2);
    await m.close(); // flushes the cache
    expect(m.port.counters()).toMatchObject({ requests: 2, errors: 0, cache_writes: 2 });

    // The two finished replies were kept: a new client on the same store sends only the other four.
    const again = await openModel(store, model(fake.url), gen({ concurrency: 2 }), { env: {} });
    const full = await again.port.sample(req, six);
    expect(full.map((o) => o.ok && o.cached)).toEqual([true, true, false, false, false, false]);
    expect(fake.requests).toHaveLength(6);
    await again.close();
    store.close();
  });

  it('an n request in flight at drain finishes and caches all its samples', async () => {
    fake = await startFake({ latencyMs: 300 });
    const { store } = await tempStore();
    const drain = new AbortController();
    const m = await openModel(store, model(fake.url), gen({ use_n: true }), { drain: drain.signal, env: {} });
    const pending = m.port.sample(req, six);
    await until(() => fake!.requests.length === 1);
    drain.abort();
    expect((await pending).every((o) => o.ok)).toBe(true);
    await m.close();
    expect(fake.requests.map((r) => r.body.n)).toEqual([6]);
    expect(m.port.counters()).toMatchObject({ requests: 1, cache_writes: 6 });
    store.close();
  });

  it('abort cancels requests in flight at once and caches nothing', async () => {
    fake = await startFake({ latencyMs: 20_000 });
    const { store } = await tempStore();
    const ac = new AbortController();
    const m = await openModel(store, model(fake.url), gen({ concurrency: 2 }), { signal: ac.signal, env: {} });
    const pending = m.port.sample(req, six);
    await until(() => fake!.requests.length === 2);
    ac.abort();
    const out = await pending; // would take 20 s (past this test's timeout) if the two in flight were awaited
    expect(out.map((o) => (o.ok ? 'ok' : o.stopped))).toEqual(six.map(() => 'abort'));
    expect(m.port.stopped()).toBe('signal');
    await m.close();
    expect(m.port.counters()).toMatchObject({ requests: 2, cache_writes: 0 });
    store.close();
  }, 10_000);

  it('a drain while a request waits to be retried (after a 503, or a 429 cooldown) sends nothing more', async () => {
    let drain = new AbortController();
    fake = await startFake({
      fault: (r) => {
        drain.abort();
        return JSON.stringify(r.body.messages).includes('503')
          ? { status: 503 }
          : { status: 429, headers: { 'retry-after': '60' } };
      },
    });
    const { store } = await tempStore();
    for (const code of ['503', '429']) {
      drain = new AbortController();
      const before = fake.requests.length;
      const m = await openModel(store, model(fake.url), gen({ max_retries: 5 }), { drain: drain.signal, env: {} });
      const [o] = await m.port.sample({ ...req, messages: [{ role: 'user', content: `fail with ${code}` }] }, [0]);
      expect(o, code).toMatchObject({ ok: false, stopped: 'abort' });
      expect(fake.requests.length - before, code).toBe(1);
      await m.close();
    }
    store.close();
  }, 10_000);
});

describe('ModelClient: rate limits, the simulator, shared limits', () => {
  it('a 429 whose Retry-After date is already past backs off instead of retrying at once', async () => {
    const at: number[] = [];
    fake = await startFake({
      fault: () => {
        at.push(Date.now());
        return at.length <= 2
          ? { status: 429, headers: { 'retry-after': new Date(Date.now() - 2000).toUTCString() } }
          : null;
      },
    });
    const { store } = await tempStore();
    const m = await openModel(store, model(fake.url), gen(), { env: {} });
    const [o] = await m.port.sample(req, [0]);
    expect(o!.ok).toBe(true);
    expect(m.port.counters()).toMatchObject({ requests: 3, rate_limited: 2, retries: 0 });
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(95);
    await m.close();
    store.close();
  });

  it('rides out a server restart (connections refused for a second) without spending retries', async () => {
    // Take a free port, then leave it closed for a second, as a model server reloading its weights.
    const probe = await listen(createServer(), 0);
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    let served = 0;
    const server = createServer((q, res) => {
      q.resume();
      q.on('end', () => {
        served++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion({ body: { model: 'fake-model', messages: [] }, headers: {} }));
      });
    });
    const restart = new Promise<Server>((ok) => setTimeout(() => ok(listen(server, port)), 1000));
    const { store } = await tempStore();
    const m = await openModel(store, model(`http://127.0.0.1:${port}/v1`), gen({ max_retries: 1 }), { env: {} });
    const out = await m.port.sample(req, [0, 1, 2]);
    expect(out.map((o) => o.ok)).toEqual([true, true, true]);
    const c = m.port.counters();
    expect(c).toMatchObject({ retries: 0, rate_limited: 0 });
    expect(c.by_status.connection).toBeGreaterThanOrEqual(3);
    expect(served).toBe(3);
    await m.close();
    store.close();
    await restart;
    await new Promise((r) => server.close(r));
  }, 20_000);

  it('notes replies from the bundled simulator by their system_fingerprint', async () => {
    let fingerprint = 'fp_0123abcd';
    fake = await startFake({
      fault: (r) => ({ status: 200, body: completion(r, { system_fingerprint: fingerprint }) }),
    });
    const { store } = await tempStore();
    const m = await openModel(store, model(fake.url), gen(), { env: {} });
    await m.port.sample(req, [0]);
    expect(m.port.counters().simulated).toBe(false);
    fingerprint = 'tracepipe-simulator';
    await m.port.sample(req, [1]);
    expect(m.port.counters().simulated).toBe(true);
    await m.close();
    store.close();
  });

  it('two clients sharing a limiter never have more requests in flight than its concurrency', async () => {
    let replied = 0;
    let maxInFlight = 0;
    fake = await startFake({
      latencyMs: 30,
      fault: () => {
        // In flight only falls when a reply goes out, so its peak is seen just before one.
        maxInFlight = Math.max(maxInFlight, fake!.requests.length - replied);
        replied++;
        return null;
      },
    });
    const { store } = await tempStore();
    const limiter = new Limiter({ concurrency: 3, rpm: null, tpm: null });
    const a = await openModel(store, model(fake.url), gen({ concurrency: 8, seed: 1 }), { limiter, env: {} });
    const b = await openModel(store, model(fake.url), gen({ concurrency: 8, seed: 100 }), { limiter, env: {} });
    const idx = Array.from({ length: 12 }, (_, i) => i);
    const [ra, rb] = await Promise.all([a.port.sample(req, idx), b.port.sample(req, idx)]);
    expect([...ra, ...rb].every((o) => o.ok)).toBe(true);
    expect(fake.requests).toHaveLength(24);
    expect(maxInFlight).toBe(3);
    await a.close();
    await b.close();
    store.close();
  });

  it('two clients sharing a budget stop together: the second sends nothing once the first hit it', async () => {
    fake = await startFake();
    const { store } = await tempStore();
    // Each request reserves its worst case, 1000 output tokens at $1/Mtok = $0.001: two never fit in $0.0015.
    const priced = gen({
      concurrency: 2,
      max_tokens: 1000,
      prices: { 'fake-model': { input_per_mtok: 0, output_per_mtok: 1 } },
    });
    const budget = new Accounting(null, 0.0015);
    const a = await openModel(store, model(fake.url), priced, { budget, env: {} });
    const b = await openModel(store, model(fake.url), { ...priced, seed: 9 }, { budget, env: {} });
    const big = { ...req, max_tokens: 1000 };
    const ra = await a.port.sample(big, [0, 1]);
    expect(ra.map((o) => (o.ok ? 'ok' : o.stopped))).toEqual(['ok', 'budget']);
    expect(a.port.stopped()).toBe('budget');
    expect(b.port.stopped()).toBe('budget');
    const rb = await b.port.sample(big, [0]);
    expect(rb).toMatchObject([{ ok: false, stopped: 'budget' }]);
    expect(fake.requests).toHaveLength(1);
    expect(budget.spent).toBeCloseTo(a.port.counters().cost_usd, 12);
    await a.close();
    await b.close();
    store.close();
  });
});
