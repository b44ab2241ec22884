/** Units of free-path answers (issue 10 item 8): a correct free physics or chemistry path is not failed for its units. */
import { describe, expect, it } from 'vitest';
import type { AnswerSpec, ArsNode, PathRow, Problem } from '../../../schemas/index.ts';
import { align } from '../../../stages/align/align.ts';
import { answerText, numericValue } from '../../../stages/align/units.ts';
import { score } from '../../../stages/score/score.ts';

const q = (unit: string): AnswerSpec => ({ kind: 'quantity', tolerance: 0.01, unit });
const node = (
  node_id: string,
  position: number,
  answer: string,
  spec: AnswerSpec,
  deps: string[],
  question = node_id,
): ArsNode => ({
  problem_id: 'p',
  node_id,
  position,
  question,
  depends_on: deps,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
const QUESTION = 'A 2 kg cart travels 20 m in 3 s at a constant speed. What is its kinetic energy?';
const problem = (answer: string): Problem => ({
  problem_id: 'p',
  domain: 'physics',
  question: QUESTION,
  images: [],
  choices: [],
  answer,
  answer_spec: q('J'),
  source: 't',
  content_hash: 'h',
  role: 'data',
});
const free = (steps: string[]): PathRow => ({
  run_id: 'r',
  problem_id: 'p',
  path_id: 'p/free/0',
  mode: 'free',
  sample_index: 0,
  model: 'm',
  steps,
  node_answers: [],
  final_answer: null,
  given_correct: null,
  finish_reason: null,
  tokens_in: 0,
  tokens_out: 0,
});

describe('free paths with units', () => {
  it.each([
    // Gold written with its unit; the path states the unit.
    [
      '6.67 m/s',
      '44.4 J',
      ['Its speed is 20 / 3 = 6.67 m/s.', 'Kinetic energy: 0.5 * 2 * 6.67^2 = 44.49 J.', 'The answer is 44.49 J.'],
    ],
    // Gold as a bare number in the node's unit; the path writes more digits and no unit until the end.
    [
      '6.67',
      '44.4',
      ['Speed = 20 / 3 = 6.667.', 'KE = 0.5 * 2 * 6.667^2 = 44.45', 'So the kinetic energy is 44.45 J.'],
    ],
  ])('gold %s / %s: a correct free path passes every node (it failed on units before)', (g1, gF, steps) => {
    const nodes = [node('Q1', 0, g1, q('m/s'), []), node('F', 1, gF, q('J'), ['Q1'], QUESTION)];
    const { paths } = align({ paths: [free(steps)], nodes });
    const [s] = score({ problems: [problem(gF)], nodes, paths }, { runId: 'r' }).scored;
    expect(s!.verdicts.map((v) => [v.node_id, v.verdict])).toEqual([
      ['Q1', 'ok'],
      ['F', 'ok'],
    ]);
    expect([s!.PC, s!.final_correct, s!.silent_failure_node, s!.category]).toEqual([1, true, null, 'reliable-correct']);
    expect(paths[0]!.node_answers[0]!.answer).toMatch(/ m\/s$/);
  });

  it('a wrong free path still fails: the unit is read, not granted', () => {
    const nodes = [node('Q1', 0, '6.67 m/s', q('m/s'), []), node('F', 1, '44.4 J', q('J'), ['Q1'], QUESTION)];
    const { paths } = align({
      paths: [free(['Its speed is 20 / 2 = 10 m/s.', 'KE = 0.5 * 2 * 10^2 = 100 J.'])],
      nodes,
    });
    const [s] = score({ problems: [problem('44.4 J')], nodes, paths }, { runId: 'r' }).scored;
    expect(s!.final_correct).toBe(false);
    expect(s!.verdicts[0]).toMatchObject({ answer: '10 m/s', verdict: 'fail' });
  });
});

describe('answerText and numericValue', () => {
  it.each([
    [6.67, q('m/s'), 'v = 6.67 m/s', '6.67 m/s'],
    [667, q('m/s'), 'v = 667 cm/s', '667 cm/s'],
    [6.67, q('m/s'), 'v = 6.67 and then', '6.67 m/s'],
    [2, q('mol'), 'n = 2 apples', '2 mol'],
    [12, { kind: 'number', tolerance: null, unit: null } as AnswerSpec, '12 m', '12'],
  ])('%d under %j in %j → %j', (v, spec, text, want) => expect(answerText(v, spec, text)).toBe(want));

  it.each([
    ['6.67 m/s', 6.67],
    ['1,200', 1200],
    ['50%', 0.5],
    ['twelve apples', null],
  ])('%j → %j', (s, v) => expect(numericValue(s)).toBe(v));
});
