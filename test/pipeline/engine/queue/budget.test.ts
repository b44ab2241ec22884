/**
 * The shared budget: three workers spending on one run's budget in Redis, each request reserved at
 * its worst case as the model client does it (hold, reserve, settle), never spend more than the
 * budget together, use nearly all of it, and leave nothing leased once they give back what is unused.
 */
import { expect, it } from 'vitest';
import { Accounting } from '../../../../pipeline/io/client/accounting.ts';
import { budgetState, initBudget, RedisBudget } from '../../../../pipeline/engine/queue/budget.ts';
import { describeRedis, useRedis } from './helpers.ts';

const price = { input_per_mtok: 2, output_per_mtok: 10 };

describeRedis('Redis budget', () => {
  const redis = useRedis();

  /** One worker's loop: requests of 1,000 tokens in and up to 1,000 out ($0.012 worst case, $0.003 used) until stopped. */
  async function spend(b: RedisBudget): Promise<number> {
    const client = new Accounting(price, null, b);
    let sent = 0;
    for (;;) {
      const hold = await b.hold(2000);
      b.arm(hold);
      const r = client.reserve(1000, 1000);
      b.disarm();
      if (r === null) return sent;
      sent++;
      await new Promise((res) => setTimeout(res, Math.random() * 5));
      client.settle(r, { tokens_in: 1000, tokens_out: 100 });
    }
  }

  it('three workers never pass the budget together, and use nearly all of it', async () => {
    await initBudget(redis.client(), 'run-1', 0.3);
    const workers = [0, 1, 2].map(() => new RedisBudget(redis.client(), 'run-1', 0.3, [price]));
    const sent = await Promise.all(workers.map(spend));
    const spent = workers.reduce((s, w) => s + w.spent, 0);
    expect(spent).toBeLessThanOrEqual(0.3 + 1e-12);
    // Each request costs $0.003 and needs $0.012 free at worst: at least (0.3 - 3 × 0.012) / 0.003 = 88 go.
    expect(sent.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(88);
    expect(workers.every((w) => w.stopped_by_budget)).toBe(true);
    await Promise.all(workers.map((w) => w.release()));
    const st = await budgetState(redis.client(), 'run-1');
    expect(st.granted).toBeCloseTo(spent, 6);
    expect(st.limit).toBeCloseTo(0.3, 9);
  });

  it('a worker without a hold reserves against its lease only, and a later run has a budget of its own', async () => {
    await initBudget(redis.client(), 'run-2', 0.05);
    await initBudget(redis.client(), 'run-2', 99); // registering again changes nothing
    const b = new RedisBudget(redis.client(), 'run-2', 0.05, [price]);
    const client = new Accounting(price, null, b);
    // Nothing leased yet: a reservation without the limiter's hold is refused, and stops this worker.
    expect(client.reserve(1000, 1000)).toBeNull();
    expect(b.stopped_by_budget).toBe(true);
    await initBudget(redis.client(), 'run-3', 0.05);
    expect(await spend(new RedisBudget(redis.client(), 'run-3', 0.05, [price]))).toBeGreaterThanOrEqual(13);
    expect((await budgetState(redis.client(), 'run-2')).limit).toBeCloseTo(0.05, 9);
  });
});
