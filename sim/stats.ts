/**
 * @module sim/stats
 * The SIMULATOR's own counts: outcomes per request, prompt kinds, the most requests accepted in
 * any 60 s and 1 s window, and prompt tokens shared with an earlier prompt of the same problem
 * (what a server's prefix cache would reuse). Served live at GET /v1/sim/stats and printed on stop.
 */
import { PROMPT_KINDS, type PromptKind } from './request.ts';

/** `429` is an injected fault; `over_capacity` and `over_rpm` are the simulator's own limits. */
export const OUTCOMES = [
  'ok',
  'malformed',
  'truncated',
  '429',
  'over_capacity',
  'over_rpm',
  '5xx',
  'hang',
  'refused_n',
  'bad_request',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface SimStats {
  /** HTTP requests of any kind (the stats endpoint excluded). */
  requests: number;
  /** Per request; `malformed` / `truncated` when at least one choice was. */
  outcomes: Record<Outcome, number>;
  /** Choices returned and how many of them were broken. */
  choices: { total: number; malformed: number; truncated: number };
  /** Requests answered 200, per prompt kind; `random` counts those (of any kind) answered at random. */
  prompts: Record<PromptKind | 'random', number>;
  inFlight: number;
  maxInFlight: number;
  /** The `rpm` limit, or null without one. */
  rpmLimit: number | null;
  /** Most chat requests accepted (past the rpm limit) in any 60 s window, and in any 1 s window. */
  maxRpmSeen: number;
  maxRpsSeen: number;
  /** Most chat requests that arrived in any 60 s window, accepted or not. */
  maxRpmOffered: number;
  /** Prompt tokens of the requests answered 200 (characters / 4, as in `usage`). */
  promptTokens: number;
  /** Of those, tokens in the longest common prefix with an earlier prompt of the same problem. */
  promptTokensShared: number;
}

/** Fresh, zeroed counts. */
export function emptyStats(rpmLimit: number | null): SimStats {
  return {
    requests: 0,
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    choices: { total: 0, malformed: 0, truncated: 0 },
    prompts: Object.fromEntries([...PROMPT_KINDS, 'random'].map((k) => [k, 0])) as SimStats['prompts'],
    inFlight: 0,
    maxInFlight: 0,
    rpmLimit,
    maxRpmSeen: 0,
    maxRpsSeen: 0,
    maxRpmOffered: 0,
    promptTokens: 0,
    promptTokensShared: 0,
  };
}

/** A deep copy. */
export const copyStats = (s: SimStats): SimStats => ({
  ...s,
  outcomes: { ...s.outcomes },
  choices: { ...s.choices },
  prompts: { ...s.prompts },
});

/** The stats as the endpoint and the stop line print them (snake_case, labelled a simulation). */
export function statsJson(s: SimStats) {
  return {
    simulation: 'SIMULATION: counts of the tracepipe model simulator, not of a model server',
    requests: s.requests,
    outcomes: s.outcomes,
    choices: s.choices,
    prompts: s.prompts,
    in_flight: s.inFlight,
    max_in_flight: s.maxInFlight,
    rpm_limit: s.rpmLimit,
    max_rpm_seen: s.maxRpmSeen,
    max_rps_seen: s.maxRpsSeen,
    max_rpm_offered: s.maxRpmOffered,
    prompt_tokens: s.promptTokens,
    prompt_tokens_shared: s.promptTokensShared,
  };
}

/** Events in a sliding window of `spanMs`; memory is bounded by the events inside one window. */
export class SlidingWindow {
  private times: number[] = [];
  private head = 0;
  /** The largest count seen right after an `add`: the most events in any window. */
  max = 0;
  private readonly spanMs: number;
  constructor(spanMs: number) {
    this.spanMs = spanMs;
  }

  /** Events in the window ending at `now`. */
  count(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - this.spanMs) this.head++;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  /** Records an event at `now` and returns the count of the window ending there. */
  add(now: number): number {
    const c = this.count(now) + 1;
    this.times.push(now);
    if (c > this.max) this.max = c;
    return c;
  }

  /** Milliseconds from `now` until the oldest event in the window leaves it. */
  msUntilFree(now: number): number {
    this.count(now);
    const oldest = this.times[this.head];
    return oldest === undefined ? 0 : Math.max(1, oldest + this.spanMs - now);
  }
}

/**
 * Characters each prompt shares with the earlier prompts of its problem: the longest common
 * prefix against each of up to `keep` distinct earlier prompts per problem (the first ones kept,
 * which are the originals that continuations and re-asks extend). Memory: `keep` prompts a problem.
 */
export class PrefixShare {
  private readonly seen = new Map<string, string[]>();
  private readonly keep: number;
  constructor(keep = 32) {
    this.keep = keep;
  }

  /** Records `prompt` for `problem` and returns its longest common prefix with an earlier one, in characters. */
  record(problem: string, prompt: string): number {
    const list = this.seen.get(problem) ?? [];
    let best = 0;
    for (const q of list) {
      const lim = Math.min(q.length, prompt.length);
      let i = 0;
      while (i < lim && q.charCodeAt(i) === prompt.charCodeAt(i)) i++;
      if (i > best) best = i;
    }
    if (best < prompt.length && list.length < this.keep) {
      list.push(prompt);
      this.seen.set(problem, list);
    }
    return best;
  }
}
