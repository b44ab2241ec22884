import { describe, it, expect } from 'vitest';
import { runGenerate } from './helpers.ts';
import { startSimulator } from '../../sim/server.ts';
import { synth } from '../../sim/synth.ts';
import { synthInput } from '../../bench/generation.ts';
import { defaultGenerateConfig } from '../../pipeline/io/client/config.ts';
import { tempStore } from './helpers.ts';

describe('generate against the simulator with 20% injected faults', () => {
  it('lands or rejects (with a reason) every one of 5,120 samples, none twice', async () => {
    const n = 320;
    const sim = await startSimulator({
      seed: 3,
      n,
      latencyMs: 2,
      rate429: 0.04,
      rate5xx: 0.04,
      rateHang: 0.04,
      rateMalformed: 0.04,
      rateTruncated: 0.04,
      hangMs: 2000,
      retryAfterMs: 20,
    });
    const { store } = await tempStore();
    try {
      const input = synthInput(synth({ n, seed: 3 }));
      const cfg = {
        model: { base_url: `${sim.url}/v1`, model: 'sim' },
        generate: {
          ...defaultGenerateConfig,
          k: 8,
          modes: ['ars-guided', 'free'] as ('ars-guided' | 'free')[],
          use_n: false,
          concurrency: 64,
          seed: 11,
          timeout_ms: 300,
          max_retries: 6,
          max_reasks: 2,
        },
        runId: 'faults',
      };
      const out = await runGenerate(input, cfg, { store, env: {} });
      const s = sim.stats();
      console.log(
        JSON.stringify({
          faults: {
            sim_requests: s.requests,
            outcomes: s.outcomes,
            choices: s.choices,
            paths: out.paths.length,
            rejects: out.rejects.length,
            reject_codes: Object.fromEntries(
              [...new Set(out.rejects.map((r) => r.code))].map((c) => [
                c,
                out.rejects.filter((r) => r.code === c).length,
              ]),
            ),
            retries: out.stats.retries,
            reasks: out.stats.reasks,
            truncated: out.stats.truncated,
            rate_limited: out.stats.rate_limited,
            by_status: out.stats.by_status,
            wall_ms: out.stats.wall_ms,
          },
        }),
      );
      const expected = input.problems.flatMap((p) =>
        ['ars-guided', 'free'].flatMap((m) => Array.from({ length: 8 }, (_, i) => `${p.problem_id}/${m}/${i}`)),
      );
      const landed = out.paths.map((p) => p.path_id);
      const rejected = out.rejects.map((r) => r.item);
      expect(new Set(landed).size).toBe(landed.length);
      expect(new Set(rejected).size).toBe(rejected.length);
      expect([...landed, ...rejected].sort()).toEqual([...expected].sort());
      expect(out.stats.skipped).toBe(0);
      for (const r of out.rejects) {
        expect(r.code).toMatch(
          /^(truncated|invalid_json|schema|no_final_answer|http_\d+|timeout|connection|malformed_response)$/,
        );
        expect(r.message.startsWith(`path ${r.item}: `)).toBe(true);
      }
      const nodesOf = new Map<string, number>();
      for (const node of input.nodes) nodesOf.set(node.problem_id, (nodesOf.get(node.problem_id) ?? 0) + 1);
      for (const p of out.paths) {
        if (p.mode === 'ars-guided') expect(p.node_answers).toHaveLength(nodesOf.get(p.problem_id)!);
        expect(p.final_answer).not.toBeNull();
      }
      expect(s.outcomes['429']).toBeGreaterThan(0);
      expect(s.outcomes['5xx']).toBeGreaterThan(0);
      expect(s.outcomes.hang).toBeGreaterThan(0);
      expect(s.choices.malformed).toBeGreaterThan(0);
      expect(s.choices.truncated).toBeGreaterThan(0);
      // Counts that hold however loaded the machine is. The client and server counts differ by
      // timing (a request timed out before the server read it counts only at the client), so:
      // the server saw no request the client did not send and count; each request the client
      // sent ended in exactly one outcome; every path came from its own 200 the server sent; the
      // client met no 429 the server did not send.
      const st = out.stats;
      const byStatus = Object.values(st.by_status).reduce((a, b) => a + b, 0);
      expect(s.requests).toBeLessThanOrEqual(st.requests);
      expect(byStatus).toBe(st.requests);
      expect(st.errors).toBe(st.requests - (st.by_status['200'] ?? 0));
      expect(s.outcomes.ok + s.outcomes.malformed + s.outcomes.truncated).toBeGreaterThanOrEqual(out.paths.length);
      expect(st.rate_limited).toBeLessThanOrEqual(s.outcomes['429'] + s.outcomes.over_capacity);
      // A sample is lost only after 7 failed attempts: even if half of all attempts timed out, 99% land.
      expect(out.paths.length).toBeGreaterThan(0.9 * expected.length);
    } finally {
      store.close();
      await sim.close();
    }
  }, 400_000); // minutes on a loaded 2-core machine (seconds alone); the counts asserted do not depend on it
});
