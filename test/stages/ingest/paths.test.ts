/** Users' own paths (`paths-jsonl`, `paths-parquet`): defaults, free text cut into steps, and every refusal with its exact message. */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, type InputFormat } from '../../../stages/ingest/ingest.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';
import { Store } from '../../../pipeline/io/store.ts';

const files = nodeFiles();
const problem = (id: string) => ({
  problem_id: id,
  domain: 'math',
  question: `What is 2 + 2 in problem ${id}?`,
  answer: '4',
  ars: [{ node_id: 'Q1', question: 'What is 2 + 2?', answer: '4' }],
});

let dir: string;
let problems: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-paths-'));
  problems = join(dir, 'problems.jsonl');
  await writeFile(problems, [problem('p1'), problem('p2')].map((p) => JSON.stringify(p)).join('\n'));
});

async function ingestPaths(lines: readonly unknown[], format: InputFormat = 'paths-jsonl') {
  const file = join(dir, `paths-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return ingest(
    [
      { path: problems, format: 'jsonl' },
      { path: file, format },
    ],
    { runId: 'r1', files },
  );
}

describe('paths-jsonl', () => {
  it('numbers default path ids per problem, in line order, and fills the other defaults', async () => {
    const out = await ingestPaths([
      { problem_id: 'p1', steps: ['2 + 2 = 4'], final_answer: '4', correct: true },
      { problem_id: 'p2', steps: ['2 + 2 = 5'], correct: false, model: 'my-model' },
      { problem_id: 'p1', path_id: 'mine', steps: ['It is 4.'], final_answer: 4 },
      { problem_id: 'p1', steps: ['Four.'] },
    ]);
    expect(out.rejects).toEqual([]);
    expect(out.paths).toEqual([
      {
        run_id: 'r1',
        problem_id: 'p1',
        path_id: 'p1/0',
        mode: 'free',
        sample_index: 0,
        model: 'imported',
        steps: ['2 + 2 = 4'],
        node_answers: [],
        final_answer: '4',
        given_correct: true,
        finish_reason: null,
        tokens_in: 0,
        tokens_out: 0,
      },
      expect.objectContaining({
        path_id: 'p2/0',
        sample_index: 0,
        model: 'my-model',
        final_answer: null,
        given_correct: false,
      }),
      expect.objectContaining({ path_id: 'mine', sample_index: 1, final_answer: '4', given_correct: null }),
      expect.objectContaining({ path_id: 'p1/2', sample_index: 2, steps: ['Four.'] }),
    ]);
  });

  it('cuts free text into steps as free paths are, and reads the final answer from it', async () => {
    const text = 'Step 1: 2 + 2 = 4\nso it is four\nStep 2: check 4 - 2 = 2\nFinal answer: 4';
    const out = await ingestPaths([
      { problem_id: 'p1', text },
      { problem_id: 'p2', text, final_answer: '5' },
    ]);
    expect(out.rejects).toEqual([]);
    expect(out.paths.map((p) => [p.path_id, p.steps, p.final_answer])).toEqual([
      ['p1/0', ['Step 1: 2 + 2 = 4\nso it is four', 'Step 2: check 4 - 2 = 2', 'Final answer: 4'], '4'],
      ['p2/0', ['Step 1: 2 + 2 = 4\nso it is four', 'Step 2: check 4 - 2 = 2', 'Final answer: 4'], '5'],
    ]);
  });

  const ID = 'should be an id with no leading or trailing whitespace and no control characters, got';
  const bad: [string, unknown, string, string, string][] = [
    [
      'unknown problem',
      { problem_id: 'p9', steps: ['x'] },
      'problem_id',
      'invalid_reference',
      'line 2: path p9/0 refers to problem p9, which was not ingested',
    ],
    [
      'both steps and text',
      { problem_id: 'p1', steps: ['x'], text: 'x' },
      'text',
      'invalid_value',
      'line 2: steps and text are both given; expected one of them (steps: a list of strings, or text: free text)',
    ],
    [
      'neither steps nor text',
      { problem_id: 'p1', final_answer: '4' },
      'steps',
      'missing',
      'line 2: steps or text is required (a list of strings, or free text), got neither',
    ],
    [
      'steps not a list',
      { problem_id: 'p1', steps: 'x' },
      'steps',
      'invalid_type',
      'line 2: steps should be a list of a string, got "x"',
    ],
    [
      'blank text',
      { problem_id: 'p1', text: '  ' },
      'text',
      'invalid_type',
      'line 2: text should be a non-empty string, got "  "',
    ],
    [
      'no step and no final answer',
      { problem_id: 'p1', steps: [] },
      'steps',
      'invalid_value',
      'line 2: steps should hold at least one step when there is no final_answer, got none',
    ],
    [
      'correct not a boolean',
      { problem_id: 'p1', steps: ['x'], correct: 'yes' },
      'correct',
      'invalid_type',
      'line 2: correct should be true or false, got "yes"',
    ],
    [
      'no problem_id (and so no default path_id)',
      { steps: ['x'] },
      'problem_id',
      'missing',
      'line 2: problem_id is required (a non-empty string), got nothing',
    ],
    [
      'path_id with a trailing space',
      { problem_id: 'p1', path_id: 'a ', steps: ['x'] },
      'path_id',
      'invalid_value',
      `line 2: path_id ${ID} "a "`,
    ],
    [
      'negative sample_index',
      { problem_id: 'p1', sample_index: -1, steps: ['x'] },
      'sample_index',
      'invalid_value',
      'line 2: sample_index should be an integer >= 0, got -1',
    ],
    ['a JSON array', '[1]', '', 'invalid_type', 'line 2: row should be an object, got an array of 1'],
    [
      'malformed JSON',
      '{"problem_id": "p1", ',
      '',
      'invalid_json',
      'line 2 is not valid JSON: Expected double-quoted property name in JSON at position 21 (line 1 column 22)',
    ],
  ];

  it.each(bad)('rejects %s with its exact message and keeps the good paths', async (_c, line, path, code, message) => {
    const out = await ingestPaths([{ problem_id: 'p1', steps: ['a'] }, line, { problem_id: 'p2', steps: ['b'] }]);
    expect(out.paths.map((p) => p.path_id)).toEqual(['p1/0', 'p2/0']);
    expect(out.rejects.map((r) => [r.item, r.path, r.code, r.message])).toEqual([['line 2', path, code, message]]);
  });

  it('rejects a repeated path id, naming where the first one was read', async () => {
    const out = await ingestPaths([
      { problem_id: 'p1', path_id: 'x', steps: ['a'] },
      { problem_id: 'p2', path_id: 'x', steps: ['b'] },
    ]);
    expect(out.paths.map((p) => p.problem_id)).toEqual(['p1']);
    expect(out.rejects.map((r) => [r.item, r.code, r.message.replace(/paths-[a-z0-9]+/, 'paths-X')])).toEqual([
      ['line 2', 'duplicate', 'line 2: path x appears twice (first at paths-X.jsonl line 1)'],
    ]);
  });
});

describe('paths-parquet', () => {
  it('reads the same columns from Parquet (nulls as absent), numbering rows from 1', async () => {
    const rows = [
      { problem_id: 'p1', steps: ['2 + 2 = 4'], text: null, final_answer: '4', correct: true, model: null },
      {
        problem_id: 'p2',
        steps: null,
        text: 'Step 1: 2 + 2 = 4\nFinal answer: 4',
        final_answer: null,
        correct: null,
        model: 'm',
      },
      { problem_id: 'p9', steps: ['x'], text: null, final_answer: null, correct: false, model: null },
    ];
    const jsonl = join(dir, 'for-parquet.jsonl');
    await writeFile(jsonl, rows.map((r) => JSON.stringify(r)).join('\n'));
    const file = join(dir, 'paths.parquet');
    const s = await Store.open(':memory:');
    await s.run(
      `COPY (SELECT * FROM read_json('${jsonl}', format = 'newline_delimited', columns = {problem_id: 'VARCHAR', steps: 'VARCHAR[]', text: 'VARCHAR', final_answer: 'VARCHAR', correct: 'BOOLEAN', model: 'VARCHAR'})) TO '${file}' (FORMAT parquet)`,
    );
    s.close();
    const out = await ingest(
      [
        { path: problems, format: 'jsonl' },
        { path: file, format: 'paths-parquet' },
      ],
      { runId: 'r1', files },
    );
    expect(out.paths.map((p) => [p.path_id, p.model, p.steps, p.final_answer, p.given_correct])).toEqual([
      ['p1/0', 'imported', ['2 + 2 = 4'], '4', true],
      ['p2/0', 'm', ['Step 1: 2 + 2 = 4', 'Final answer: 4'], '4', null],
    ]);
    expect(out.rejects.map((r) => [r.item, r.message])).toEqual([
      ['row 3', 'row 3: path p9/0 refers to problem p9, which was not ingested'],
    ]);
  });
});

describe('one big paths file', () => {
  it('streams 300,000 paths of one file through ingest without a stack overflow', async () => {
    const big = join(dir, 'big.jsonl');
    const manyProblems = join(dir, 'many-problems.jsonl');
    await writeFile(manyProblems, Array.from({ length: 1000 }, (_, i) => JSON.stringify(problem(`q${i}`))).join('\n'));
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++)
      lines.push(
        i % 3 === 0
          ? JSON.stringify({ problem_id: `q${i % 1000}`, text: `Step 1: 2 + 2 = 4\nFinal answer: 4`, correct: true })
          : JSON.stringify({ problem_id: `q${i % 1000}`, steps: ['2 + 2 = 4'], final_answer: '4' }),
      );
    await writeFile(big, lines.join('\n') + '\n');
    const out = await ingest(
      [
        { path: manyProblems, format: 'jsonl' },
        { path: big, format: 'paths-jsonl' },
      ],
      { runId: 'r1', files },
    );
    expect(out.rejects).toEqual([]);
    expect(out.problems).toHaveLength(1000);
    expect(out.paths).toHaveLength(300_000);
    expect(out.paths.filter((p) => p.given_correct === true)).toHaveLength(100_000);
    expect(out.paths.at(-1)!.path_id).toBe('q999/299');
  }, 120_000);
});
