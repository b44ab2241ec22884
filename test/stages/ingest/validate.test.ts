/** The per-row pieces a sharded engine calls: validateProblem, validatePath, crossCheck, with a fake files port. */
import { describe, it, expect } from 'vitest';
import { validateProblem, DEFAULT_INGEST_OPTIONS as OPTS } from '../../../stages/ingest/validate.ts';
import { validatePath } from '../../../stages/ingest/paths.ts';
import { crossCheck, type PathEntry, type ProblemEntry } from '../../../stages/ingest/cross.ts';
import type { FilesPort } from '../../../stages/lib/ports.ts';

/** No disk: `realpath` answers from a table, everything else is never read by validation. */
const fakeFiles = (real: Record<string, string>): FilesPort => ({
  lines: () => {
    throw new Error('validation reads no file');
  },
  parquetRows: () => {
    throw new Error('validation reads no file');
  },
  text: () => Promise.reject(new Error('validation reads no file')),
  realpath: async (f) => real[f] ?? null,
});
const files = fakeFiles({ '/in': '/in', '/in/a.png': '/in/a.png', '/in/link.png': '/etc/secret.png' });
const at = { source: 'in.jsonl', item: 'line 3', root: '/in' };
const problem = {
  problem_id: 'p1',
  domain: 'math',
  question: 'What is 2 + 3, doubled?',
  answer: '10',
  ars: [
    { node_id: 'Q1', question: 'What is 2 + 3?', answer: '5' },
    { node_id: 'Q2', question: 'Doubled?', depends_on: ['Q1'], answer: '10' },
  ],
};

describe('validateProblem', () => {
  it('returns the problem and its ARS, with a content hash of the content only', async () => {
    const r = await validateProblem(problem, at, OPTS, files);
    if (!r.ok) throw new Error(JSON.stringify(r.rejects));
    expect(r.problem).toMatchObject({ problem_id: 'p1', source: 'in.jsonl line 3', answer_spec: { kind: 'number' } });
    expect(r.nodes.map((n) => n.node_id)).toEqual(['Q1', 'Q2', 'F']);
    const hash = async (raw: unknown, where = at) => {
      const x = await validateProblem(raw, where, OPTS, files);
      return x.ok ? x.problem.content_hash : null;
    };
    const reordered = { ars: problem.ars, answer: '10', question: problem.question, domain: 'math', problem_id: 'p1' };
    expect(await hash(reordered)).toBe(r.problem.content_hash);
    expect(await hash(problem, { source: 'moved.jsonl', item: 'line 9', root: '/in' })).toBe(r.problem.content_hash);
    expect(await hash({ ...problem, question: 'What is 2 + 3, tripled?' })).not.toBe(r.problem.content_hash);
    const arsChanged = { ...problem, ars: [problem.ars[0], { ...problem.ars[1], answer: '11' }] };
    expect(await hash(arsChanged)).not.toBe(r.problem.content_hash);
  });

  it('resolves images through the port, refusing a link that leaves the input folder', async () => {
    const ok = await validateProblem({ ...problem, images: ['a.png'] }, at, OPTS, files);
    expect(ok.ok && ok.problem.images).toEqual(['/in/a.png']);
    const bad = await validateProblem({ ...problem, images: ['link.png'] }, at, OPTS, files);
    expect(!bad.ok && bad.rejects.map((r) => [r.item, r.path, r.code, r.message])).toEqual([
      [
        'line 3',
        'images.0',
        'invalid_path',
        'line 3: images.0 "link.png" is a link to /etc/secret.png, outside the input folder /in',
      ],
    ]);
  });

  it('reports every content problem of a row at once', async () => {
    const raw = {
      ...problem,
      problem_id: 'p1 ',
      answer_spec: { kind: 'number', tolerance: -1 },
      ars: [{ node_id: 'F', question: 'x' }],
    };
    const r = await validateProblem(raw, at, OPTS, files);
    expect(!r.ok && r.rejects.map((x) => x.path)).toEqual(['problem_id', 'answer_spec.tolerance', 'ars.0.node_id']);
  });
});

describe('validatePath', () => {
  const where = { source: 'paths.jsonl', item: 'line 7' };
  it('returns the path and a content hash that follows what scoring reads', () => {
    const raw = { problem_id: 'p1', path_id: 'p1/0', steps: ['2 + 3 = 5', '5 * 2 = 10'], final_answer: '10' };
    const a = validatePath(raw, where, OPTS);
    const b = validatePath({ ...raw, steps: ['2 + 3 = 5', '5 * 2 = 11'] }, where, OPTS);
    if (!a.ok || !b.ok) throw new Error('expected valid paths');
    expect(a.path).toMatchObject({
      problem_id: 'p1',
      path_id: 'p1/0',
      mode: 'free',
      model: 'imported',
      given_correct: null,
    });
    expect(validatePath(raw, { source: 'other.jsonl', item: 'line 1' }, OPTS)).toEqual(a);
    expect(a.content_hash).not.toBe(b.content_hash);
  });

  it('names the item and the field of each problem', () => {
    const r = validatePath({ problem_id: 'p1', path_id: 7, steps: ['x'], correct: 1 }, where, OPTS);
    expect(!r.ok && r.rejects.map((x) => [x.source, x.item, x.path, x.message])).toEqual([
      ['paths.jsonl', 'line 7', 'path_id', 'line 7: path_id should be a non-empty string, got 7'],
      ['paths.jsonl', 'line 7', 'correct', 'line 7: correct should be true or false, got 1'],
    ]);
  });
});

describe('crossCheck (one shard)', () => {
  const entry = async (raw: typeof problem, item: string): Promise<ProblemEntry> => {
    const r = await validateProblem(raw, { ...at, item }, OPTS, files);
    if (!r.ok) throw new Error(JSON.stringify(r.rejects));
    return { source: 'in.jsonl', item, problem: r.problem, nodes: r.nodes };
  };
  const path = (problem_id: string, path_id: string, item: string): PathEntry => {
    const r = validatePath({ problem_id, path_id, steps: ['x'] }, { source: 'paths.jsonl', item }, OPTS);
    if (!r.ok) throw new Error(JSON.stringify(r.rejects));
    return { source: 'paths.jsonl', item, path: r.path };
  };

  it('keeps the first of a repeated problem id (with its nodes only), and checks each path against the problems', async () => {
    const first = await entry(problem, 'line 1');
    const again = await entry({ ...problem, ars: [{ node_id: 'Q1', question: 'Other?', answer: '5' }] }, 'line 2');
    const other = await entry({ ...problem, problem_id: 'p2' }, 'line 3');
    const out = crossCheck(
      [first, again, other],
      [path('p1', 'a', 'line 1'), path('p9', 'b', 'line 2'), path('p2', 'a', 'line 3'), path('p2', 'c', 'line 4')],
    );
    expect(out.problems.map((p) => p.problem_id)).toEqual(['p1', 'p2']);
    expect(out.nodes.map((n) => `${n.problem_id}:${n.node_id}:${n.question}`)).toEqual([
      'p1:Q1:What is 2 + 3?',
      'p1:Q2:Doubled?',
      `p1:F:${problem.question}`,
      'p2:Q1:What is 2 + 3?',
      'p2:Q2:Doubled?',
      `p2:F:${problem.question}`,
    ]);
    expect(out.paths.map((p) => p.path_id)).toEqual(['a', 'c']);
    expect(out.rejects.map((r) => [r.source, r.item, r.code, r.message])).toEqual([
      ['in.jsonl', 'line 2', 'duplicate', 'line 2: problem_id "p1" repeats in.jsonl line 1'],
      ['paths.jsonl', 'line 2', 'invalid_reference', 'line 2: path b refers to problem p9, which was not ingested'],
      ['paths.jsonl', 'line 3', 'duplicate', 'line 3: path a appears twice (first at paths.jsonl line 1)'],
    ]);
  });
});
