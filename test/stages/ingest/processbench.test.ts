import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { processbenchTruth, processbenchWith, readProcessbench } from '../../../stages/ingest/processbench.ts';
import { describeShared, sharedData } from '../../shared.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';
import { collect } from './helpers.ts';

const files = nodeFiles();

const dir = mkdtempSync(join(tmpdir(), 'tracepipe-pb-'));
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const EGGS = {
  question:
    'Janet’s ducks lay 16 eggs per day. She eats three and bakes with four. She sells the rest for $2 each. How much does she make?',
  answer: 'How many eggs does Janet sell? ** 16 - 3 - 4 = <<16-3-4=9>>9\nHow much? ** 9 * 2 = $<<9*2=18>>18\n#### 18',
};
const soc = write('test_socratic.jsonl', JSON.stringify(EGGS) + '\n');
const rows = [
  {
    id: 'gsm8k-0',
    generator: 'Qwen2-7B-Instruct',
    problem: EGGS.question,
    steps: ['16 - 3 - 4 = 9 eggs.', 'She makes 9 * 2 = \\(18\\). \\boxed{18}'],
    final_answer_correct: true,
    label: -1,
  },
  {
    id: 'gsm8k-2',
    generator: 'Llama',
    problem: EGGS.question,
    steps: ['16 - 3 = 13 eggs.', '13 * 2 = 26. \\boxed{26}'],
    final_answer_correct: false,
    label: 0,
  },
  {
    id: 'gsm8k-4',
    generator: 'Llama',
    problem: 'A problem not in GSM8K',
    steps: ['x'],
    final_answer_correct: false,
    label: 0,
  },
  {
    id: 'gsm8k-6',
    generator: 'Llama',
    problem: EGGS.question,
    steps: 'not a list',
    final_answer_correct: false,
    label: 0,
  },
];

describe('readProcessbench', () => {
  it('rejects a row with a bad field, naming row, field, expected and got', async () => {
    const out = await readProcessbench(write('pb.json', JSON.stringify(rows)), files);
    expect(out.rows.map((r) => r.id)).toEqual(['gsm8k-0', 'gsm8k-2', 'gsm8k-4']);
    expect(out.rejects.map((r) => [r.item, r.code, r.path, r.message])).toEqual([
      [
        'row 3',
        'invalid_type',
        'steps',
        `row 3 of ${join(dir, 'pb.json')}: steps should be a list of strings, got "not a list"`,
      ],
    ]);
  });

  it('rejects a file that is not JSON', async () => {
    const f = write('bad.json', '[{"id": ');
    const out = await readProcessbench(f, files);
    expect(out.rejects.map((r) => [r.item, r.code])).toEqual([['file', 'invalid_json']]);
    expect(out.rejects[0]!.message.startsWith(`${f} is not valid JSON: `)).toBe(true);
  });
});

describe('processbench adapter', () => {
  it('imports solutions as free paths of the matching GSM8K problem and keeps labels apart', async () => {
    const f = write('pb2.json', JSON.stringify(rows));
    const out = await collect(processbenchWith(soc), f);
    expect(out.problems.map((p) => (p.value as { problem_id: string }).problem_id)).toEqual(['gsm8k-test-0']);
    expect(out.paths).toEqual([
      {
        item: 'row 0',
        value: {
          problem_id: 'gsm8k-test-0',
          path_id: 'gsm8k-0',
          sample_index: 0,
          model: 'Qwen2-7B-Instruct',
          steps: rows[0]!.steps,
          correct: true,
        },
      },
      {
        item: 'row 1',
        value: {
          problem_id: 'gsm8k-test-0',
          path_id: 'gsm8k-2',
          sample_index: 0,
          model: 'Llama',
          steps: rows[1]!.steps,
          correct: false,
        },
      },
    ]);
    expect(out.rejects.map((r) => [r.item, r.code, r.message])).toEqual([
      ['row 3', 'invalid_type', `row 3 of ${f}: steps should be a list of strings, got "not a list"`],
      [
        'row 2',
        'invalid_reference',
        `row 2 of ${f}: problem matches no GSM8K problem in ${soc}, got "A problem not in GSM8K"`,
      ],
    ]);
    expect([...(await processbenchTruth(f, files))].map(([id, t]) => [id, t.label])).toEqual([
      ['gsm8k-0', -1],
      ['gsm8k-2', 0],
      ['gsm8k-4', 0],
    ]);
  });
});

describe('processbench adapter numbering', () => {
  it('names a row by its place in the file, also after a malformed row before it', async () => {
    const f = write('pb3.json', JSON.stringify([rows[3], rows[2], rows[0]]));
    const out = await collect(processbenchWith(soc), f);
    expect(out.rejects.map((r) => [r.item, r.code])).toEqual([
      ['row 0', 'invalid_type'],
      ['row 1', 'invalid_reference'],
    ]);
    expect(out.paths.map((p) => p.item)).toEqual(['row 2']);
  });
});

describeShared('ProcessBench on the shared data', () => {
  it('matches all 200 rows to GSM8K socratic problems', async () => {
    const out = await collect(
      processbenchWith(sharedData('gsm8k', 'test_socratic.jsonl')),
      sharedData('processbench', 'gsm8k.dev.json'),
    );
    expect(out.paths).toHaveLength(200);
    expect(out.rejects).toEqual([]);
  });
});
