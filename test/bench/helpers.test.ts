/** Tests of what the adaptive and rectify benchmarks rest on: the GSM8K replay's replies and the chosen-step verifier. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asFreeReply, storedSolutions } from '../../bench/replay.ts';
import { nextNode, verifyChosen } from '../../bench/rectify.ts';
import { parseFree } from '../../stages/lib/prompts.ts';
import { synth } from '../../sim/synth.ts';
import { normaliseQuestion } from '../../stages/ingest/gsm8k.ts';
import type { PathRow } from '../../schemas/index.ts';
import type { RectifiedRow } from '../../schemas/state.ts';

describe('GSM8K replay', () => {
  it('replies with a stored solution as free steps that generate reads back to its lines and final answer', () => {
    const reply = asFreeReply('She has 4 * 6 = <<4*6=24>>24 pens.\nShe has 24 - 5 = <<24-5=19>>19 left.\nA: 19');
    expect(parseFree(reply)).toEqual({
      steps: [
        'Step 1: She has 4 * 6 = <<4*6=24>>24 pens.',
        'Step 2: She has 24 - 5 = <<24-5=19>>19 left.',
        'Final answer: 19',
      ],
      node_answers: [],
      final_answer: '19',
    });
  });

  it('keeps the four solutions of a problem in file order, by normalised question', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tp-replay-')), 's.jsonl');
    const sol = (s: string) => ({ is_correct: true, solution: s });
    await writeFile(
      file,
      `${JSON.stringify({ question: 'How many?', '6b_finetuning': sol('a\nA: 1'), '6b_verification': sol('b\nA: 2'), '175b_finetuning': sol('c\nA: 3'), '175b_verification': sol('d\nA: 4') })}\n`,
    );
    expect((await storedSolutions(file)).get(normaliseQuestion('How many?'))).toEqual([
      'a\nA: 1',
      'b\nA: 2',
      'c\nA: 3',
      'd\nA: 4',
    ]);
  });
});

describe('chosen-step verifier', () => {
  const [p] = synth({ n: 1, seed: 3 });
  const gold = (id: string) => Number(p!.input.ars.find((a) => a.node_id === id)!.answer);
  const q1 = p!.steps[0]!;

  it('the next node after a prefix is the first one it does not state', () => {
    expect(nextNode(p!, []).node_id).toBe('Q1');
    expect(nextNode(p!, [`Step 1: ${q1.what} = ${gold('Q1')}`]).node_id).toBe('Q2');
  });

  it('counts a chosen step verified when it states the formula value from its prefix, and not otherwise', () => {
    const path = { path_id: 'x/free/0', steps: [`Step 1: ${q1.what} = ${gold('Q1') + 1}`, 'Step 2: ...'] } as PathRow;
    const row = (chosen: string, ffs_step: number) =>
      ({ problem_id: p!.input.problem_id, path_id: 'x/free/0', ffs_step, chosen }) as RectifiedRow;
    expect(
      verifyChosen(
        [p!],
        [path],
        [row(`Step 1: ${q1.what} = ${gold('Q1')}`, 0), row(`Step 1: ${q1.what} = ${gold('Q1') * 3}`, 0)],
      ),
    ).toEqual({
      verified: 1,
      total: 2,
    });
  });
});
