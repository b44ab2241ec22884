/**
 * @module pipeline/io/client/limits
 * Admission control for model requests: an in-flight cap (p-queue), requests-per-minute and
 * tokens-per-minute buckets, the server's x-ratelimit-* headers, and a queue-wide cooldown
 * after a 429 so the whole queue waits instead of every request spending its retries. Every wait
 * is a timer owned by a request that waits, so a cooldown keeps the process alive exactly while
 * work waits on it, and an idle limiter holds nothing.
 */
import PQueue from 'p-queue';
import { parseDuration, sleep } from './retry.ts';

/** A continuous token bucket; `take` may go negative for a request larger than the bucket. */
class Bucket {
  private level: number;
  private last = Date.now();
  constructor(
    private readonly perMinute: number,
    private readonly capacity: number,
  ) {
    this.level = capacity;
  }

  private refill(): void {
    const now = Date.now();
    this.level = Math.min(this.capacity, this.level + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }

  /** Ms until `n` can be taken (0 = now). A request larger than the bucket waits for a full bucket. */
  wait(n: number): number {
    this.refill();
    const need = Math.min(n, this.capacity);
    return this.level >= need ? 0 : Math.ceil(((need - this.level) * 60_000) / this.perMinute);
  }

  take(n: number): void {
    this.refill();
    this.level -= n;
  }
  /** Gives back (or, negative, charges) the difference between an estimate and the actual use. */
  adjust(n: number): void {
    this.refill();
    this.level = Math.min(this.capacity, this.level + n);
  }
}

export interface LimitsOptions {
  concurrency: number;
  rpm: number | null;
  tpm: number | null;
}

export class Limiter {
  readonly queue: PQueue;
  private readonly rpm: Bucket | null;
  private readonly tpm: Bucket | null;
  private cooldownUntil = 0;
  cooldowns = 0;

  constructor(opts: LimitsOptions) {
    this.queue = new PQueue({ concurrency: Math.max(1, opts.concurrency) });
    // Buckets hold five seconds of budget, so a fresh run does not burst a whole minute at once.
    this.rpm = opts.rpm ? new Bucket(opts.rpm, Math.max(1, opts.rpm / 12)) : null;
    this.tpm = opts.tpm ? new Bucket(opts.tpm, Math.max(1, opts.tpm / 12)) : null;
  }

  /**
   * Runs `fn` inside the in-flight cap once the cooldown is over and the rpm/tpm budget allows
   * `estTokens`; when `signal` fires while it waits, `fn` runs at once (it sees the signal and stops).
   */
  async run<T>(estTokens: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.queue.add(async () => {
      await this.admit(estTokens, signal);
      return fn();
    }) as Promise<T>;
  }

  /**
   * Waits (one timer per waiting request, re-armed only when the cooldown moved) until the request
   * may start. The queue is never paused: a paused p-queue holds its tasks with no timer, and a
   * process whose every request waits on a cooldown would exit with them unsettled.
   */
  private async admit(estTokens: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      const wait = Math.max(this.cooldownUntil - Date.now(), this.rpm?.wait(1) ?? 0, this.tpm?.wait(estTokens) ?? 0);
      if (wait <= 0) break;
      await sleep(wait, signal);
    }
    this.rpm?.take(1);
    this.tpm?.take(estTokens);
  }

  /** Corrects the tokens-per-minute bucket once `usage` says what a request really cost. */
  settle(estTokens: number, actualTokens: number): void {
    this.tpm?.adjust(estTokens - actualTokens);
  }

  /** Holds every request not yet started for `ms` (after a 429 or an exhausted x-ratelimit budget). */
  cooldown(ms: number): void {
    const until = Date.now() + ms;
    if (!(ms > 0) || until <= this.cooldownUntil) return;
    this.cooldowns++;
    this.cooldownUntil = until;
  }

  /** Reads x-ratelimit-remaining-{requests,tokens} and cools down until the matching reset when spent. */
  observe(headers: Headers, nextEstTokens: number): void {
    const remReq = count(headers.get('x-ratelimit-remaining-requests'));
    if (remReq !== null && remReq <= 0) this.cooldown(parseDuration(headers.get('x-ratelimit-reset-requests')) ?? 1000);
    const remTok = count(headers.get('x-ratelimit-remaining-tokens'));
    if (remTok !== null && remTok < nextEstTokens)
      this.cooldown(parseDuration(headers.get('x-ratelimit-reset-tokens')) ?? 1000);
  }

  /** Ends the cooldown, so nothing queued waits on it any longer. */
  close(): void {
    this.cooldownUntil = 0;
  }
}

/** A header's count, or null when absent or not a number (an empty or garbled header is no "0 left"). */
function count(v: string | null): number | null {
  if (v === null || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
