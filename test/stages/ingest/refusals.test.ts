/**
 * Rows ingest used to accept and now refuses (issue 10): each is one reject with the item, the
 * field, the code and the exact message, and the good rows around it go on.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, writeFile, mkdir, symlink } from 'node:fs/promises';
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
  answer_spec: { kind: 'quantity', unit: 'm/s', tolerance: 0.01 },
  ars: [
    { node_id: 'Q1', question: 'What is the speed?', answer: 30 },
    { node_id: 'Q2', question: 'What is twice the speed?', depends_on: ['Q1'], answer: '60' },
  ],
};
const p2 = (over: Record<string, unknown>) => JSON.stringify({ ...good, problem_id: 'p2', ...over });
const arsWith = (first: Record<string, unknown>) => [first, { node_id: 'Q2', question: 'b', depends_on: ['Q1'] }];

let dir: string;
let outside: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-refuse-'));
  outside = await mkdtemp(join(tmpdir(), 'tp-outside-'));
  await mkdir(join(dir, 'figs'));
  await writeFile(join(dir, 'figs', 'a.png'), 'png');
  await writeFile(join(outside, 'secret.png'), 'secret');
  await symlink(join(outside, 'secret.png'), join(dir, 'figs', 'link.png'));
  await symlink(join(dir, 'figs', 'a.png'), join(dir, 'figs', 'alias.png'));
});

async function ingestBytes(body: Buffer | string, opts: { maxQuestionBytes?: number } = {}) {
  const file = join(dir, `in-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, body);
  return ingest([{ path: file, format: 'jsonl' }], { runId: 'r1', files, ...opts });
}
const around = (line: string) => [JSON.stringify(good), line, JSON.stringify({ ...good, problem_id: 'p3' })].join('\n');

describe('ingest refuses what it used to let through', () => {
  const ID = 'should be an id with no leading or trailing whitespace and no control characters, got';
  const cases: [string, string, string, string, string][] = [
    [
      'negative tolerance',
      p2({ answer_spec: { kind: 'number', tolerance: -0.01 } }),
      'answer_spec.tolerance',
      'invalid_value',
      'line 2: answer_spec.tolerance should be a relative tolerance >= 0, got -0.01',
    ],
    [
      'negative node tolerance',
      p2({
        ars: [
          { node_id: 'Q1', question: 'a' },
          { node_id: 'Q2', question: 'b', answer_spec: { kind: 'number', tolerance: -1 } },
        ],
      }),
      'ars.1.answer_spec.tolerance',
      'invalid_value',
      'line 2: ars.1.answer_spec.tolerance of problem p2 should be a relative tolerance >= 0, got -1',
    ],
    [
      'user node named F',
      p2({ ars: arsWith({ node_id: 'F', question: 'a' }) }),
      'ars.0.node_id',
      'invalid_ars',
      'line 2: ARS node F of problem p2 takes the id reserved for the final question, which ingest adds itself (depending on the nodes nothing else depends on): expected another id, got "F"',
    ],
    [
      'node id with a trailing space',
      p2({ ars: arsWith({ node_id: 'Q1 ', question: 'a' }) }),
      'ars.0.node_id',
      'invalid_value',
      `line 2: ars.0.node_id of problem p2 ${ID} "Q1 "`,
    ],
    [
      'node id with a NUL',
      p2({ ars: arsWith({ node_id: 'Q1\u0000', question: 'a' }) }),
      'ars.0.node_id',
      'invalid_value',
      `line 2: ars.0.node_id of problem p2 ${ID} "Q1\\u0000"`,
    ],
    [
      'node id with a control character inside',
      p2({ ars: arsWith({ node_id: 'Q\u001b1', question: 'a' }) }),
      'ars.0.node_id',
      'invalid_value',
      `line 2: ars.0.node_id of problem p2 ${ID} "Q\\u001b1"`,
    ],
    [
      'problem id with a leading space',
      p2({ problem_id: ' p2' }),
      'problem_id',
      'invalid_value',
      `line 2: problem_id ${ID} " p2"`,
    ],
    [
      'question over 64 KiB (counted in bytes: 32,769 × "é" is 65,538 bytes)',
      p2({ question: 'é'.repeat(32_769) }),
      'question',
      'too_big',
      'line 2: question should be at most 65536 bytes of UTF-8, got 65538 bytes',
    ],
    [
      'ARS node question over 64 KiB',
      p2({ ars: arsWith({ node_id: 'Q1', question: 'x'.repeat(65_537) }) }),
      'ars.0.question',
      'too_big',
      'line 2: ars.0.question of problem p2 should be at most 65536 bytes of UTF-8, got 65537 bytes',
    ],
    [
      'image symlink that points outside the input folder',
      p2({ images: ['figs/link.png'] }),
      'images.0',
      'invalid_path',
      'line 2: images.0 "figs/link.png" is a link to OUTSIDE/secret.png, outside the input folder DIR',
    ],
    [
      'blank image entry',
      p2({ images: [''] }),
      'images.0',
      'invalid_value',
      'line 2: images.0 should be a file path or a URL, got ""',
    ],
  ];

  it.each(cases)('%s', async (_case, line, path, code, message) => {
    const out = await ingestBytes(around(line));
    expect(out.problems.map((p) => p.problem_id)).toEqual(['p1', 'p3']);
    expect(out.rejects.map((r) => [r.item, r.path, r.code])).toEqual([['line 2', path, code]]);
    expect(out.rejects[0]!.message.replaceAll(outside, 'OUTSIDE').replaceAll(dir, 'DIR')).toBe(message);
  });

  it('takes the size cap from the options', async () => {
    const out = await ingestBytes(around(p2({ question: 'x'.repeat(101) })), { maxQuestionBytes: 100 });
    expect(out.rejects.map((r) => r.message)).toEqual([
      'line 2: question should be at most 100 bytes of UTF-8, got 101 bytes',
    ]);
  });

  it('accepts a symlink that stays inside the input folder, and a question of exactly the cap', async () => {
    const out = await ingestBytes(around(p2({ images: ['figs/alias.png'], question: 'é'.repeat(32_768) })));
    expect(out.rejects).toEqual([]);
    expect(out.problems.map((p) => [p.problem_id, p.images])).toEqual([
      ['p1', []],
      ['p2', [join(dir, 'figs', 'alias.png')]],
      ['p3', []],
    ]);
  });

  it('rejects a line of invalid UTF-8 by number instead of reading U+FFFD into it', async () => {
    const bad = Buffer.concat([
      Buffer.from(p2({}).slice(0, 30)),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(p2({}).slice(30)),
    ]);
    const out = await ingestBytes(
      Buffer.concat([Buffer.from(`${JSON.stringify(good)}\n`), bad, Buffer.from('\n{"x":1}\n')]),
    );
    expect(out.problems.map((p) => p.problem_id)).toEqual(['p1']);
    expect(out.rejects.map((r) => [r.item, r.code, r.message])).toEqual([
      ['line 2', 'invalid_utf8', 'line 2 is not valid UTF-8'],
      ['line 3', 'missing', 'line 3: problem_id is required (a non-empty string), got nothing'],
      ['line 3', 'missing', 'line 3: domain is required (one of math, physics, chemistry, other), got nothing'],
      ['line 3', 'missing', 'line 3: question is required (a non-empty string), got nothing'],
    ]);
  });

  it('reads CRLF line endings and a byte order mark as if they were not there', async () => {
    const lf = await ingestBytes([JSON.stringify(good), p2({}), ''].join('\n'));
    const crlf = await ingestBytes(`\ufeff${[JSON.stringify(good), p2({}), ''].join('\r\n')}`);
    expect(crlf.rejects).toEqual([]);
    expect(crlf.problems.map((p) => p.problem_id)).toEqual(['p1', 'p2']);
    expect(crlf.problems.map((p) => p.content_hash)).toEqual(lf.problems.map((p) => p.content_hash));
    expect(crlf.nodes).toEqual(lf.nodes);
  });
});
