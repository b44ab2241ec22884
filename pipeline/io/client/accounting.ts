/**
 * @module pipeline/io/client/accounting
 * Token and cost accounting for one stage, and the budget guard: the estimated cost of a
 * request is reserved before it is sent, so concurrent requests can never overshoot the budget.
 */
import type { Price } from './config.ts';

export interface Usage {
  tokens_in: number;
  tokens_out: number;
}

export class Accounting {
  tokens_in = 0;
  tokens_out = 0;
  spent = 0;
  private reserved = 0;
  stopped_by_budget = false;

  /**
   * `parent` is the run's budget when several clients share one: reservations and spending
   * count there too, and the parent's limit stops every child.
   */
  constructor(
    private readonly price: Price | null,
    private readonly budget: number | null,
    private readonly parent: Accounting | null = null,
  ) {}

  /** True once this budget, or the run's budget it counts in, has refused a request: every client sharing it stops. */
  get exhausted(): boolean {
    return this.stopped_by_budget || (this.parent?.exhausted ?? false);
  }

  /** USD cost of a token count at this model's price (0 when the model has no price). */
  cost(tokensIn: number, tokensOut: number): number {
    if (!this.price) return 0;
    return (tokensIn * this.price.input_per_mtok + tokensOut * this.price.output_per_mtok) / 1e6;
  }

  /** Reserves the worst-case cost of a request; null (and the run marked stopped) when it would pass the budget. */
  reserve(estIn: number, maxOut: number): number | null {
    const c = this.cost(estIn, maxOut);
    return this.reserveUsd(c) ? c : null;
  }

  /** Reserves `usd` here and in every parent; false (nothing reserved) when any budget would be passed. */
  protected reserveUsd(usd: number): boolean {
    if (this.stopped_by_budget || this.parent?.stopped_by_budget) {
      this.stopped_by_budget = true;
      return false;
    }
    if (this.budget !== null && this.spent + this.reserved + usd > this.budget) {
      this.stopped_by_budget = true;
      return false;
    }
    if (this.parent && !this.parent.reserveUsd(usd)) {
      this.stopped_by_budget = true;
      return false;
    }
    this.reserved += usd;
    return true;
  }

  /** Releases a reservation and books what the request really used (0 tokens when it failed). */
  settle(reservation: number, used: Usage): void {
    this.book(reservation, used, this.cost(used.tokens_in, used.tokens_out));
  }

  protected book(reservation: number, used: Usage, usd: number): void {
    this.reserved = Math.max(0, this.reserved - reservation);
    this.tokens_in += used.tokens_in;
    this.tokens_out += used.tokens_out;
    this.spent += usd;
    this.parent?.book(reservation, used, usd);
  }
}

/** Rough token estimate before sending: characters / 4, plus a flat 765 per image (a 512px tile budget). */
export function estimateTokens(messages: readonly object[]): number {
  let chars = 0;
  let images = 0;
  for (const m of messages as readonly { content?: unknown }[]) {
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const part of m.content as { type?: string; text?: string }[]) {
        if (part.type === 'text') chars += part.text?.length ?? 0;
        else images++;
      }
    }
  }
  return Math.ceil(chars / 4) + 765 * images;
}
