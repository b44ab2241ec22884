import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../../stages/ingest/ingest.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';

const files = nodeFiles();

const good = {
  problem_id: 'p1',
  domain: 'physics',
  question: 'A car goes 120 m in 4 s, then doubles its speed. What is its new speed?',
  answer: '60',
  answer_spec: { kind: 'quantity', unit: 'm/s' },
  ars: [
    { node_id: 'Q1', question: 'What is the speed?', answer: 30 },
    { node_id: 'Q2', question: 'What is twice the speed?', depends_on: ['Q1'], answer: '60' },
  ],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-ingest-'));
  await mkdir(join(dir, 'figs'));
  await writeFile(join(dir, 'figs', 'a.png'), 'png');
});

async function ingestLines(lines: string[]) {
  const file = join(dir, `in-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, lines.join('\n'));
  return ingest([{ path: file, format: 'jsonl' }], { runId: 'r1', files });
}

describe('ingest (project JSONL)', () => {
  it('builds problems and an ARS in order with F last', async () => {
    const out = await ingestLines([JSON.stringify(good)]);
    expect(out.rejects).toEqual([]);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({
      problem_id: 'p1',
      domain: 'physics',
      answer: '60',
      answer_spec: { kind: 'quantity', tolerance: null, unit: 'm/s' },
    });
    expect(out.nodes.map((n) => [n.node_id, n.position, n.depends_on, n.answer, n.is_final])).toEqual([
      ['Q1', 0, [], '30', false],
      ['Q2', 1, ['Q1'], '60', false],
      ['F', 2, ['Q2'], '60', true],
    ]);
  });

  const bad: [string, string, string, string][] = [
    ['malformed JSON line', '{"problem_id": "p2", ', '', 'line 2 is not valid JSON: '],
    [
      'missing field',
      JSON.stringify({ problem_id: 'p2', domain: 'math' }),
      'question',
      'line 2: question is required (a non-empty string), got nothing',
    ],
    [
      'unknown domain',
      JSON.stringify({ ...good, problem_id: 'p2', domain: 'biology' }),
      'domain',
      'line 2: domain should be one of math, physics, chemistry, other, got "biology"',
    ],
    [
      'ARS cycle',
      JSON.stringify({
        ...good,
        problem_id: 'p2',
        ars: [
          { node_id: 'Q1', question: 'a', depends_on: ['Q2'] },
          { node_id: 'Q2', question: 'b', depends_on: ['Q1'] },
        ],
      }),
      'ars',
      'line 2: ARS of problem p2 has a cycle: Q1 → Q2 → Q1',
    ],
    [
      'dangling depends_on',
      JSON.stringify({
        ...good,
        problem_id: 'p2',
        ars: [
          { node_id: 'Q1', question: 'a' },
          { node_id: 'Q4', question: 'b', depends_on: ['Q9'] },
        ],
      }),
      'ars.1.depends_on.0',
      'line 2: ARS node Q4 of problem p2 depends on Q9, which does not exist',
    ],
    [
      'image outside the input folder',
      JSON.stringify({ ...good, problem_id: 'p2', images: ['../secret.png'] }),
      'images.0',
      `line 2: images.0 "../secret.png" is outside the input folder DIR`,
    ],
    [
      'missing image',
      JSON.stringify({ ...good, problem_id: 'p2', images: ['figs/none.png'] }),
      'images.0',
      'line 2: images.0 "figs/none.png" was not found in DIR',
    ],
    [
      'user node named F (F is the final question ingest adds)',
      JSON.stringify({
        ...good,
        problem_id: 'p2',
        ars: [
          { node_id: 'Q1', question: 'a' },
          { node_id: 'Q2', question: 'b' },
          { node_id: 'F', question: 'f', depends_on: ['Q2'] },
        ],
      }),
      'ars.2.node_id',
      'line 2: ARS node F of problem p2 takes the id reserved for the final question, which ingest adds itself (depending on the nodes nothing else depends on): expected another id, got "F"',
    ],
    ['duplicate problem id', JSON.stringify(good), 'problem_id', 'line 2: problem_id "p1" repeats in-X line 1'],
    [
      'wrong type',
      JSON.stringify({ ...good, problem_id: 'p2', images: 'a.png' }),
      'images',
      'line 2: images should be a list of a string, got "a.png"',
    ],
  ];

  it.each(bad)('rejects a %s with its exact message and keeps the good rows', async (_case, line, path, message) => {
    const out = await ingestLines([JSON.stringify(good), line, JSON.stringify({ ...good, problem_id: 'p3' })]);
    expect(out.problems.map((p) => p.problem_id)).toEqual(['p1', 'p3']);
    expect(out.rejects).toHaveLength(1);
    const r = out.rejects[0]!;
    expect(r.item).toBe('line 2');
    expect(r.path).toBe(path);
    const got = r.message.replaceAll(dir, 'DIR').replace(/in-[a-z0-9]+\.jsonl/, 'in-X');
    if (message.endsWith(': ')) expect(got.startsWith(message)).toBe(true);
    else expect(got).toBe(message);
  });

  it('accepts an image inside the input folder and stores its resolved path', async () => {
    const out = await ingestLines([JSON.stringify({ ...good, images: ['figs/a.png'] })]);
    expect(out.rejects).toEqual([]);
    expect(out.problems[0]!.images).toEqual([join(dir, 'figs', 'a.png')]);
  });

  it('orders nodes topologically with ties broken by declared order', async () => {
    const out = await ingestLines([
      JSON.stringify({
        ...good,
        ars: [
          { node_id: 'Q3', question: 'c', depends_on: ['Q1', 'Q2'] },
          { node_id: 'Q2', question: 'b' },
          { node_id: 'Q1', question: 'a' },
        ],
      }),
    ]);
    expect(out.nodes.map((n) => n.node_id)).toEqual(['Q2', 'Q1', 'Q3', 'F']);
    expect(out.nodes.at(-1)!.depends_on).toEqual(['Q3']);
  });
});

describe('ingest (project Parquet)', () => {
  it('reads problems from Parquet like JSONL, numbering rows from 1', async () => {
    const { Store } = await import('../../../pipeline/io/store.ts');
    const jsonl = join(dir, 'for-parquet.jsonl');
    await writeFile(
      jsonl,
      [JSON.stringify(good), JSON.stringify({ ...good, problem_id: 'p9', domain: 'biology' })].join('\n'),
    );
    const file = join(dir, 'problems.parquet');
    const s = await Store.open(':memory:');
    await s.run(
      `COPY (SELECT * FROM read_json('${jsonl}', format = 'newline_delimited')) TO '${file}' (FORMAT parquet)`,
    );
    s.close();
    const out = await ingest([{ path: file, format: 'auto' }], { runId: 'r1', files });
    expect(out.problems.map((p) => p.problem_id)).toEqual(['p1']);
    expect(out.nodes.map((n) => n.node_id)).toEqual(['Q1', 'Q2', 'F']);
    expect(out.rejects.map((r) => r.message)).toEqual([
      'row 2: domain should be one of math, physics, chemistry, other, got "biology"',
    ]);
  });
});
