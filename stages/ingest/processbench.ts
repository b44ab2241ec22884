/**
 * @module stages/ingest/processbench
 * ProcessBench (GSM8K half) as imported free paths: steps as given, `given_correct` =
 * `final_answer_correct`. Each problem is matched by question text to a GSM8K socratic problem,
 * whose ARS it uses. The step labels are kept apart (`processbenchTruth`) so that nothing on
 * the scoring side can read them.
 */
import type { Reject } from '../../schemas/index.ts';
import type { FilesPort } from '../lib/ports.ts';
import { ingestReject, type Adapter } from './adapter.ts';
import { findSocratic, normaliseQuestion, socraticIndex } from './gsm8k.ts';

/** One ProcessBench row as published. */
export interface ProcessbenchRow {
  id: string;
  generator: string;
  problem: string;
  steps: string[];
  final_answer_correct: boolean;
  label: number;
}

/**
 * Reads and checks a ProcessBench JSON array; a bad row (or a file that is not a JSON array)
 * becomes a reject. Rows are `row i`, 0-based as in the array; `index` is that i. ProcessBench
 * publishes arrays of at most a few thousand rows, read whole (`files.text`).
 */
export async function readProcessbench(
  file: string,
  files: FilesPort,
): Promise<{ rows: (ProcessbenchRow & { index: number })[]; rejects: Reject[] }> {
  let data: unknown;
  try {
    data = JSON.parse(await files.text(file));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return {
      rows: [],
      rejects: [ingestReject(file, 'file', 'invalid_json', '', `${file} is not valid JSON: ${e.message}`, undefined)],
    };
  }
  if (!Array.isArray(data))
    return {
      rows: [],
      rejects: [
        ingestReject(
          file,
          'file',
          'invalid_type',
          '',
          `${file} should be a JSON array of rows, got ${typeof data}`,
          undefined,
        ),
      ],
    };
  const rows: (ProcessbenchRow & { index: number })[] = [];
  const rejects: Reject[] = [];
  for (const [index, v] of (data as unknown[]).entries()) {
    const item = `row ${index}`;
    const r = (v !== null && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    const bad = (path: string, expected: string) => {
      const got = r[path];
      const code = got === undefined ? 'missing' : 'invalid_type';
      const desc = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 40);
      rejects.push(
        ingestReject(file, item, code, path, `${item} of ${file}: ${path} should be ${expected}, got ${desc}`, v),
      );
    };
    if (typeof r.id !== 'string' || r.id === '') bad('id', 'a non-empty string');
    else if (typeof r.problem !== 'string' || r.problem.trim() === '') bad('problem', 'a non-empty string');
    else if (!Array.isArray(r.steps) || !r.steps.every((s) => typeof s === 'string')) bad('steps', 'a list of strings');
    else if (typeof r.final_answer_correct !== 'boolean') bad('final_answer_correct', 'true or false');
    else if (!Number.isInteger(r.label) || (r.label as number) < -1) bad('label', 'an integer >= -1');
    else
      rows.push({
        id: r.id,
        generator: typeof r.generator === 'string' ? r.generator : '',
        problem: r.problem,
        steps: r.steps as string[],
        final_answer_correct: r.final_answer_correct,
        label: r.label as number,
        index,
      });
  }
  return { rows, rejects };
}

/** ProcessBench's truth per row id, for evaluation only: `label` (earliest wrong step, -1 = none) and `final_answer_correct`. */
export async function processbenchTruth(
  file: string,
  files: FilesPort,
): Promise<Map<string, { label: number; final_answer_correct: boolean }>> {
  const { rows } = await readProcessbench(file, files);
  return new Map(rows.map((r) => [r.id, { label: r.label, final_answer_correct: r.final_answer_correct }]));
}

/**
 * Adapter for a ProcessBench file whose problems take their ARS from the socratic file `ars`
 * (indexed once per run): each matched problem is yielded once per file, before its first path.
 */
export function processbenchWith(ars: string): Adapter {
  return async function* (file, ctx) {
    const index = await socraticIndex(ars, ctx);
    const { rows, rejects } = await readProcessbench(file, ctx.files);
    for (const reject of rejects) yield { kind: 'reject', reject };
    const yielded = new Set<string>();
    for (const r of rows) {
      const item = `row ${r.index}`;
      const p = index.get(normaliseQuestion(r.problem));
      if (!p) {
        const message = `${item} of ${file}: problem matches no GSM8K problem in ${ars}, got ${JSON.stringify(r.problem.slice(0, 40))}`;
        yield { kind: 'reject', reject: ingestReject(file, item, 'invalid_reference', 'problem', message, r) };
        continue;
      }
      const problem_id = p.value.problem_id;
      if (!yielded.has(problem_id)) {
        yielded.add(problem_id);
        yield { kind: 'problem', item: p.item, value: p.value };
      }
      const model = r.generator === '' ? {} : { model: r.generator };
      const value = {
        problem_id,
        path_id: r.id,
        sample_index: 0,
        ...model,
        steps: r.steps,
        correct: r.final_answer_correct,
      };
      yield { kind: 'path', item, value };
    }
  };
}

/** Adapter for ProcessBench with the socratic file found beside it (see `findSocratic`). */
export const processbench: Adapter = async function* (file, ctx) {
  const ars = await findSocratic(file, ctx.files);
  if (ars !== null) {
    yield* processbenchWith(ars)(file, ctx);
    return;
  }
  const message = `${file}: no GSM8K test_socratic.jsonl found beside it or in ../gsm8k/ (set TRACEPIPE_GSM8K_SOCRATIC) to take the ARS from`;
  yield { kind: 'reject', reject: ingestReject(file, 'file', 'invalid_reference', '', message, undefined) };
};
