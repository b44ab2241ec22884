/** @module test/stages/rectify/fake-port  An in-memory ModelPort for rectification tests: replies by a function of the request, and records what it was asked. */
import type { ModelCounters, ModelPort, SampleOutcome, SampleRequest } from '../../../stages/lib/ports.ts';

export interface FakePort extends ModelPort {
  asked: { req: SampleRequest; indices: readonly number[] }[];
}

const zero = (): ModelCounters => ({
  requests: 0,
  cache_hits: 0,
  retries: 0,
  errors: 0,
  rate_limited: 0,
  by_status: {},
  n_refused: false,
  tokens_in: 0,
  tokens_out: 0,
  cost_usd: 0,
  cache_writes: 0,
  simulated: false,
});

/** A port whose sample `i` of a request is `reply(req, i)` (a string is a reply with 100 prompt tokens). */
export function fakePort(
  reply: (req: SampleRequest, i: number) => string | SampleOutcome,
  opts: { stopped?: () => 'budget' | 'signal' | null } = {},
): FakePort {
  const counters = zero();
  const asked: FakePort['asked'] = [];
  return {
    model: 'fake',
    asked,
    async sample(req, indices) {
      asked.push({ req, indices });
      counters.requests++;
      return indices.map((i) => {
        const r = reply(req, i);
        return typeof r === 'string'
          ? { ok: true, content: r, finish_reason: 'stop', tokens_in: 100, tokens_out: 10, cached: false }
          : r;
      });
    },
    redact: (t) => t,
    stopped: () => opts.stopped?.() ?? null,
    counters: () => counters,
  };
}
