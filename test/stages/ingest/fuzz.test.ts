/**
 * Seeded fuzz of ingest's streaming pieces: 10,000 mutated problem and path lines (fields
 * dropped, retyped, renamed; cycles, dangling and reserved ids; huge strings; truncated JSON;
 * invalid UTF-8). Every non-blank line must end as exactly one row or as rejects naming it,
 * and nothing may throw.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInput, validatedItems } from '../../../stages/ingest/ingest.ts';
import { crossCheck, type PathEntry, type ProblemEntry } from '../../../stages/ingest/cross.ts';
import { DEFAULT_INGEST_OPTIONS } from '../../../stages/ingest/validate.ts';
import type { Reject } from '../../../schemas/index.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';

const SEED = 20_251_205;
const ROWS = 5_000; // per file: problems and paths

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Obj = Record<string, unknown>;
const R = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(R() * xs.length)]!;
const chance = (p: number) => R() < p;

const WEIRD: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  '',
  ' ',
  'x',
  'F',
  'Q1 ',
  'Q\u0000',
  [],
  {},
  true,
  [1],
  { a: 1 },
  ['Q1'],
];
const IDS = ['Q1', 'Q2', 'Q3', 'Q99', 'F', ' Q1', 'Q2\t', 'Q\u0000', ''];
const IMAGES = ['figs/a.png', '../x.png', '/etc/passwd', 'figs/none.png', 'https://example.org/a.png', '', 'figs'];

function baseProblem(i: number): Obj {
  return {
    problem_id: `p${i % 1200}`, // some ids repeat: duplicates
    domain: pick(['math', 'physics', 'chemistry', 'other']),
    question: `Problem ${i}: what is ${i} + 1?`,
    answer: String(i + 1),
    answer_spec: { kind: pick(['number', 'quantity', 'expression']), tolerance: pick([null, 0, 0.01]), unit: null },
    ars: [
      { node_id: 'Q1', question: `What is ${i}?`, answer: String(i) },
      { node_id: 'Q2', question: 'What is one more?', depends_on: ['Q1'], answer: String(i + 1) },
    ],
  };
}

function basePath(i: number): Obj {
  const p: Obj = { problem_id: `p${Math.floor(R() * 1300)}` }; // some problems do not exist
  if (chance(0.5)) p.steps = [`${i} + 1 = ${i + 1}`];
  else p.text = `Step 1: ${i} + 1 = ${i + 1}\nFinal answer: ${i + 1}`;
  if (chance(0.3)) p.final_answer = String(i + 1);
  if (chance(0.3)) p.correct = chance(0.5);
  if (chance(0.2)) p.path_id = `path-${Math.floor(R() * 6000)}`; // some repeat
  if (chance(0.2)) p.model = 'm';
  return p;
}

/** Object-level mutations: every key of the row or of one of its ARS nodes is fair game. */
function mutate(o: Obj): void {
  const keys = Object.keys(o);
  const k = pick(keys.length ? keys : ['problem_id']);
  const ars = (Array.isArray(o.ars) ? o.ars : []).filter(
    (n): n is Obj => n !== null && typeof n === 'object' && !Array.isArray(n),
  );
  const node = ars.length ? pick(ars) : null;
  switch (Math.floor(R() * 14)) {
    case 0:
      delete o[k];
      break;
    case 1:
      o[k] = pick(WEIRD);
      break;
    case 2:
      o[`${k}_`] = o[k];
      delete o[k];
      break;
    case 3: // a cycle, or a self-loop
      if (node) node.depends_on = [pick(['Q1', 'Q2'])];
      if (ars[0]) ars[0].depends_on = ['Q2'];
      break;
    case 4:
      if (node) node.node_id = pick(IDS);
      break;
    case 5:
      if (node) node.depends_on = [pick(IDS)];
      break;
    case 6:
      o.question = chance(0.5) ? 'x'.repeat(65_537) : 'é'.repeat(40_000);
      break;
    case 7:
      o.images = [pick(IMAGES)];
      break;
    case 8:
      o.answer_spec = { kind: 'number', tolerance: pick([-1, -0.001, 'a', null]), unit: null };
      break;
    case 9:
      if (node) node[pick(['question', 'answer', 'answer_spec', 'uses_image'])] = pick(WEIRD);
      break;
    case 10:
      o.problem_id = pick(['p1', ' p1', 'p1 ', 'p\u0007', '', 42]);
      break;
    case 11:
      o.steps = pick([[], ['a', 2], 'a', ['x'.repeat(200_000)], null]);
      break;
    case 12:
      o.text = pick(['', '   ', 'Final answer: 5', 42]);
      break;
    case 13:
      o.ars = pick([
        [],
        'Q1',
        [{}],
        [{ node_id: 'Q1' }],
        Array.from({ length: 40 }, (_, j) => ({ node_id: `Q${j}`, question: 'q', depends_on: [`Q${j + 1}`] })),
      ]);
      break;
  }
}

const BAD_BYTES = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];

/** Byte-level mutations of the serialised line; never a `\n`, so each row stays one line. */
function serialise(o: Obj): Buffer {
  let text = JSON.stringify(o);
  if (chance(0.03)) text = pick(['42', '"a string"', '[1,2]', 'null', 'true', '{}']);
  if (chance(0.01)) text = `{"deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  if (chance(0.08)) text = text.slice(0, Math.floor(R() * text.length));
  if (chance(0.03)) text = ` \t${text}\r`;
  let bytes = Buffer.from(text);
  if (chance(0.06)) {
    const at = Math.floor(R() * (bytes.length + 1));
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(BAD_BYTES)), bytes.subarray(at)]);
  }
  return bytes;
}

function fuzzFile(make: (i: number) => Obj): Buffer {
  const lines: Buffer[] = [];
  for (let i = 0; i < ROWS; i++) {
    const o = make(i);
    if (!chance(0.15)) for (let m = 1 + Math.floor(R() * 3); m > 0; m--) mutate(o);
    lines.push(serialise(o), Buffer.from('\n'));
  }
  return Buffer.concat(lines);
}

/** The lines the reader sees as items: 1-based numbers of the non-blank ones. */
function itemLines(bytes: Buffer): number[] {
  const out: number[] = [];
  bytes
    .toString('latin1')
    .split('\n')
    .forEach((l, i) => {
      if (l.replace(/\r$/, '').trim() !== '') out.push(i + 1);
    });
  return out;
}

let dir: string;
let problemBytes: Buffer;
let pathBytes: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-fuzz-'));
  await mkdir(join(dir, 'figs'));
  await writeFile(join(dir, 'figs', 'a.png'), 'png');
  problemBytes = fuzzFile(baseProblem);
  pathBytes = fuzzFile(basePath);
  await writeFile(join(dir, 'problems.jsonl'), problemBytes);
  await writeFile(join(dir, 'paths.jsonl'), pathBytes);
});

describe(`ingest fuzz (seed ${SEED}, ${2 * ROWS} mutated rows)`, () => {
  it('ends every line as exactly one row or as rejects naming it, and never throws', async () => {
    const files = nodeFiles();
    const memo = new Map<string, Promise<unknown>>();
    const problems: ProblemEntry[] = [];
    const paths: PathEntry[] = [];
    const rejects: Reject[] = [];
    for (const [file, format] of [
      ['problems.jsonl', 'jsonl'],
      ['paths.jsonl', 'paths-jsonl'],
    ] as const) {
      const input = openInput({ path: join(dir, file), format }, files, memo);
      for await (const it of validatedItems(input, DEFAULT_INGEST_OPTIONS, files)) {
        if (it.kind === 'reject') rejects.push(it.reject);
        else if (it.kind === 'problem') problems.push(it.entry);
        else paths.push(it.entry);
      }
    }
    const checked = crossCheck(problems, paths);
    for (const r of checked.rejects) rejects.push(r);

    const outcomes = new Map<string, { rows: number; rejects: number }>();
    const at = (source: string, item: string) => {
      const key = `${source} ${item}`;
      const o = outcomes.get(key) ?? { rows: 0, rejects: 0 };
      outcomes.set(key, o);
      return o;
    };
    const kept = new Set<object>([...checked.problems, ...checked.paths]);
    for (const e of problems) if (kept.has(e.problem)) at(e.source, e.item).rows++;
    for (const e of paths) if (kept.has(e.path)) at(e.source, e.item).rows++;
    for (const r of rejects) at(r.source, r.item).rejects++;

    const expected = [
      ...itemLines(problemBytes).map((n) => `problems.jsonl line ${n}`),
      ...itemLines(pathBytes).map((n) => `paths.jsonl line ${n}`),
    ];
    expect(expected.length).toBeGreaterThan(2 * ROWS * 0.95);
    const wrong = expected.filter((k) => {
      const o = outcomes.get(k);
      return o === undefined || o.rows + (o.rejects > 0 ? 1 : 0) !== 1;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    const lines = new Set(expected);
    expect([...outcomes.keys()].filter((k) => !lines.has(k))).toEqual([]);
    // Each reject says what it is about: a code, and a message that names its item.
    expect(
      rejects.filter(
        (r) => r.code === '' || (!r.message.startsWith(`${r.item} `) && !r.message.startsWith(`${r.item}:`)),
      ),
    ).toEqual([]);
    // The mutations reach every kind of refusal, and valid rows still get through.
    const codes = new Set(rejects.map((r) => r.code));
    for (const c of [
      'invalid_json',
      'invalid_utf8',
      'invalid_type',
      'missing',
      'invalid_value',
      'invalid_ars',
      'invalid_reference',
      'invalid_path',
      'too_big',
      'duplicate',
    ])
      expect(codes, c).toContain(c);
    expect(checked.problems.length).toBeGreaterThan(500);
    expect(checked.paths.length).toBeGreaterThan(500);
  }, 120_000);
});
