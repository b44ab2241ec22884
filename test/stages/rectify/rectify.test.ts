/** Tests of rectification: what it asks the model, what it keeps, and what it counts. */
import { describe, expect, it } from 'vitest';
import type { ArsNode, NodeVerdict, PathRow, Problem } from '../../../schemas/index.ts';
import { rectify, textTokens, type RectifyProblem } from '../../../stages/rectify/rectify.ts';
import { pathRequest } from '../../../stages/generate/generate.ts';
import type { ImagePort } from '../../../stages/lib/ports.ts';
import { fakePort } from './fake-port.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const problem: Problem = {
  problem_id: 'p1',
  domain: 'math',
  question: 'Double 2 + 2 twice.',
  images: [],
  choices: [],
  answer: '16',
  answer_spec: spec,
  source: 'test',
  content_hash: 'p1',
  role: 'data',
};
const node = (node_id: string, position: number, depends_on: string[], answer: string): ArsNode => ({
  problem_id: 'p1',
  node_id,
  position,
  question: `${node_id}?`,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
const nodes = [node('Q1', 0, [], '4'), node('Q2', 1, ['Q1'], '8'), node('F', 2, ['Q2'], '16')];
const path = (path_id: string, mode: PathRow['mode'], steps: string[]): PathRow => ({
  run_id: 'r',
  problem_id: 'p1',
  path_id,
  mode,
  sample_index: 0,
  model: 'm',
  steps,
  node_answers: [],
  final_answer: null,
  given_correct: null,
  finish_reason: 'stop',
  tokens_in: 0,
  tokens_out: 0,
});
const verdict = (node_id: string, answer: string, reference: string, ok: boolean, step: number): NodeVerdict => ({
  node_id,
  answer,
  reference,
  verdict: ok ? 'ok' : 'fail',
  agreement: 0.5,
  step,
});
const failing = path('p1/free/0', 'free', [
  'Step 1: 2 + 2 = 4',
  'Step 2: 4 * 2 = 9',
  'Step 3: 9 * 2 = 18',
  'Final answer: 18',
]);
const failingScore = {
  path_id: 'p1/free/0',
  ffs_node: 'Q2',
  ffs_step: 1,
  verdicts: [verdict('Q1', '4', '4', true, 0), verdict('Q2', '9', '8', false, 1), verdict('F', '18', '16', false, 3)],
};
const right = path('p1/free/1', 'free', [
  'Step 1: 2 + 2 = 4',
  'Step 2: 4 * 2 = 8',
  'Step 3: 8 * 2 = 16',
  'Final answer: 16',
]);
const rightScore = { path_id: 'p1/free/1', ffs_node: null, ffs_step: -1, verdicts: [] };
const bundle: RectifyProblem = { problem, nodes, paths: [failing, right], scores: [failingScore, rightScore] };

const GOOD = 'Step 2: 4 * 2 = 8\nStep 3: 8 * 2 = 16\nFinal answer: 16';
const REPLIES: Record<number, string | { ok: false; code: string; message: string; stopped: null }> = {
  0: GOOD,
  1: GOOD.replace('Step 2:', 'step 2:'), // the same chosen step: counted once
  2: 'Step 2: 4 * 2 = 9\nStep 3: 9 * 2 = 18\nFinal answer: 18', // the rejected step again
  3: 'Step 2: 4 * 2 = 8\nStep 3: 8 * 2 = 15\nFinal answer: 15', // right step, wrong final answer
  4: 'Step 2: Doubling 4 gives 4 * 2 = 8\nStep 3: 8 * 2 = 16\nFinal answer: 16', // another right step
  5: { ok: false, code: 'http_500', message: 'server error', stopped: null },
  7: 'Step 2: 4 * 2 = 8\nStep 3: 8 * 2 = 16', // no final answer
};
const images: ImagePort = async () => ({ ok: true, parts: [] });
const settings = { r: 8, max_tokens: 512, temperature: 0.9, original_max_tokens: 1024, concurrency: 4 };

describe('rectify', () => {
  it('continues a failing path from the prefix before its FFS, keeps distinct passing first steps, and counts what it sent', async () => {
    const port = fakePort((_req, i) =>
      i === 6
        ? { ok: true, content: GOOD, finish_reason: 'length', tokens_in: 100, tokens_out: 1, cached: false }
        : (REPLIES[i] ?? GOOD),
    );
    const out = await rectify([bundle], settings, { model: port, images });
    expect(out.rows.map((r) => [r.rect_path_id, r.chosen])).toEqual([
      ['p1/free/0/rect/0', 'Step 2: 4 * 2 = 8'],
      ['p1/free/0/rect/4', 'Step 2: Doubling 4 gives 4 * 2 = 8'],
    ]);
    expect(out.rows[0]).toMatchObject({
      problem_id: 'p1',
      path_id: 'p1/free/0',
      ffs_node: 'Q2',
      ffs_step: 1,
      steps: ['Step 2: 4 * 2 = 8', 'Step 3: 8 * 2 = 16', 'Final answer: 16'],
      final_answer: '16',
      model: 'fake',
    });
    // Only the failing path was continued: one prompt, r samples of it.
    expect(port.asked.map((a) => a.indices)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
    const original = pathRequest(problem, 'free', nodes, [], 1024);
    const req = port.asked[0]!.req;
    expect(req.messages.slice(0, original.messages.length)).toEqual(original.messages);
    expect(req.messages.slice(original.messages.length, -1)).toEqual([
      { role: 'assistant', content: 'Step 1: 2 + 2 = 4' },
    ]);
    expect(req).toMatchObject({ max_tokens: 512, temperature: 0.9, json_schema: null });
    const shared = textTokens(original.messages);
    expect(out.stats).toEqual([
      {
        problem_id: 'p1',
        ffs_paths: 1,
        continuations: 7,
        passed: 3,
        rectified_paths: 1,
        unusable: 2,
        prompt_tokens: 100,
        prefix_shared_tokens: Math.min(100, shared),
      },
    ]);
    expect(out.rejects.map((r) => [r.item, r.code, r.path, r.message])).toEqual([
      [
        'p1/free/0/rect/5',
        'http_500',
        'request',
        'continuation p1/free/0/rect/5: request failed after retries: server error',
      ],
    ]);
    expect(out.retry).toEqual(['p1']);
    expect(out.incomplete).toBe(false);
  });

  it("starts a guided path's continuation with its guided request, asking for free text", async () => {
    const guided = { ...failing, path_id: 'p1/ars-guided/0', mode: 'ars-guided' as const };
    const port = fakePort(() => GOOD);
    await rectify([{ ...bundle, paths: [guided], scores: [{ ...failingScore, path_id: guided.path_id }] }], settings, {
      model: port,
      images,
    });
    const original = pathRequest(problem, 'ars-guided', nodes, [], 1024);
    expect(original.json_schema).not.toBeNull();
    expect(port.asked[0]!.req.messages.slice(0, original.messages.length)).toEqual(original.messages);
    expect(port.asked[0]!.req.json_schema).toBeNull();
  });

  it('asks nothing once the run is stopping, and says the piece is incomplete', async () => {
    const port = fakePort(() => GOOD, { stopped: () => 'budget' });
    const out = await rectify([bundle], settings, { model: port, images });
    expect(port.asked).toEqual([]);
    expect(out.incomplete).toBe(true);
    expect(out.rows).toEqual([]);
  });

  it('rejects the paths of a problem whose images cannot be read, naming the image', async () => {
    const port = fakePort(() => GOOD);
    const noImages: ImagePort = async () => ({ ok: false, path: 'images.0', message: 'figs/a.png does not exist' });
    const out = await rectify([bundle], settings, { model: port, images: noImages });
    expect(port.asked).toEqual([]);
    expect(out.rejects.map((r) => [r.item, r.code, r.path, r.message])).toEqual([
      ['p1/free/0', 'image', 'images.0', 'problem p1: figs/a.png does not exist'],
    ]);
  });

  it('leaves a path alone when its check has no reference (a contested node)', async () => {
    const port = fakePort(() => GOOD);
    const contested = { ...failingScore, verdicts: failingScore.verdicts.map((v) => ({ ...v, reference: null })) };
    const out = await rectify([{ ...bundle, scores: [contested] }], settings, { model: port, images });
    expect(port.asked).toEqual([]);
    expect(out.stats[0]).toMatchObject({ ffs_paths: 1, continuations: 0, rectified_paths: 0 });
  });
});
