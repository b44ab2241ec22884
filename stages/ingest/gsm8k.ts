/**
 * @module stages/ingest/gsm8k
 * GSM8K adapters, streamed: the socratic test set as problems with a real ARS (`socratic.ts`),
 * and the GPT-3 example solutions as imported free paths matched to those problems by question
 * text, through an index of the socratic file built once per run (`socraticIndex`).
 */
import { basename, dirname, join, resolve } from 'node:path';
import type { Reject } from '../../schemas/index.ts';
import type { FilesPort } from '../lib/ports.ts';
import { ingestReject, jsonLines, type Adapter, type AdapterContext, type InputItem } from './adapter.ts';
import { socraticArs } from './socratic.ts';

/** The four solution keys of `example_model_solutions.jsonl`, in `sample_index` order. */
export const GSM8K_SOLUTION_KEYS = [
  '6b_finetuning',
  '6b_verification',
  '175b_finetuning',
  '175b_verification',
] as const;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The JSON objects of a JSONL file with their 1-based line; a line that is no UTF-8, JSON or object becomes a reject naming `line N of FILE`. */
async function* objectLines(
  file: string,
  ctx: AdapterContext,
): AsyncIterable<{ line: number; item: string; value: Obj } | { reject: Reject }> {
  for await (const l of jsonLines(file, ctx, (n) => `line ${n} of ${file}`)) {
    if ('reject' in l) yield l;
    else if (isObject(l.value)) yield { line: l.line, item: l.item, value: l.value };
    else
      yield {
        reject: ingestReject(
          ctx.source,
          l.item,
          'invalid_type',
          '',
          `line ${l.line} of ${file} should be a JSON object, got ${Array.isArray(l.value) ? 'an array' : typeof l.value}`,
          l.value,
        ),
      };
  }
}

/** Every JSON object of a JSONL file with its line number, and the rejects; collects the whole file (for evals). */
export async function readJsonl(
  file: string,
  files: FilesPort,
): Promise<{ rows: { line: number; value: Obj }[]; rejects: Reject[] }> {
  const out: { rows: { line: number; value: Obj }[]; rejects: Reject[] } = { rows: [], rejects: [] };
  for await (const l of objectLines(file, { files, source: basename(file), memo: new Map() })) {
    if ('reject' in l) out.rejects.push(l.reject);
    else out.rows.push({ line: l.line, value: l.value });
  }
  return out;
}

/** Question text reduced to lowercase letters and digits, so the same problem matches across files. */
export function normaliseQuestion(q: string): string {
  return q
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Adapter for `test_socratic.jsonl`: problems `gsm8k-test-<0-based line>` with their ARS. */
export const gsm8kSocratic: Adapter = async function* (file, ctx) {
  for await (const l of objectLines(file, ctx)) {
    if ('reject' in l) {
      yield { kind: 'reject', reject: l.reject };
      continue;
    }
    const { question, answer } = l.value;
    if (typeof answer !== 'string') {
      const got = answer === undefined ? 'nothing' : typeof answer;
      const message = `line ${l.line} of ${file}: answer should be a string, got ${got}`;
      const code = answer === undefined ? 'missing' : 'invalid_type';
      yield { kind: 'reject', reject: ingestReject(ctx.source, l.item, code, 'answer', message, l.value) };
      continue;
    }
    const { ars, final } = socraticArs(answer);
    const spec = { kind: 'number', tolerance: null, unit: null };
    yield {
      kind: 'problem',
      item: l.item,
      value: {
        problem_id: `gsm8k-test-${l.line - 1}`,
        domain: 'math',
        question,
        answer: final,
        answer_spec: spec,
        ars: ars.map((n) => ({ ...n, answer_spec: spec })),
      },
    };
  }
};

/** A socratic problem as read (its item and raw value), by normalised question; the first of a repeated question wins. */
export type SocraticIndex = ReadonlyMap<string, { item: string; value: { problem_id: string } & Obj }>;

/**
 * The socratic file indexed by question, built once per run (`ctx.memo`) however many path files
 * match against it. Memory: the file's problems (1,319 for GSM8K's test set). Its bad lines are
 * not reported here: the rows they fail to match are.
 */
export function socraticIndex(file: string, ctx: AdapterContext): Promise<SocraticIndex> {
  const key = `gsm8k-socratic-index\u0000${resolve(file)}`;
  const hit = ctx.memo.get(key) as Promise<SocraticIndex> | undefined;
  if (hit) return hit;
  const built = (async () => {
    const index = new Map<string, { item: string; value: { problem_id: string } & Obj }>();
    for await (const it of gsm8kSocratic(file, { ...ctx, source: basename(file) })) {
      if (it.kind !== 'problem') continue;
      const v = it.value as { problem_id: string; question?: unknown } & Obj;
      if (typeof v.question !== 'string') continue;
      const q = normaliseQuestion(v.question);
      if (!index.has(q)) index.set(q, { item: it.item, value: v });
    }
    return index;
  })();
  ctx.memo.set(key, built);
  return built;
}

/** Map from normalised question text to problem id, from socratic problem items. */
export function problemIdsByQuestion(problems: readonly { value: unknown }[]): Map<string, string> {
  const ids = new Map<string, string>();
  for (const p of problems) {
    const v = p.value as { problem_id?: unknown; question?: unknown };
    if (typeof v.question === 'string' && typeof v.problem_id === 'string' && !ids.has(normaliseQuestion(v.question)))
      ids.set(normaliseQuestion(v.question), v.problem_id);
  }
  return ids;
}

/** Cuts a GSM8K solution into steps, taking the `A: N` line as the final answer. */
export function splitSolution(solution: string): { steps: string[]; final_answer: string | null } {
  const lines = solution
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1);
  const m = last === undefined ? null : /^A:\s*(.*)$/.exec(last);
  if (m) return { steps: lines.slice(0, -1), final_answer: m[1]!.trim() || null };
  return { steps: lines, final_answer: null };
}

/**
 * The socratic file a solutions or ProcessBench file is matched against: `$TRACEPIPE_GSM8K_SOCRATIC`,
 * else `test_socratic.jsonl` beside the file or in `../gsm8k/`; null when none exists.
 */
export async function findSocratic(file: string, files: FilesPort): Promise<string | null> {
  const dir = dirname(resolve(file));
  const candidates = [
    process.env.TRACEPIPE_GSM8K_SOCRATIC,
    join(dir, 'test_socratic.jsonl'),
    join(dir, '..', 'gsm8k', 'test_socratic.jsonl'),
  ];
  for (const c of candidates) if (c !== undefined && c !== '' && (await files.realpath(c)) !== null) return c;
  return null;
}

/** Adapter for `example_model_solutions.jsonl`, matched to the socratic file found by `findSocratic`. */
export const gsm8kSolutions: Adapter = (file, ctx) =>
  solutions(file, ctx, async () => {
    const socratic = await findSocratic(file, ctx.files);
    return socratic === null ? new Map() : idsOf(await socraticIndex(socratic, ctx));
  });

/** Adapter for `example_model_solutions.jsonl` matched to the socratic file `socratic` (indexed once per run). */
export const gsm8kSolutionsFrom =
  (socratic: string): Adapter =>
  (file, ctx) =>
    solutions(file, ctx, async () => idsOf(await socraticIndex(socratic, ctx)));

/** Adapter for `example_model_solutions.jsonl`; `ids` maps normalised question text to problem id. */
export const gsm8kSolutionsWith =
  (ids: ReadonlyMap<string, string>): Adapter =>
  (file, ctx) =>
    solutions(file, ctx, async () => ids);

const idsOf = (index: SocraticIndex): ReadonlyMap<string, string> => {
  const ids = new Map<string, string>();
  for (const [q, p] of index) ids.set(q, p.value.problem_id);
  return ids;
};

/** Four paths per line (`GSM8K_SOLUTION_KEYS`), each `<problem_id>/<key>` with `is_correct` as its label. */
async function* solutions(
  file: string,
  ctx: AdapterContext,
  ids: () => Promise<ReadonlyMap<string, string>>,
): AsyncIterable<InputItem> {
  const byQuestion = await ids();
  for await (const l of objectLines(file, ctx)) {
    if ('reject' in l) {
      yield { kind: 'reject', reject: l.reject };
      continue;
    }
    const reject = (code: string, path: string, message: string): InputItem => ({
      kind: 'reject',
      reject: ingestReject(ctx.source, l.item, code, path, `line ${l.line} of ${file}: ${message}`, l.value),
    });
    const q = l.value.question;
    const problemId = typeof q === 'string' ? byQuestion.get(normaliseQuestion(q)) : undefined;
    if (problemId === undefined) {
      const got = typeof q === 'string' ? JSON.stringify(q.slice(0, 40)) : 'nothing';
      yield reject('invalid_reference', 'question', `question matches no GSM8K problem, got ${got}`);
      continue;
    }
    for (const [k, key] of GSM8K_SOLUTION_KEYS.entries()) {
      const sol = l.value[key] as { is_correct?: unknown; solution?: unknown } | undefined;
      if (!sol || typeof sol.solution !== 'string') {
        const got = sol === undefined ? 'nothing' : typeof sol.solution;
        yield reject('missing', `${key}.solution`, `${key}.solution should be a string, got ${got}`);
        continue;
      }
      const { steps, final_answer } = splitSolution(sol.solution);
      yield {
        kind: 'path',
        item: l.item,
        value: {
          problem_id: problemId,
          path_id: `${problemId}/${key}`,
          sample_index: k,
          model: key,
          steps,
          final_answer,
          correct: typeof sol.is_correct === 'boolean' ? sol.is_correct : null,
        },
      };
    }
  }
}
