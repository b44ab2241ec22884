/**
 * @module stages/ingest/processbench
 * ProcessBench (GSM8K half) as imported free paths: steps as given, `given_correct` =
 * `final_answer_correct`. Each problem is matched by question text to a GSM8K socratic problem,
 * whose ARS it uses. The step labels are kept apart (`processbenchTruth`) so that nothing on
 * the scoring side can read them.
 */
import { readFile } from 'node:fs/promises';
import type { PathRow, Reject } from '../../schemas/index.ts';
import type { Adapter, AdapterOutput, RawItem } from './adapter.ts';
import { findSocratic, gsm8kSocratic, normaliseQuestion } from './gsm8k.ts';

/** One ProcessBench row as published. */
export interface ProcessbenchRow {
  id: string;
  generator: string;
  problem: string;
  steps: string[];
  final_answer_correct: boolean;
  label: number;
}

const reject = (source: string, item: string, code: string, path: string, message: string, raw: unknown): Reject => ({
  stage: 'ingest',
  source,
  item,
  code,
  path,
  message,
  raw: raw === undefined ? null : JSON.stringify(raw).slice(0, 4096),
});

/** Reads and checks a ProcessBench JSON array; a bad row (or a file that is not a JSON array) becomes a reject. */
export async function readProcessbench(file: string): Promise<{ rows: ProcessbenchRow[]; rejects: Reject[] }> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    return {
      rows: [],
      rejects: [
        reject(file, 'file', 'invalid_json', '', `${file} is not valid JSON: ${(e as Error).message}`, undefined),
      ],
    };
  }
  if (!Array.isArray(data))
    return {
      rows: [],
      rejects: [
        reject(
          file,
          'file',
          'invalid_type',
          '',
          `${file} should be a JSON array of rows, got ${typeof data}`,
          undefined,
        ),
      ],
    };
  const rows: ProcessbenchRow[] = [];
  const rejects: Reject[] = [];
  data.forEach((v: unknown, i) => {
    const item = `row ${i}`;
    const r = (v ?? {}) as Record<string, unknown>;
    const bad = (path: string, expected: string) => {
      const got = r[path];
      rejects.push(
        reject(
          file,
          item,
          got === undefined ? 'missing' : 'invalid_type',
          path,
          `${item} of ${file}: ${path} should be ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 40)}`,
          v,
        ),
      );
    };
    if (typeof r.id !== 'string' || r.id === '') return bad('id', 'a non-empty string');
    if (typeof r.problem !== 'string' || r.problem.trim() === '') return bad('problem', 'a non-empty string');
    if (!Array.isArray(r.steps) || !r.steps.every((s) => typeof s === 'string'))
      return bad('steps', 'a list of strings');
    if (typeof r.final_answer_correct !== 'boolean') return bad('final_answer_correct', 'true or false');
    if (!Number.isInteger(r.label) || (r.label as number) < -1) return bad('label', 'an integer >= -1');
    rows.push({
      id: r.id,
      generator: typeof r.generator === 'string' ? r.generator : '',
      problem: r.problem,
      steps: r.steps as string[],
      final_answer_correct: r.final_answer_correct,
      label: r.label as number,
    });
  });
  return { rows, rejects };
}

/** ProcessBench's truth per row id, for evaluation only: `label` (earliest wrong step, -1 = none) and `final_answer_correct`. */
export async function processbenchTruth(
  file: string,
): Promise<Map<string, { label: number; final_answer_correct: boolean }>> {
  const { rows } = await readProcessbench(file);
  return new Map(rows.map((r) => [r.id, { label: r.label, final_answer_correct: r.final_answer_correct }]));
}

/** Adapter for a ProcessBench file whose problems take their ARS from the socratic file `ars`. */
export function processbenchWith(ars: string): Adapter {
  return async (file) => {
    const soc = await gsm8kSocratic(ars);
    const byQuestion = new Map<string, RawItem>();
    for (const p of soc.problems) {
      const q = (p.value as { question?: unknown }).question;
      if (typeof q === 'string' && !byQuestion.has(normaliseQuestion(q))) byQuestion.set(normaliseQuestion(q), p);
    }
    const { rows, rejects } = await readProcessbench(file);
    const problems = new Map<string, RawItem>();
    const paths: Omit<PathRow, 'run_id'>[] = [];
    rows.forEach((r, i) => {
      const p = byQuestion.get(normaliseQuestion(r.problem));
      if (!p) {
        rejects.push(
          reject(
            file,
            `row ${i}`,
            'invalid_reference',
            'problem',
            `row ${i} of ${file}: problem matches no GSM8K problem in ${ars}, got ${JSON.stringify(r.problem.slice(0, 40))}`,
            r,
          ),
        );
        return;
      }
      const problemId = (p.value as { problem_id: string }).problem_id;
      problems.set(problemId, p);
      paths.push({
        problem_id: problemId,
        path_id: r.id,
        mode: 'free',
        sample_index: 0,
        model: r.generator,
        steps: r.steps,
        node_answers: [],
        final_answer: null,
        given_correct: r.final_answer_correct,
        finish_reason: null,
        tokens_in: 0,
        tokens_out: 0,
      });
    });
    return { problems: [...problems.values()], paths, rejects: [...soc.rejects, ...rejects] } satisfies AdapterOutput;
  };
}

/** Adapter for ProcessBench with the socratic file found beside it (see `findSocratic`). */
export const processbench: Adapter = async (file) => {
  const ars = findSocratic(file);
  if (ars === null) {
    return {
      problems: [],
      paths: [],
      rejects: [
        reject(
          file,
          'file',
          'invalid_reference',
          '',
          `${file}: no GSM8K test_socratic.jsonl found beside it or in ../gsm8k/ (set TRACEPIPE_GSM8K_SOCRATIC) to take the ARS from`,
          undefined,
        ),
      ],
    };
  }
  return processbenchWith(ars)(file);
};
