/**
 * The simulator's limits and counts: the rpm limit under a burst, the live stats endpoint, and
 * the three kinds of 429 counted apart; the sliding windows and the shared-prefix count below them.
 */
import { describe, it, expect } from 'vitest';
import { freeMessages, guidedMessages, guidedSchema } from '../../stages/lib/prompts.ts';
import { PrefixShare, SlidingWindow } from '../../sim/stats.ts';
import type { Simulator } from '../../sim/server.ts';
import type { SynthProblem } from '../../sim/synth.ts';
import { nodes, simulators } from './helpers.ts';

const start = simulators();
const post = (s: Simulator, p: SynthProblem) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: freeMessages(p.input) }),
  });
const stats = async (s: Simulator) => {
  const res = await fetch(`${s.url}/v1/sim/stats`);
  expect(res.headers.get('x-tracepipe-simulated')).toBe('true');
  return (await res.json()) as Record<string, unknown> & { outcomes: Record<string, number> };
};

describe('simulator, rpm limit', () => {
  it('accepts at most rpm requests in 60 s and answers the rest 429 with the wait until a slot frees', async () => {
    const s = await start({ rpm: 25 });
    const res = await Promise.all(Array.from({ length: 60 }, (_, i) => post(s, s.bank[i % 10]!)));
    const limited = res.filter((r) => r.status === 429);
    expect([res.filter((r) => r.status === 200).length, limited.length]).toEqual([25, 35]);
    for (const r of limited) {
      const ms = Number(r.headers.get('retry-after-ms'));
      expect(ms).toBeGreaterThan(55_000);
      expect(ms).toBeLessThanOrEqual(60_000);
      expect(r.headers.get('retry-after')).toBe(String(Math.ceil(ms / 1000)));
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe('25');
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(
        /SIMULATED: more than 25 requests in 60 s/,
      );
    }
    const st = await stats(s);
    expect(st).toMatchObject({ rpm_limit: 25, max_rpm_seen: 25, max_rpm_offered: 60, requests: 60 });
    expect(st.outcomes).toMatchObject({ ok: 25, over_rpm: 35, '429': 0, over_capacity: 0 });
  });

  it('counts injected 429s, over-capacity 429s and over-rpm 429s apart', async () => {
    const s = await start({
      rpm: 40,
      rate429: 0.3,
      faultSeed: 3,
      maxConcurrency: 2,
      overCapacity: '429',
      latencyMs: 400,
      latencyJitter: 0,
    });
    const res = await Promise.all(Array.from({ length: 50 }, (_, i) => post(s, s.bank[i % 10]!)));
    const o = s.stats().outcomes;
    expect(o.over_rpm).toBe(10);
    expect(o['429']).toBeGreaterThan(3);
    expect(o.over_capacity).toBeGreaterThan(10);
    expect(o.ok).toBe(2);
    expect(o.ok + o['429'] + o.over_capacity + o.over_rpm).toBe(50);
    expect(res.filter((r) => r.status === 429)).toHaveLength(48);
  });
});

describe('simulator, stats endpoint', () => {
  it('serves live counts labelled a simulation, without counting itself', async () => {
    const s = await start({});
    const p = s.bank[0]!;
    const ars = nodes(p);
    await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        messages: guidedMessages(p.input, ars),
        response_format: { type: 'json_schema', json_schema: guidedSchema(ars) },
        n: 4,
      }),
    });
    await post(s, p);
    await post(s, p);
    await fetch(`${s.url}/v1/sim/stats`);
    const st = await stats(s);
    expect(st.simulation).toMatch(/^SIMULATION/);
    expect(st).toMatchObject({
      requests: 3,
      prompts: { guided: 1, free: 2, decompose: 0, extract: 0, continue: 0, random: 0 },
      choices: { total: 6, malformed: 0, truncated: 0 },
      in_flight: 0,
      rpm_limit: null,
      max_rpm_seen: 3,
    });
    expect(st.max_rps_seen).toBeGreaterThanOrEqual(1);
    expect(st.max_rps_seen).toBeLessThanOrEqual(3);
    // the second free prompt repeats the first: all of its tokens are shared; the guided one shares its problem text
    const free = Math.ceil(freeMessages(p.input).reduce((n, m) => n + m.content.length, 0) / 4);
    expect(st.prompt_tokens_shared).toBeGreaterThanOrEqual(free);
    expect(st.prompt_tokens_shared).toBeLessThan(2 * free);
    expect(st.prompt_tokens).toBeGreaterThan(2 * free);
  });
});

describe('SlidingWindow', () => {
  it('counts the events of the last span, keeps the largest count, and says when the oldest leaves', () => {
    const w = new SlidingWindow(1000);
    expect([0, 100, 200, 900].map((t) => w.add(t))).toEqual([1, 2, 3, 4]);
    expect(w.count(1000)).toBe(3); // the event at 0 has left
    expect(w.msUntilFree(1000)).toBe(100);
    expect(w.add(1250)).toBe(2);
    expect(w.count(5000)).toBe(0);
    expect(w.msUntilFree(5000)).toBe(0);
    expect(w.max).toBe(4);
  });

  it('stays right past its compaction', () => {
    const w = new SlidingWindow(10);
    for (let t = 0; t < 20_000; t++) expect(w.add(t)).toBe(Math.min(t + 1, 10));
    expect(w.max).toBe(10);
  });
});

describe('PrefixShare', () => {
  it("gives each prompt's longest common prefix with an earlier prompt of the same problem", () => {
    const s = new PrefixShare(2);
    expect(s.record('a', 'system\nsolve\nuser\nproblem one')).toBe(0);
    expect(s.record('b', 'system\nsolve\nuser\nproblem two')).toBe(0); // another problem
    expect(s.record('a', 'system\nsolve\nuser\nproblem one\nassistant\nstep 1')).toBe(29);
    // only two prompts a problem are kept: this one is compared, not stored ...
    expect(s.record('a', 'system\nsolve\nuser\nproblem one\nassistant\nstep 2')).toBe(45);
    // ... so this one, which extends it, shares only what it has in common with the stored ones
    expect(s.record('a', 'system\nsolve\nuser\nproblem one\nassistant\nstep 2 and 3')).toBe(45);
    expect(s.record('a', 'system\nsolve\nuser\nproblem one\nassistant\nstep 1')).toBe(45 + 1);
  });
});
