/**
 * @module stages/ingest/gsm8k
 * GSM8K adapters: the socratic test set as problems with a real ARS (one node per
 * `sub-question ** step` line, gold answers from the calculator annotations), and the
 * GPT-3 example solutions as imported free paths matched to those problems by question text.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PathRow, Reject } from '../../schemas/index.ts';
import type { Adapter, AdapterOutput, RawItem } from './adapter.ts';
import { evaluate, sameValue, normaliseMath } from '../align/arith.ts';

/** The four solution keys of `example_model_solutions.jsonl`, in `sample_index` order. */
export const GSM8K_SOLUTION_KEYS = [
  '6b_finetuning',
  '6b_verification',
  '175b_finetuning',
  '175b_verification',
] as const;

const STAGE = 'ingest';
const cut = (s: string) => (s.length > 4096 ? s.slice(0, 4096) : s);

/** A reject row for one input line. */
export function lineReject(
  source: string,
  line: number,
  code: string,
  path: string,
  message: string,
  raw: string | null,
): Reject {
  return { stage: STAGE, source, item: `line ${line}`, code, path, message, raw: raw === null ? null : cut(raw) };
}

/** Parses a JSONL file into objects with their 1-based line number; a malformed line becomes a reject. */
export async function readJsonl(
  file: string,
): Promise<{ rows: { line: number; value: Record<string, unknown> }[]; rejects: Reject[] }> {
  const text = await readFile(file, 'utf8');
  const rows: { line: number; value: Record<string, unknown> }[] = [];
  const rejects: Reject[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const line = i + 1;
    try {
      const v: unknown = JSON.parse(raw);
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        rejects.push(
          lineReject(
            file,
            line,
            'invalid_type',
            '',
            `line ${line} of ${file} should be a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}`,
            raw,
          ),
        );
      else rows.push({ line, value: v as Record<string, unknown> });
    } catch (e) {
      rejects.push(
        lineReject(
          file,
          line,
          'invalid_json',
          '',
          `line ${line} of ${file} is not valid JSON: ${(e as Error).message}`,
          raw,
        ),
      );
    }
  });
  return { rows, rejects };
}

/** Question text reduced to lowercase letters and digits, so the same problem matches across files. */
export function normaliseQuestion(q: string): string {
  return q
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const fmt = (n: number) => String(Number(n.toPrecision(12)));

/** A single letter standing for an unknown: next to a digit (`2x`) or to an operator (`x + 30`, `x=`). */
const UNKNOWN =
  /(?:\d|[+\-*/^=(]\s*)(?<![A-Za-z])[A-Za-z](?![A-Za-z'’])|(?<![A-Za-z'’])[A-Za-z](?![A-Za-z])(?=\s*[+\-*/^=)]|\d)/;

/**
 * Whether a line with no calculator note states an equation in an unknown rather than a value:
 * the clause before its last "=" (the whole line when it has none) contains an unknown that is
 * not alone ("3x + 4 = 28", "2*x=80", "Gretchen has x+30 coins"). "x = 18" states a value.
 */
export function statesEquation(text: string): boolean {
  const eq = text.lastIndexOf('=');
  const clause =
    eq >= 0
      ? text
          .slice(text.lastIndexOf('=', eq - 1) + 1, eq)
          .split(/[,;:.](?!\d)/)
          .at(-1)!
      : text;
  if (eq >= 0 && /^\s*[A-Za-z]\s*$/.test(clause)) return false;
  return UNKNOWN.test(clause);
}

/** One socratic line read as an ARS step: sub-question, gold value, and the operands its computation used; no value for an equation in an unknown (`statesEquation`). */
export function parseSocraticLine(line: string): { question: string; value: number | null; operands: number[] } {
  const star = line.indexOf(' ** ');
  const question = (star >= 0 ? line.slice(0, star) : '').trim();
  const body = star >= 0 ? line.slice(star + 4) : line;
  const notes = [...body.matchAll(/<<([^<>=]*)=([^<>]*)>>/g)];
  if (notes.length > 0) {
    const operands = notes.flatMap((m) => evaluate(m[1]!)?.operands ?? []);
    const value = evaluate(notes.at(-1)![2]!)?.value ?? null;
    return { question, value, operands };
  }
  // No calculator note: the value is the number after the last "=", else the last number stated.
  const text = normaliseMath(body);
  if (statesEquation(text)) return { question, value: null, operands: [] };
  const nums = [...text.matchAll(/(?<![\w.])-?\d+(?:\.\d+)?/g)].map((m) => ({ v: Number(m[0]), at: m.index }));
  const eq = text.lastIndexOf('=');
  const after = nums.filter((n) => n.at > eq);
  const chosen = eq >= 0 && after.length ? after[0]! : nums.at(-1);
  if (!chosen) return { question, value: null, operands: [] };
  return { question, value: chosen.v, operands: nums.filter((n) => n !== chosen).map((n) => n.v) };
}

/**
 * Turns one socratic answer into ARS nodes. A line with no number is dropped. The last lines,
 * while their value equals the `####` answer, restate the original question, so they are merged
 * into `F` (kept as nodes, PC would include the final answer and leak `y_k`): "How far? ** 450 -
 * 220 = 230" followed by "How far? ** Shandy drove 230 miles" are both `F`. A last line with no
 * calculator note that states the final answer among other numbers restates it too. A step that is
 * no sub-question (`isSubQuestion`: "Simplify", "Define a variable") is no node; a step that uses
 * its value depends on its parents instead.
 */
export function socraticArs(answer: string): {
  ars: { node_id: string; question: string; depends_on: string[]; answer: string }[];
  final: string | null;
} {
  const lines = answer
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const finalLine = lines.findIndex((l) => l.startsWith('####'));
  const final = finalLine >= 0 ? lines[finalLine]!.slice(4).trim().replace(/,/g, '') : null;
  const stepLines = finalLine >= 0 ? lines.slice(0, finalLine) : lines;
  const steps = stepLines
    .map((l) => ({ ...parseSocraticLine(l), noted: /<<[^<>]*=[^<>]*>>/.test(l) }))
    .filter((s) => s.value !== null) as { question: string; value: number; operands: number[]; noted: boolean }[];
  const finalValue = final === null ? null : Number(final);
  const restates = (s: { value: number; operands: number[]; noted: boolean }) =>
    finalValue !== null &&
    (sameValue(s.value, finalValue) || (!s.noted && s.operands.some((o) => sameValue(o, finalValue))));
  while (steps.length > 0 && restates(steps.at(-1)!)) steps.pop();
  // Each step's parents among all steps; a step that is no valid node hands its parents on.
  // A plain (non-socratic) line has no sub-question and stays a node.
  const valid = (s: { question: string }) => s.question === '' || isSubQuestion(s.question);
  const parents: Set<number>[] = [];
  steps.forEach((s, i) => {
    const deps = new Set<number>();
    for (const op of s.operands) {
      // The latest earlier step with that value is the parent (a value can come from several steps).
      for (let j = i - 1; j >= 0; j--)
        if (sameValue(steps[j]!.value, op)) {
          for (const d of valid(steps[j]!) ? [j] : parents[j]!) deps.add(d);
          break;
        }
    }
    parents.push(deps);
  });
  const kept = steps.flatMap((s, i) => (valid(s) ? [i] : []));
  const id = new Map(kept.map((i, k) => [i, `Q${k + 1}`]));
  const ars = kept.map((i) => ({
    node_id: id.get(i)!,
    question: steps[i]!.question || `Step ${i + 1}`,
    depends_on: [...parents[i]!].sort((a, b) => a - b).map((d) => id.get(d)!),
    answer: fmt(steps[i]!.value),
  }));
  return { ars, final };
}

/**
 * Whether a socratic sub-question asks for a quantity: it is a question ("How many...?", "What
 * is...?"). An instruction ("Define a variable", "Simplify", "Divide by 6", "Write an equation")
 * names an algebra move, not a sub-question with an answer, so it is no valid ARS node.
 */
export function isSubQuestion(q: string): boolean {
  return /\?\s*$/.test(q) || /^(?:how|what|what's|which|who|whose|when|where|why)\b/i.test(q.trim());
}

/** Adapter for `test_socratic.jsonl`: problems `gsm8k-test-<0-based line>` with their ARS. */
export const gsm8kSocratic: Adapter = async (file) => {
  const { rows, rejects } = await readJsonl(file);
  const problems: RawItem[] = [];
  for (const { line, value } of rows) {
    const { question, answer } = value;
    if (typeof answer !== 'string') {
      rejects.push(
        lineReject(
          file,
          line,
          answer === undefined ? 'missing' : 'invalid_type',
          'answer',
          `line ${line} of ${file}: answer should be a string, got ${answer === undefined ? 'nothing' : typeof answer}`,
          JSON.stringify(value),
        ),
      );
      continue;
    }
    const { ars, final } = socraticArs(answer);
    problems.push({
      item: `line ${line}`,
      value: {
        problem_id: `gsm8k-test-${line - 1}`,
        domain: 'math',
        question,
        answer: final,
        answer_spec: { kind: 'number', tolerance: null, unit: null },
        ars: ars.map((n) => ({ ...n, answer_spec: { kind: 'number', tolerance: null, unit: null } })),
      },
    });
  }
  return { problems, paths: [], rejects };
};

/** Map from normalised question text to problem id, built from an adapter's problems. */
export function problemIdsByQuestion(problems: readonly RawItem[]): Map<string, string> {
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
export function findSocratic(file: string): string | null {
  const env = process.env.TRACEPIPE_GSM8K_SOCRATIC;
  const dir = dirname(resolve(file));
  const candidates = [env, join(dir, 'test_socratic.jsonl'), join(dir, '..', 'gsm8k', 'test_socratic.jsonl')];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c)) ?? null;
}

/** Adapter for `example_model_solutions.jsonl`, matched to the socratic file found by `findSocratic`. */
export const gsm8kSolutions: Adapter = async (file) => {
  const socratic = findSocratic(file);
  const ids = socratic ? problemIdsByQuestion((await gsm8kSocratic(socratic)).problems) : new Map<string, string>();
  return gsm8kSolutionsWith(ids)(file);
};

/** Adapter for `example_model_solutions.jsonl`; `ids` maps normalised question text to problem id. */
export function gsm8kSolutionsWith(ids: ReadonlyMap<string, string>): Adapter {
  return async (file) => {
    const { rows, rejects } = await readJsonl(file);
    const paths: Omit<PathRow, 'run_id'>[] = [];
    for (const { line, value } of rows) {
      const q = value.question;
      const problemId = typeof q === 'string' ? ids.get(normaliseQuestion(q)) : undefined;
      if (problemId === undefined) {
        rejects.push(
          lineReject(
            file,
            line,
            'invalid_reference',
            'question',
            `line ${line} of ${file}: question matches no GSM8K problem, got ${typeof q === 'string' ? JSON.stringify(q.slice(0, 40)) : 'nothing'}`,
            JSON.stringify(value),
          ),
        );
        continue;
      }
      GSM8K_SOLUTION_KEYS.forEach((key, k) => {
        const sol = value[key] as { is_correct?: unknown; solution?: unknown } | undefined;
        if (!sol || typeof sol.solution !== 'string') {
          rejects.push(
            lineReject(
              file,
              line,
              'missing',
              `${key}.solution`,
              `line ${line} of ${file}: ${key}.solution should be a string, got ${sol === undefined ? 'nothing' : typeof sol.solution}`,
              JSON.stringify(value),
            ),
          );
          return;
        }
        const { steps, final_answer } = splitSolution(sol.solution);
        paths.push({
          problem_id: problemId,
          path_id: `${problemId}/${key}`,
          mode: 'free',
          sample_index: k,
          model: key,
          steps,
          node_answers: [],
          final_answer,
          given_correct: typeof sol.is_correct === 'boolean' ? sol.is_correct : null,
          finish_reason: null,
          tokens_in: 0,
          tokens_out: 0,
        });
      });
    }
    return { problems: [], paths, rejects };
  };
}

/** Socratic problems plus the example solutions as their free paths, in one adapter output. */
export async function importGsm8k(socraticFile: string, solutionsFile: string): Promise<AdapterOutput> {
  const soc = await gsm8kSocratic(socraticFile);
  const sol = await gsm8kSolutionsWith(problemIdsByQuestion(soc.problems))(solutionsFile);
  return { problems: soc.problems, paths: sol.paths, rejects: [...soc.rejects, ...sol.rejects] };
}
