/**
 * The Redis limiter, with three "workers" (three admission cores on three connections, as three
 * processes would have): the in-flight cap, the rpm and tpm buckets and a 429's cool-down hold for
 * their sum; a dead worker's slots come back after their TTL, a live one's are renewed; and two model
 * clients on two cores never have more requests at a server than its cap.
 */
import { expect, it } from 'vitest';
import { createServer } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AdmissionCore, bucketOf, type ServerLimits } from '../../../../pipeline/engine/queue/limiter.ts';
import { RedisLimiter } from '../../../../pipeline/engine/queue/client-limiter.ts';
import { ModelClient } from '../../../../pipeline/io/client/model.ts';
import { defaultGenerateConfig } from '../../../../pipeline/io/client/config.ts';
import { ShardCache } from '../../../../pipeline/io/shard-cache.ts';
import { describeRedis, useRedis } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeRedis('Redis limiter', () => {
  const redis = useRedis();
  let server = 0;
  /** Three cores for a fresh server key, one per connection (three processes). */
  const cores = (limits: ServerLimits, n = 3, ttl?: number) => {
    const key = `srv${++server}`;
    return Array.from({ length: n }, (_, i) => new AdmissionCore(redis.client(), key, limits, `w${i}`, ttl));
  };

  it('holds the in-flight cap for the sum of three workers, and reaches it', async () => {
    const cs = cores({ concurrency: 5, rpm: null, tpm: null });
    let now = 0;
    let max = 0;
    await Promise.all(
      cs.flatMap((c) =>
        Array.from({ length: 20 }, async () => {
          const slot = (await c.admit(1))!;
          max = Math.max(max, ++now);
          await sleep(30);
          now--;
          c.release(slot);
        }),
      ),
    );
    expect(max).toBe(5);
    cs.forEach((c) => c.dispose());
  });

  it('holds requests per minute for the sum of three workers: at most the burst plus the rate, and close to it', async () => {
    // 1,200 rpm: 19.67/s sustained, a burst of 10.
    const { ratePerMs, burst } = bucketOf(1200);
    const cs = cores({ concurrency: 0, rpm: 1200, tpm: null });
    const t0 = Date.now();
    const at: number[] = [];
    await Promise.all(
      cs.flatMap((c) =>
        Array.from({ length: 15 }, async () => {
          const slot = (await c.admit(1))!;
          at.push(Date.now() - t0);
          c.release(slot);
        }),
      ),
    );
    at.sort((a, b) => a - b);
    // The k-th admission (1-based) comes no sooner than the bucket allows (with 30 ms for the clocks).
    at.forEach((t, i) =>
      expect(i + 1, `admission ${i + 1} at ${t} ms`).toBeLessThanOrEqual(burst + ratePerMs * (t + 30) + 1),
    );
    // 45 requests: the last within ~1.8 s (35 after the burst at 19.67/s), not three times slower or faster.
    expect(at.at(-1)!).toBeGreaterThan(1500);
    expect(at.at(-1)!).toBeLessThan(2600);
    cs.forEach((c) => c.dispose());
  });

  it('holds tokens per minute for three workers; tokens a request did not use come back', async () => {
    const count = async (giveBack: number) => {
      const cs = cores({ concurrency: 0, rpm: null, tpm: 60_000 }); // 983/s, a burst of 500
      let admitted = 0;
      const stop = Date.now() + 1000;
      await Promise.all(
        cs.map(async (c) => {
          while (Date.now() < stop) {
            const slot = (await c.admit(100))!;
            if (Date.now() < stop) admitted++;
            c.adjustTokens(giveBack);
            c.release(slot);
          }
        }),
      );
      cs.forEach((c) => c.dispose());
      return admitted;
    };
    const plain = await count(0);
    // 500 burst + 983 over a second, 100 tokens each: about 15 (never 3 × 15).
    expect(plain).toBeGreaterThanOrEqual(10);
    expect(plain).toBeLessThanOrEqual(17);
    // Each request gives back 90 of its 100 estimated tokens: about ten times as many go.
    expect(await count(90)).toBeGreaterThan(4 * plain);
  });

  it('a cool-down started by one worker (a 429) holds back the others', async () => {
    const [a, b] = cores({ concurrency: 0, rpm: null, tpm: null }, 2);
    a!.cooldown(700);
    await sleep(20);
    const t0 = Date.now();
    b!.release((await b!.admit(1))!);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    a!.dispose();
    b!.dispose();
  });

  it("frees a dead worker's slots after their TTL, and keeps a live worker's while it renews them", async () => {
    const key = `srv${++server}`;
    const limits = { concurrency: 2, rpm: null, tpm: null };
    const deadConn = redis.client();
    const dead = new AdmissionCore(deadConn, key, limits, 'dead', 900);
    await dead.admit(1);
    await dead.admit(1);
    deadConn.disconnect(); // killed: it neither renews nor releases
    const live = new AdmissionCore(redis.client(), key, limits, 'live', 900);
    let t0 = Date.now();
    const held = (await live.admit(1))!;
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(700);
    expect(waited).toBeLessThan(3000);
    const other = new AdmissionCore(redis.client(), key, { ...limits, concurrency: 1 }, 'other', 900);
    // `live` holds its slot for 2 s, renewing it every 300 ms: `other` (cap 1) waits for the release.
    setTimeout(() => live.release(held), 2000);
    t0 = Date.now();
    other.release((await other.admit(1))!);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1800);
    live.dispose();
    other.dispose();
  });

  it('two model clients on two workers never have more requests at the server than its cap', async () => {
    let active = 0;
    let max = 0;
    const http = createServer((req, res) => {
      req.resume();
      active++;
      max = Math.max(max, active);
      setTimeout(() => {
        active--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
          }),
        );
      }, 40);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`;
    const dir = await mkdtemp(join(tmpdir(), 'tp-lim-'));
    const gen = { ...defaultGenerateConfig, concurrency: 4, use_n: false, seed: 1 };
    const cs = cores({ concurrency: 4, rpm: null, tpm: null }, 2);
    const clients = cs.map(
      (c, i) =>
        new ModelClient({ base_url: url, model: 'm' }, gen, {
          cache: new ShardCache(dir, 's00', `w${i}`),
          limiter: new RedisLimiter(c, null),
          env: {},
        }),
    );
    try {
      const outs = await Promise.all(
        clients.map((m, i) =>
          m.sample({ messages: [{ role: 'user', content: `q${i}` }], max_tokens: 8, json_schema: null }, [
            ...Array(24).keys(),
          ]),
        ),
      );
      expect(outs.flat().every((o) => o.ok)).toBe(true);
      expect(max).toBe(4);
    } finally {
      clients.forEach((m) => m.close());
      cs.forEach((c) => c.dispose());
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});
