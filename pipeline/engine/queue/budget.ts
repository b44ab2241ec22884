/**
 * @module pipeline/engine/queue/budget
 * The run's budget for the sum of all workers. Redis holds the limit and what has been granted; each
 * worker leases a share and reserves each request's worst-case cost against its lease, synchronously,
 * as the model client expects. The limiter tops the lease up (one atomic Lua call) before a request
 * goes out, so a reservation never waits on the network; what a worker leaves unused goes back.
 * Amounts in Redis are whole nano-USD. The budget is never exceeded: a request whose worst case the
 * remaining budget cannot cover stops its worker, as the local budget does; peers stop as they reach it.
 */
import type { Redis } from 'ioredis';
import { Accounting } from '../../io/client/accounting.ts';
import type { Usage } from '../../io/client/accounting.ts';
import { KEY_TTL_S, keys, script } from './connection.ts';
import type { BudgetGate } from './client-limiter.ts';

const NANO = 1e9;
const nano = (usd: number) => Math.ceil(usd * NANO - 1e-6);

// KEYS: budget. ARGV: want, least (nano-USD): grants up to `want`, and nothing when `least` is not left.
const LEASE = `local lim = tonumber(redis.call('HGET', KEYS[1], 'limit') or '0')
local avail = lim - tonumber(redis.call('HGET', KEYS[1], 'granted') or '0')
if avail < tonumber(ARGV[2]) then return 0 end
local give = math.min(tonumber(ARGV[1]), avail)
redis.call('HINCRBY', KEYS[1], 'granted', give)
return give`;

/** Registers a run's budget in Redis (the coordinator at start; workers too, in case it expired). Idempotent. */
export async function initBudget(redis: Redis, runId: string, limitUsd: number): Promise<void> {
  const key = keys.budget(runId);
  await redis.hsetnx(key, 'limit', String(Math.floor(limitUsd * NANO)));
  await redis.hsetnx(key, 'granted', '0');
  await redis.expire(key, KEY_TTL_S);
}

/** What a run's budget has granted so far, in USD (for tests and the log). */
export async function budgetState(redis: Redis, runId: string): Promise<{ limit: number; granted: number }> {
  const h = await redis.hgetall(keys.budget(runId));
  return { limit: Number(h.limit ?? 0) / NANO, granted: Number(h.granted ?? 0) / NANO };
}

/** One worker's view of a run's shared budget: the parent `Accounting` of every client of that run in this process. */
export class RedisBudget extends Accounting implements BudgetGate {
  /** Nano-USD leased from Redis and not given back. */
  private leased = 0;
  /** Nano-USD of the lease spent, reserved or held. */
  private used = 0;
  private armed = 0;
  private topping: Promise<void> | null = null;
  private readonly lease: (...a: (string | number)[]) => Promise<unknown>;
  private readonly chunk: number;
  private readonly perToken: number;

  /** `prices` are USD per million tokens; the dearest one prices a request's worst case. */
  constructor(
    private readonly redis: Redis,
    private readonly runId: string,
    limitUsd: number,
    prices: readonly { input_per_mtok: number; output_per_mtok: number }[],
  ) {
    super(null, null);
    this.lease = script(redis, 'tpLease', 1, LEASE);
    this.chunk = Math.max(1, nano(limitUsd / 64));
    this.perToken = Math.max(0, ...prices.flatMap((p) => [p.input_per_mtok, p.output_per_mtok])) / 1e6;
  }

  /** Holds the worst-case cost of `tokens` in the lease, leasing more first; 0 when the budget cannot cover it. */
  async hold(tokens: number): Promise<number> {
    const need = nano(tokens * this.perToken);
    if (need === 0 || this.stopped_by_budget) return 0;
    while (this.leased - this.used < need) {
      const before = this.leased;
      this.topping ??= this.topUp(need - (this.leased - this.used)).finally(() => (this.topping = null));
      await this.topping;
      if (this.leased === before && this.leased - this.used < need) return 0;
    }
    this.used += need;
    return need;
  }

  arm(hold: number): void {
    this.armed = hold;
  }

  disarm(): void {
    this.used -= this.armed;
    this.armed = 0;
  }

  /** Gives the unused part of the lease back to Redis (a job ended; nothing reserved is given back). */
  async release(): Promise<void> {
    const free = this.leased - this.used - this.armed;
    if (free <= 0) return;
    this.leased -= free;
    await this.redis.hincrby(keys.budget(this.runId), 'granted', -free);
  }

  private async topUp(short: number): Promise<void> {
    const give = Number(await this.lease(keys.budget(this.runId), Math.max(short, this.chunk), short));
    this.leased += give;
  }

  protected override reserveUsd(usd: number): boolean {
    const n = nano(usd);
    // The request draws on the hold the limiter armed for it; a reservation beyond the lease stops this worker.
    this.used -= this.armed;
    this.armed = 0;
    if (this.stopped_by_budget || this.used + n > this.leased) {
      this.stopped_by_budget = true;
      return false;
    }
    this.used += n;
    return super.reserveUsd(usd);
  }

  protected override book(reservation: number, used: Usage, usd: number): void {
    this.used += nano(usd) - nano(reservation);
    super.book(reservation, used, usd);
  }
}
