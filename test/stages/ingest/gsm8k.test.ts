import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  GSM8K_SOLUTION_KEYS,
  gsm8kSocratic,
  gsm8kSolutionsFrom,
  gsm8kSolutionsWith,
  problemIdsByQuestion,
  splitSolution,
} from '../../../stages/ingest/gsm8k.ts';
import { isSubQuestion, parseSocraticLine, socraticArs, statesEquation } from '../../../stages/ingest/socratic.ts';
import { ingest } from '../../../stages/ingest/ingest.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';
import { collect, countingFiles } from './helpers.ts';
import { mkdirSync } from 'node:fs';
import { describeShared, sharedData } from '../../shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'tracepipe-gsm8k-'));
const file = (name: string, lines: string[]) => {
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
};

const EGGS = {
  question:
    'Janet’s ducks lay 16 eggs per day. She eats three and bakes with four. She sells the rest for $2 each. How much does she make?',
  answer:
    "How many eggs does Janet sell? ** Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nHow much does Janet make at the farmers' market? ** She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18",
};
const HOUSE = {
  question:
    'Josh buys a house for $80,000 and puts in $50,000 in repairs. This increased the value of the house by 150%. How much profit did he make?',
  answer:
    'How much did the house cost? ** 80,000+50,000=$<<80000+50000=130000>>130,000\nHow much did the repairs increase the value? ** 80,000*1.5=<<80000*1.5=120000>>120,000\nWhat is the new value? ** 120,000+80,000=$<<120000+80000=200000>>200,000\nHow much profit did he make? ** 200,000-130,000=$<<200000-130000=70000>>70,000\n#### 70000',
};

describe('parseSocraticLine', () => {
  it.each([
    [
      'How many eggs? ** Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.',
      { question: 'How many eggs?', value: 9, operands: [16, 3, 4] },
    ],
    ['How fast? ** she can walk at 6/4=1.5 miles per hour.', { question: 'How fast?', value: 1.5, operands: [6, 4] }],
    ['How much? ** Mishka spent $243 on clothing.', { question: 'How much?', value: 243, operands: [] }],
    ['Define a variable ** Let x be the number of coins', { question: 'Define a variable', value: null, operands: [] }],
    [
      'How old is Seth? ** Then we add all the values together, 3x + 4 = 28.',
      { question: 'How old is Seth?', value: null, operands: [] },
    ],
    ['How many coins? ** So x = 18', { question: 'How many coins?', value: 18, operands: [] }],
  ])('%s', (line, want) => {
    expect(parseSocraticLine(line)).toEqual(want);
  });
});

describe('statesEquation (a line with no value: an equation in an unknown)', () => {
  it.each([
    ['3x + 4 = 28', true],
    ['2*x=80', true],
    ['Gretchen has x+30 gold coins.', true],
    ['Babies:2x', true],
    ['So x = 18', false],
    ['W = 1.5 / 0.5 = 3 episodes', false],
    ['12 / 4 = 3 hours', false],
  ])('%s', (text, want) => {
    expect(statesEquation(text)).toBe(want);
  });
});

describe('isSubQuestion (an instruction is no ARS node)', () => {
  it.each([
    ['How many eggs does Janet sell?', true],
    ['What is the new value?', true],
    ['How many people couldn', true],
    ['Define a variable', false],
    ['Simplify', false],
    ['Write an equation', false],
    ['Divide by 6', false],
    ['Add 21 to both sides', false],
  ])('%s', (q, want) => {
    expect(isSubQuestion(q)).toBe(want);
  });
});

describe('socraticArs', () => {
  it('drops an instruction step and hands its parents on to the steps that use its value', () => {
    expect(
      socraticArs('A? ** 2+3=<<2+3=5>>5\nSimplify ** 5*2=<<5*2=10>>10\nB? ** 10+1=<<10+1=11>>11\n#### 12'),
    ).toEqual({
      final: '12',
      ars: [
        { node_id: 'Q1', question: 'A?', depends_on: [], answer: '5' },
        { node_id: 'Q2', question: 'B?', depends_on: ['Q1'], answer: '11' },
      ],
    });
  });

  it('links nodes through the values their computations use and merges a last step that restates F', () => {
    expect(socraticArs(HOUSE.answer)).toEqual({
      final: '70000',
      ars: [
        { node_id: 'Q1', question: 'How much did the house cost?', depends_on: [], answer: '130000' },
        { node_id: 'Q2', question: 'How much did the repairs increase the value?', depends_on: [], answer: '120000' },
        { node_id: 'Q3', question: 'What is the new value?', depends_on: ['Q2'], answer: '200000' },
      ],
    });
  });

  it('merges every trailing line that restates the final answer, and a note-less line that states it', () => {
    const twice =
      'Matteo? ** 55 * 4 = <<55*4=220>>220 miles\nShandy? ** 45 * 10 = <<45*10=450>>450 miles\nHow far? ** 450 - 220 = <<450-220=230>>230 miles\nHow far? ** Shandy drove 230 miles farther than Matteo.\n#### 230';
    expect(socraticArs(twice).ars.map((n) => [n.node_id, n.answer, n.depends_on])).toEqual([
      ['Q1', '220', []],
      ['Q2', '450', []],
    ]);
    const stated =
      'Each? ** 5 + 3 + 0.25 = <<5+3+0.25=8.25>>8.25 tablespoons\nAll? ** 16 * 8.25 = <<16*8.25=132>>132 tablespoons\nAll? ** Svetlana needed 132 tablespoons to make 16 muffins.\n#### 132';
    expect(socraticArs(stated).ars.map((n) => [n.node_id, n.answer])).toEqual([['Q1', '8.25']]);
  });

  it('keeps a last step whose value is not the final answer', () => {
    expect(
      socraticArs('A? ** 2+3=<<2+3=5>>5\nB? ** 5*4=<<5*4=20>>20\n#### 21').ars.map((n) => [
        n.node_id,
        n.answer,
        n.depends_on,
      ]),
    ).toEqual([
      ['Q1', '5', []],
      ['Q2', '20', ['Q1']],
    ]);
  });
});

describe('gsm8kSocratic', () => {
  it('reads problems with their ARS and rejects a malformed line by number', async () => {
    const f = file('soc.jsonl', [
      JSON.stringify(EGGS),
      '{"question": "broken',
      JSON.stringify(HOUSE),
      JSON.stringify({ question: 'No answer' }),
    ]);
    const out = await collect(gsm8kSocratic, f);
    expect(
      out.problems.map((p) => [
        p.item,
        (p.value as { problem_id: string }).problem_id,
        (p.value as { answer: string }).answer,
      ]),
    ).toEqual([
      ['line 1', 'gsm8k-test-0', '18'],
      ['line 3', 'gsm8k-test-2', '70000'],
    ]);
    expect((out.problems[0]!.value as { ars: unknown[] }).ars).toEqual([
      {
        node_id: 'Q1',
        question: 'How many eggs does Janet sell?',
        depends_on: [],
        answer: '9',
        answer_spec: { kind: 'number', tolerance: null, unit: null },
      },
    ]);
    expect(out.rejects.map((r) => [r.item, r.code, r.path, r.message])).toEqual([
      [
        'line 2',
        'invalid_json',
        '',
        `line 2 of ${f} is not valid JSON: Unterminated string in JSON at position 20 (line 1 column 21)`,
      ],
      ['line 4', 'missing', 'answer', `line 4 of ${f}: answer should be a string, got nothing`],
    ]);
  });
});

describe('gsm8kSolutions', () => {
  it('splits solutions into steps and the A: line', () => {
    expect(splitSolution('She sells 16-3=<<16-3=13>>13\nShe makes 13*2=<<13*2=26>>26\nA: 26')).toEqual({
      steps: ['She sells 16-3=<<16-3=13>>13', 'She makes 13*2=<<13*2=26>>26'],
      final_answer: '26',
    });
    expect(splitSolution('No final line here')).toEqual({ steps: ['No final line here'], final_answer: null });
  });

  it('matches solutions to problems by question text and rejects an unknown question', async () => {
    const socFile = file('soc2.jsonl', [JSON.stringify(EGGS)]);
    const soc = await collect(gsm8kSocratic, socFile);
    const sol = (ok: boolean, s: string) => ({ is_correct: ok, solution: s });
    const row = {
      question: `  ${EGGS.question.toUpperCase()} `,
      '6b_finetuning': sol(false, 'x 16-3=<<16-3=13>>13\nA: 26'),
      '6b_verification': sol(true, 'A: 18'),
      '175b_finetuning': sol(true, 'A: 18'),
      '175b_verification': sol(false, 'A: 4'),
    };
    const f = file('sol.jsonl', [JSON.stringify(row), JSON.stringify({ ...row, question: 'Something else entirely' })]);
    const out = await ingest(
      [
        { path: socFile, format: 'gsm8k-socratic' },
        { path: f, adapter: gsm8kSolutionsWith(problemIdsByQuestion(soc.problems)) },
      ],
      { runId: 'r', files: nodeFiles() },
    );
    expect(
      out.paths.map((p) => [p.path_id, p.model, p.sample_index, p.given_correct, p.final_answer, p.steps.length]),
    ).toEqual([
      ['gsm8k-test-0/6b_finetuning', '6b_finetuning', 0, false, '26', 1],
      ['gsm8k-test-0/6b_verification', '6b_verification', 1, true, '18', 0],
      ['gsm8k-test-0/175b_finetuning', '175b_finetuning', 2, true, '18', 0],
      ['gsm8k-test-0/175b_verification', '175b_verification', 3, false, '4', 0],
    ]);
    expect(out.rejects.map((r) => [r.item, r.code, r.message])).toEqual([
      [
        'line 2',
        'invalid_reference',
        `line 2 of ${f}: question matches no GSM8K problem, got "Something else entirely"`,
      ],
    ]);
  });
});

describe('the socratic file as a reference', () => {
  it('is parsed once per run however many solution files match against it', async () => {
    const run = join(dir, 'memo');
    mkdirSync(run);
    const APPLES = {
      question: 'Tom has 3 apples and buys 2 more. How many apples?',
      answer: 'How many? ** 3 + 2 = <<3+2=5>>5\n#### 5',
    };
    const socratic = join(run, 'test_socratic.jsonl');
    writeFileSync(socratic, [EGGS, HOUSE, APPLES].map((p) => JSON.stringify(p)).join('\n'));
    const sol = (q: string) => ({
      question: q,
      ...Object.fromEntries(GSM8K_SOLUTION_KEYS.map((k) => [k, { is_correct: true, solution: 'A: 1' }])),
    });
    const solutions = [EGGS, HOUSE, APPLES].map((p, i) => {
      const f = join(run, `solutions-${i}.jsonl`);
      writeFileSync(f, JSON.stringify(sol(p.question)));
      return f;
    });
    const { files, reads } = countingFiles();
    const out = await ingest(
      [
        { path: socratic, format: 'gsm8k-socratic' },
        ...solutions.map((path) => ({ path, format: 'gsm8k-solutions' as const })),
      ],
      { runId: 'r', files },
    );
    expect(out.rejects).toEqual([]);
    expect(out.paths.map((p) => p.problem_id)).toEqual(
      ['gsm8k-test-0', 'gsm8k-test-1', 'gsm8k-test-2'].flatMap((id) => [id, id, id, id]),
    );
    // Once as the problems input, once for the index that all three solution files share.
    expect(reads.get(socratic)).toBe(2);
    expect(solutions.map((f) => reads.get(f))).toEqual([1, 1, 1]);
  });
});

describeShared('GSM8K on the shared data', () => {
  it('imports 1319 problems and 4 solutions each, with no rejects', async () => {
    const soc = sharedData('gsm8k', 'test_socratic.jsonl');
    const out = await ingest(
      [
        { path: soc, format: 'gsm8k-socratic' },
        { path: sharedData('gsm8k', 'example_model_solutions.jsonl'), adapter: gsm8kSolutionsFrom(soc) },
      ],
      { runId: 'r', files: nodeFiles() },
    );
    expect(out.problems).toHaveLength(1319);
    expect(out.paths).toHaveLength(1319 * 4);
    expect(out.rejects).toEqual([]);
    // Solutions come in the same order as problems: matching by text must agree with the line order.
    expect(out.paths.filter((p, i) => p.problem_id !== `gsm8k-test-${Math.floor(i / 4)}`)).toEqual([]);
  });
});
