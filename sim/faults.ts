/** @module sim/faults  The simulator's injected faults: which one a request gets, and how a reply is broken. */
import type { Rng } from './rng.ts';

export interface FaultRates {
  /** Share of requests answered 429 with Retry-After. */
  rate429: number;
  /** Share of requests answered 500, 502 or 503 after the latency. */
  rate5xx: number;
  /** Share of requests never answered; the socket is destroyed after `hangMs`. */
  rateHang: number;
  /** Share of choices whose content is broken (invalid JSON for guided, no final answer for free). */
  rateMalformed: number;
  /** Share of choices cut short with `finish_reason: "length"`. */
  rateTruncated: number;
}

export const NO_FAULTS: FaultRates = { rate429: 0, rate5xx: 0, rateHang: 0, rateMalformed: 0, rateTruncated: 0 };

export type RequestFault = 'none' | '429' | '5xx' | 'hang';
export type ChoiceFault = 'none' | 'malformed' | 'truncated';

/** Picks a request's fault from one uniform draw, so each rate is honoured exactly in expectation. */
export function requestFault(f: FaultRates, u: number): RequestFault {
  if (u < f.rate429) return '429';
  if (u < f.rate429 + f.rate5xx) return '5xx';
  if (u < f.rate429 + f.rate5xx + f.rateHang) return 'hang';
  return 'none';
}

/** Picks a choice's fault from one uniform draw. */
export function choiceFault(f: FaultRates, u: number): ChoiceFault {
  if (u < f.rateMalformed) return 'malformed';
  if (u < f.rateMalformed + f.rateTruncated) return 'truncated';
  return 'none';
}

/** Breaks a reply the way models do: prose around JSON, a trailing comma, single quotes; a free reply loses its final line. */
export function malform(content: string, guided: boolean, r: Rng): string {
  if (!guided) {
    const lines = content.split('\n').filter((l) => !/^final answer/i.test(l));
    return (
      lines.map((l) => l.replace(/^Step \d+:\s*/, '')).join(' ') + ' I think that is the answer, but I am not sure'
    );
  }
  const k = r.int(0, 2);
  if (k === 0) return `Sure! Here is my solution:\n${content}\nLet me know if you need more detail.`;
  if (k === 1) return `${content.slice(0, -1)},}`;
  return content.replace(/"(\w+)":/g, "'$1':");
}

/** Cuts a reply to 30-80% of its length, as when the token limit is reached. */
export function truncate(content: string, r: Rng): string {
  return content.slice(0, Math.max(1, Math.floor(content.length * (0.3 + 0.5 * r.next()))));
}
