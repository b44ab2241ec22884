/**
 * @module pipeline/engine/queue/client-limiter
 * The model client's limiter in queue mode. The client calls the same methods as on the local
 * `Limiter` (`run`, `settle`, `cooldown`, `observe`, `close`); here admission goes through the
 * process's shared `AdmissionCore` (limits in Redis), and the run's budget is held before each request.
 */
import { Limiter } from '../../io/client/limits.ts';
import type { AdmissionCore } from './limiter.ts';

/** What the limiter asks of the run's budget around each request (see `RedisBudget`). */
export interface BudgetGate {
  /** Holds the worst-case cost of a request of `tokens` (0 when the budget cannot cover it). */
  hold(tokens: number): Promise<number>;
  /** The hold the next reservation (made synchronously by the request) draws from. */
  arm(hold: number): void;
  /** Releases the armed hold if the request did not draw on it. */
  disarm(): void;
}

/**
 * Admission through the shared core, then the budget's hold; `settle`, `cooldown` and `observe` (which
 * calls `cooldown`) reach Redis, so a 429 seen by one worker pauses them all.
 */
export class RedisLimiter extends Limiter {
  constructor(
    private readonly core: AdmissionCore,
    private readonly budget: BudgetGate | null,
  ) {
    super({ concurrency: 1, rpm: null, tpm: null });
  }

  override async run<T>(estTokens: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const slot = await this.core.admit(estTokens, signal);
    try {
      const hold = this.budget && slot ? await this.budget.hold(estTokens) : 0;
      // Synchronous from here to the request's reservation: the armed hold is the one it draws from.
      this.budget?.arm(hold);
      const p = fn();
      this.budget?.disarm();
      return await p;
    } finally {
      if (slot) this.core.release(slot);
    }
  }

  override settle(estTokens: number, actualTokens: number): void {
    this.core.adjustTokens(estTokens - actualTokens);
  }

  override cooldown(ms: number): void {
    this.cooldowns++;
    this.core.cooldown(ms);
  }

  /** The core is shared by every job of the process; the worker disposes of it when it stops. */
  override close(): void {}
}
