import { describe, it, expect, afterAll } from 'vitest';
import OpenAI from 'openai';
import { freeMessages, guidedMessages, guidedSchema, parseFree, parseGuided } from '../../stages/lib/prompts.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/server.ts';
import { evalStep, writeSynth, type SynthProblem } from '../../sim/synth.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt } from '../../sim/rng.ts';
import { nodes } from './helpers.ts';

const sims: Simulator[] = [];
afterAll(() => Promise.all(sims.map((s) => s.close())));
const start = async (o: SimulatorOptions) => {
  const s = await startSimulator({ seed: 1, n: 60, ...o });
  sims.push(s);
  return s;
};
const client = (s: Simulator) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });

const guided = (p: SynthProblem) => ({
  model: 'my-model',
  messages: guidedMessages(p.input, nodes(p)),
  response_format: { type: 'json_schema' as const, json_schema: guidedSchema(nodes(p)) },
});
const withUnit = (x: string, unit: string | null) => (unit ? `${x} ${unit}` : x);
const expectRate = (got: number, want: number, tol: number) =>
  expect(Math.abs(got - want), `rate ${got}, expected ${want} ± ${tol}`).toBeLessThanOrEqual(tol);
const post = (s: Simulator, body: unknown) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('simulator, answers', () => {
  it('answers guided prompts with every gold answer at p_error 0, as parseGuided reads them', async () => {
    const s = await start({ pError: 0, pSilent: 0, pLastStep: 0 });
    for (const p of s.bank.slice(0, 12)) {
      const { data: r, response } = await client(s).chat.completions.create(guided(p)).withResponse();
      expect(response.headers.get('x-tracepipe-simulated')).toBe('true');
      expect([r.model, r.system_fingerprint, r.choices[0]!.finish_reason]).toEqual([
        'my-model',
        'tracepipe-simulator',
        'stop',
      ]);
      expect(r.usage!.completion_tokens).toBeGreaterThan(20);
      const parsed = parseGuided(r.choices[0]!.message.content!, nodes(p));
      if (!parsed.ok) throw new Error(parsed.message);
      expect(parsed.value.node_answers.map((a) => a.answer)).toEqual([
        ...p.input.ars.map((a) => withUnit(a.answer!, a.answer_spec.unit)),
        withUnit(p.input.answer!, p.input.answer_spec.unit),
      ]);
    }
  });

  it('gets free paths wrong more often than guided ones (freeErrorScale)', async () => {
    const s = await start({ pError: 0.1, difficultySpread: 0, pSilent: 0, pLastStep: 0, freeErrorScale: 3 });
    let guidedWrong = 0;
    let freeWrong = 0;
    for (const p of s.bank.slice(0, 40)) {
      const gold = withUnit(p.input.answer!, p.input.answer_spec.unit);
      const g = await client(s).chat.completions.create({ ...guided(p), n: 8, seed: 3 });
      const f = await client(s).chat.completions.create({ model: 'm', messages: freeMessages(p.input), n: 8, seed: 3 });
      guidedWrong += g.choices.filter(
        (c) => (JSON.parse(c.message.content!) as { final: { answer: string } }).final.answer !== gold,
      ).length;
      freeWrong += f.choices.filter((c) => parseFree(c.message.content!).final_answer !== gold).length;
    }
    expect(freeWrong).toBeGreaterThan(guidedWrong * 1.5);
  });

  it('at p_error 1 gets every node wrong and computes each step from the wrong values before it', async () => {
    const s = await start({ pError: 1, pSilent: 0, pLastStep: 0 });
    for (const p of s.bank.slice(0, 12)) {
      const r = await client(s).chat.completions.create(guided(p));
      const json = JSON.parse(r.choices[0]!.message.content!) as {
        steps: Array<{ node_id: string; reasoning: string; answer: string }>;
        final: { answer: string };
      };
      const stated: Record<string, number> = {};
      for (const [i, st] of json.steps.entries()) {
        const gold = p.input.ars[i]!;
        expect(st.answer).not.toBe(withUnit(gold.answer!, gold.answer_spec.unit));
        for (const d of gold.depends_on) expect(st.reasoning).toContain(fmt(stated[d]!));
        stated[st.node_id] = parseFloat(st.answer);
      }
      expect(json.final.answer).toBe(withUnit(fmt(evalStep(p.final, p.givens, stated)), p.final.unit));
    }
  });

  it('answers free prompts with "Step k:" lines and the gold final answer at p_error 0', async () => {
    const s = await start({ pError: 0, pSilent: 0, pLastStep: 0 });
    const p = s.bank[4]!;
    const r = await client(s).chat.completions.create({ model: 'm', messages: freeMessages(p.input) });
    const parsed = parseFree(r.choices[0]!.message.content!);
    expect(parsed.final_answer).toBe(withUnit(p.input.answer!, p.input.answer_spec.unit));
    expect(parsed.steps).toHaveLength(p.input.ars.length + 2);
    expect(parsed.steps[0]).toMatch(/^Step 1: /);
  });

  it('returns n distinct choices, the same ones again for the same seed, other ones for another seed', async () => {
    const s = await start({});
    const p = s.bank[7]!;
    const ask = (seed: number) => client(s).chat.completions.create({ ...guided(p), n: 4, seed });
    const [a, b, c] = await Promise.all([ask(11), ask(11), ask(12)]);
    const texts = (r: typeof a) => r.choices.map((ch) => ch.message.content);
    expect(a.choices.map((ch) => ch.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(texts(a)).size).toBe(4);
    expect(texts(b)).toEqual(texts(a));
    expect(texts(c)).not.toEqual(texts(a));
  });

  it('answers an unknown problem, and n > 1 under refuseN, with an OpenAI-style 400', async () => {
    const s = await start({ refuseN: true });
    const err = await client(s)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Problem:\nWhat is 2 + 2?' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unknown_problem');
    const res = await post(s, { ...guided(s.bank[0]!), n: 2 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message:
          "Unsupported value: 'n' does not support 2 with this model. Supported values are: 1. (tracepipe simulator, refuseN is on)",
        type: 'invalid_request_error',
        param: 'n',
        code: 'unsupported_value',
      },
    });
    expect((await post(s, { ...guided(s.bank[0]!), n: 1 })).status).toBe(200);
    expect(s.stats().outcomes).toMatchObject({ ok: 1, refused_n: 1, bad_request: 1 });
  });
});

describe('simulator, problems file', () => {
  it('knows the problems of a synth file, whatever its seed', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tp-sim-')), 'p.jsonl');
    await writeSynth(file, { n: 10, seed: 2 });
    const s = await start({ problemsFile: file, pError: 0, pSilent: 0, pLastStep: 0 });
    expect(s.bank.map((p) => p.input.problem_id).slice(0, 2)).toEqual(['synth-2-0000', 'synth-2-0001']);
    const r = await client(s).chat.completions.create(guided(s.bank[9]!));
    expect(JSON.parse(r.choices[0]!.message.content!).final.answer).toBe(
      withUnit(s.bank[9]!.input.answer!, s.bank[9]!.input.answer_spec.unit),
    );
  });
});

describe('simulator, faults', () => {
  it('injects 429 (with Retry-After), 5xx, malformed and truncated replies at their rates', async () => {
    const s = await start({
      rate429: 0.2,
      rate5xx: 0.1,
      rateMalformed: 0.15,
      rateTruncated: 0.1,
      retryAfterMs: 2000,
      faultSeed: 5,
    });
    const N = 500;
    const seen = { ok: 0, '429': 0, '5xx': 0, malformed: 0, truncated: 0 };
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const p = s.bank[i % s.bank.length]!;
        const res = await post(s, guided(p));
        if (res.status === 429) {
          expect([
            res.headers.get('retry-after'),
            res.headers.get('retry-after-ms'),
            res.headers.get('x-ratelimit-remaining-requests'),
          ]).toEqual(['2', '2000', '0']);
          seen['429']++;
        } else if (res.status >= 500) seen['5xx']++;
        else {
          const body = (await res.json()) as {
            choices: Array<{ message: { content: string }; finish_reason: string }>;
          };
          const ch = body.choices[0]!;
          if (ch.finish_reason === 'length') seen.truncated++;
          else if (!parseGuided(ch.message.content, nodes(p)).ok) seen.malformed++;
          else seen.ok++;
        }
      }),
    );
    const through = N - seen['429'] - seen['5xx'];
    // malformed and truncated are per choice, among the requests that get through
    expectRate(seen['429'] / N, 0.2, 0.05);
    expectRate(seen['5xx'] / N, 0.1, 0.04);
    expectRate(seen.malformed / through, 0.15, 0.05);
    expectRate(seen.truncated / through, 0.1, 0.04);
    expect(s.stats().outcomes).toMatchObject(seen);
  });

  it('hangs a share of requests and drops their socket after hangMs', async () => {
    const s = await start({ rateHang: 0.4, hangMs: 150, faultSeed: 5 });
    const N = 300;
    const t0 = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: N }, () =>
        post(s, guided(s.bank[0]!)).then(
          (r) => r.status,
          () => 'dropped',
        ),
      ),
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expectRate(outcomes.filter((o) => o === 'dropped').length / N, 0.4, 0.07);
    expect(s.stats().outcomes.hang).toBe(outcomes.filter((o) => o === 'dropped').length);
  });

  it('queues requests over maxConcurrency, or answers them 429 with overCapacity 429', async () => {
    const q = await start({ maxConcurrency: 4, latencyMs: 60, latencyJitter: 0 });
    const t0 = Date.now();
    const a = await Promise.all(Array.from({ length: 12 }, () => post(q, guided(q.bank[0]!)).then((r) => r.status)));
    expect(a).toEqual(Array(12).fill(200));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3 * 60 - 5);
    expect(q.stats().maxInFlight).toBe(12);
    const r = await start({ maxConcurrency: 4, latencyMs: 100, latencyJitter: 0, overCapacity: '429' });
    const b = await Promise.all(Array.from({ length: 12 }, () => post(r, guided(r.bank[0]!)).then((x) => x.status)));
    expect([b.filter((x) => x === 200).length, b.filter((x) => x === 429).length]).toEqual([4, 8]);
    expect(r.stats().outcomes.over_capacity).toBe(8);
  });

  it('lists itself under /v1/models as a simulation', async () => {
    const s = await start({});
    const models = await client(s).models.list();
    expect(models.data.map((m) => [m.id, m.owned_by])).toEqual([
      ['tracepipe-simulator', 'tracepipe-simulator (SIMULATION, not a model)'],
    ]);
  });
});
