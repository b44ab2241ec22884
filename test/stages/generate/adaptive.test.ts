/** Tests of adaptive sampling: its rounds, its stopping rules, and generate drawing by them against a local server. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ArsNode, PathRow, Problem } from '../../../schemas/index.ts';
import { drawRounds, settles, type StopSettings } from '../../../stages/generate/adaptive.ts';
import { DEFAULT_THRESHOLDS } from '../../../stages/score/score.ts';
import { startFake, type Fake, type FakeRequest } from '../../generate/fake.ts';
import { cfgFor, runGenerate, tempStore } from '../../generate/helpers.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const problem: Problem = {
  problem_id: 'p',
  domain: 'math',
  question: 'What is 1 + 1 + 1?',
  images: [],
  choices: [],
  answer: '3',
  answer_spec: spec,
  source: 'test',
  content_hash: 'p',
  role: 'data',
};
const node = (node_id: string, position: number, depends_on: string[], answer: string): ArsNode => ({
  problem_id: 'p',
  node_id,
  position,
  question: `${node_id} of p?`,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
const nodes = [node('Q1', 0, [], '1'), node('Q2', 1, ['Q1'], '2'), node('F', 2, ['Q2'], '3')];
/** A guided path answering Q1, Q2 and F; `i` varies its wording. */
const guided = (i: number, [q1, q2, f]: [string, string, string]): PathRow => ({
  run_id: 'r',
  problem_id: 'p',
  path_id: `p/ars-guided/${i}`,
  mode: 'ars-guided',
  sample_index: i,
  model: 'm',
  steps: [`Q1: take ${i} Answer: ${q1}`, `Q2: add ${i} Answer: ${q2}`, `Final answer: ${f}`],
  node_answers: [
    { node_id: 'Q1', answer: q1, step: 0 },
    { node_id: 'Q2', answer: q2, step: 1 },
    { node_id: 'F', answer: f, step: 2 },
  ],
  final_answer: f,
  given_correct: null,
  finish_reason: 'stop',
  tokens_in: 0,
  tokens_out: 0,
});
const RIGHT: [string, string, string] = ['1', '2', '3'];
const stop = (rule: StopSettings['rule'], over: Partial<StopSettings> = {}): StopSettings => ({
  rule,
  thresholds: DEFAULT_THRESHOLDS,
  sft_per_problem: 2,
  pairs_per_problem: 4,
  rectify: false,
  paths_max: 16,
  ...over,
});

describe('drawRounds', () => {
  const drive = async (
    k: number,
    adaptive: { first_round: number; round_size: number } | null,
    settleAfter: number,
  ) => {
    const rounds: [number, number][] = [];
    const r = await drawRounds({
      k,
      adaptive,
      draw: async (from, to) => void rounds.push([from, to]),
      settled: () => rounds.length >= settleAfter,
      stopped: () => false,
    });
    return { r, rounds };
  };

  it('draws all k at once without adaptive sampling', async () => {
    expect(await drive(8, null, 1)).toEqual({ r: { drawn: 8, rounds: 1, stop: 'k' }, rounds: [[0, 8]] });
  });

  it('draws the first round, then rounds of round_size until the rule settles the problem', async () => {
    expect(await drive(8, { first_round: 4, round_size: 1 }, 2)).toEqual({
      r: { drawn: 5, rounds: 2, stop: 'settled' },
      rounds: [
        [0, 4],
        [4, 5],
      ],
    });
  });

  it('stops at k, the last round cut to fit', async () => {
    expect(await drive(7, { first_round: 4, round_size: 2 }, 99)).toEqual({
      r: { drawn: 7, rounds: 3, stop: 'k' },
      rounds: [
        [0, 4],
        [4, 6],
        [6, 7],
      ],
    });
  });

  it('says `stopped` when the run stops between rounds (the problem is not done)', async () => {
    const r = await drawRounds({
      k: 8,
      adaptive: { first_round: 2, round_size: 2 },
      draw: async () => {},
      settled: () => false,
      stopped: () => true,
    });
    expect(r).toEqual({ drawn: 2, rounds: 1, stop: 'stopped' });
  });
});

describe('settles', () => {
  const right4 = [0, 1, 2, 3].map((i) => guided(i, RIGHT));
  const halfWrong = [0, 1, 2, 3].map((i) => guided(i, i % 2 ? ['1', '5', '6'] : RIGHT));
  const allWrongQ1 = [0, 1, 2, 3].map((i) => guided(i, ['9', '10', '12']));

  it.each([
    ['four right, reliable paths: enough SFT candidates and no failure to pair', right4, true],
    ['two failing paths with peers, fewer than the pair cap: more draws add pairs', halfWrong, false],
    ['four paths failing at Q1: no correct path to hope for, but no peer to pair them either', allWrongQ1, false],
  ])('settled-yield: %s', (_what, paths, want) => {
    expect(settles(problem, nodes, paths, stop('settled-yield'))).toBe(want);
  });

  it('settled-yield with rectification: a failing path needs no peer, so four of them fill the pair cap', () => {
    // Four of at most eight paths, none correct: the SFT side has nothing to hope for.
    expect(settles(problem, nodes, allWrongQ1, stop('settled-yield', { rectify: true, paths_max: 8 }))).toBe(true);
    // Four of sixteen: too early to give up on a correct path.
    expect(settles(problem, nodes, allWrongQ1, stop('settled-yield', { rectify: true, paths_max: 16 }))).toBe(false);
  });

  it('settled-yield weighs shares of the paths drawn: one correct path keeps a problem drawing, one in nine does not', () => {
    const wrongAt = (i: number) => guided(i, ['9', '10', '12']);
    const oneRightOf = (n: number) => [guided(0, RIGHT), ...Array.from({ length: n - 1 }, (_, i) => wrongAt(i + 1))];
    // Rectification fills the pair side with the failing paths, so only the SFT side decides.
    const rect = stop('settled-yield', { rectify: true, paths_max: 16 });
    expect(settles(problem, nodes, oneRightOf(8), rect)).toBe(false);
    expect(settles(problem, nodes, oneRightOf(9), rect)).toBe(true);
    // No correct path: settled from half of the maximum on.
    expect(settles(problem, nodes, [0, 1, 2, 3, 4, 5, 6].map(wrongAt), rect)).toBe(false);
    expect(settles(problem, nodes, [0, 1, 2, 3, 4, 5, 6, 7].map(wrongAt), rect)).toBe(true);
  });

  it('settled-yield with no caps: nothing to wait for', () => {
    expect(
      settles(problem, nodes, halfWrong, stop('settled-yield', { sft_per_problem: 0, pairs_per_problem: 0 })),
    ).toBe(true);
  });

  it('final-agreement: every final answer equivalent; reliable-agreement: and every path reliable', () => {
    const agreeUnreliable = [...right4, guided(4, ['7', '8', '3'])];
    expect(settles(problem, nodes, right4, stop('final-agreement'))).toBe(true);
    expect(settles(problem, nodes, halfWrong, stop('final-agreement'))).toBe(false);
    expect(settles(problem, nodes, agreeUnreliable, stop('final-agreement'))).toBe(true);
    expect(settles(problem, nodes, agreeUnreliable, stop('reliable-agreement'))).toBe(false);
    expect(settles(problem, nodes, right4, stop('reliable-agreement'))).toBe(true);
  });

  it('never settles a problem before any path came', () => {
    expect(settles(problem, nodes, [], stop('final-agreement'))).toBe(false);
  });
});

/** Guided replies: sample `i` (the request's seed minus 7, plus its choice) answers by `answers(i)`. */
function replies(answers: (i: number) => [string, string, string]) {
  return (req: FakeRequest, choice: number) => {
    const i = (req.body.seed ?? 7) - 7 + choice;
    const [q1, q2, f] = answers(i);
    return {
      content: JSON.stringify({
        steps: [
          { node_id: 'Q1', reasoning: `take ${i}`, answer: q1 },
          { node_id: 'Q2', reasoning: `add ${i}`, answer: q2 },
        ],
        final: { reasoning: `so ${i}`, answer: f },
      }),
    };
  };
}
const key = (r: FakeRequest) => JSON.stringify([r.body.messages, r.body.seed, r.body.n ?? 1]);

describe('generate with adaptive sampling', () => {
  let fake: Fake | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const adaptive = { first_round: 4, round_size: 1, stop: 'settled-yield' as const };
  const stopSettings = { thresholds: DEFAULT_THRESHOLDS, sft_per_problem: 2, pairs_per_problem: 4, rectify: false };
  const input = { problems: [problem], nodes };

  it('stops a settled problem after its first round: fewer requests, k_drawn and the saved samples recorded', async () => {
    fake = await startFake({ reply: replies(() => RIGHT) });
    const { store } = await tempStore();
    const cfg = cfgFor(fake.url, { k: 8, modes: ['ars-guided'], use_n: false, adaptive });
    const out = await runGenerate(input, { ...cfg, stop: stopSettings } as never, { store });
    expect(fake.requests.length).toBe(4);
    expect(out.paths.map((p) => p.sample_index)).toEqual([0, 1, 2, 3]);
    expect(out.draws).toEqual([{ problem_id: 'p', mode: 'ars-guided', k: 8, k_drawn: 4, rounds: 1, stop: 'settled' }]);
    expect(out.stats).toMatchObject({ samples_saved: 4, skipped: 0, paths: 4 });
    store.close();
  });

  it('keeps drawing, one sample a round, while the problem is unsettled', async () => {
    // Odd samples fail at Q2: each round adds a failure or a peer, never four pairs before k.
    fake = await startFake({ reply: replies((i) => (i % 2 ? ['1', '5', '6'] : RIGHT)) });
    const { store } = await tempStore();
    const cfg = cfgFor(fake.url, { k: 6, modes: ['ars-guided'], use_n: false, adaptive });
    const out = await runGenerate(input, { ...cfg, stop: stopSettings } as never, { store });
    expect(out.draws).toEqual([{ problem_id: 'p', mode: 'ars-guided', k: 6, k_drawn: 6, rounds: 3, stop: 'k' }]);
    expect(out.stats.samples_saved).toBe(0);
    store.close();
  });

  it("sends a subset of a fixed-K run's requests (same first paths), and a fixed-K run after it sends only the rest", async () => {
    fake = await startFake({ reply: replies(() => RIGHT) });
    const fixedCfg = cfgFor(fake.url, { k: 8, modes: ['ars-guided'], use_n: false });
    const fixedStore = await tempStore();
    const fixed = await runGenerate(input, fixedCfg, { store: fixedStore.store });
    const fixedKeys = new Set(fake.requests.map(key));
    fake.requests.length = 0;
    const { store } = await tempStore();
    const a = await runGenerate(
      input,
      { ...cfgFor(fake.url, { k: 8, modes: ['ars-guided'], use_n: false, adaptive }), stop: stopSettings } as never,
      { store },
    );
    expect(fake.requests.length).toBe(4);
    for (const r of fake.requests) expect(fixedKeys.has(key(r))).toBe(true);
    expect(a.paths.map((p) => p.steps)).toEqual(fixed.paths.slice(0, 4).map((p) => p.steps));
    fake.requests.length = 0;
    const rest = await runGenerate(input, fixedCfg, { store });
    expect(fake.requests.length).toBe(4);
    expect(rest.paths.map((p) => p.steps)).toEqual(fixed.paths.map((p) => p.steps));
    fixedStore.store.close();
    store.close();
  });

  it('asks a later round with n for new samples: the seed moves on with its first index', async () => {
    fake = await startFake({ reply: replies((i) => (i % 2 ? ['1', '5', '6'] : RIGHT)) });
    const { store } = await tempStore();
    const cfg = cfgFor(fake.url, {
      k: 6,
      modes: ['ars-guided'],
      use_n: true,
      adaptive: { ...adaptive, round_size: 2 },
    });
    const out = await runGenerate(input, { ...cfg, stop: stopSettings } as never, { store });
    expect(fake.requests.map((r) => [r.body.n, r.body.seed])).toEqual([
      [4, 7],
      [2, 11],
    ]);
    expect(new Set(out.paths.map((p) => p.steps.join('|'))).size).toBe(6);
    store.close();
  });
});

describe('k_drawn of scored paths (drawnByMode)', () => {
  it("is generate's draws where it drew the paths, else the problem's paths of that mode (imported)", async () => {
    const { drawnByMode } = await import('../../../stages/score/index.ts');
    const imported = [0, 1, 2].map((i) => ({ ...guided(i, RIGHT), mode: 'free' as const, path_id: `p/imp/${i}` }));
    const bundle = {
      problem,
      rows: {
        imported_paths: imported,
        paths: [guided(0, RIGHT), guided(1, RIGHT)],
        draws: [{ problem_id: 'p', mode: 'ars-guided', k: 8, k_drawn: 5, rounds: 2, stop: 'settled' }],
      },
    };
    expect(Object.fromEntries(drawnByMode(bundle))).toEqual({ 'ars-guided': 5, free: 3 });
  });
});
