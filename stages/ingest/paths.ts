/**
 * @module stages/ingest/paths
 * Paths a user generated elsewhere (`paths-jsonl`, `paths-parquet`): one free path per line or
 * row, with `problem_id`, optional `path_id`, `steps` or `text`, optional `final_answer`,
 * `correct` and `model`. The same shape carries the paths of the public-data adapters.
 */
import { t, table, type Issue, type PathRow, type Reject } from '../../schemas/index.ts';
import { parseFree } from '../lib/prompts.ts';
import { dropNulls, ingestReject, jsonLines, type Adapter } from './adapter.ts';
import { cleanId, contentHash, idMessage, type At, type IngestOptions } from './validate.ts';

/** A path as ingest hands it on; the engine adds `run_id`. */
export type ImportedPath = Omit<PathRow, 'run_id'>;

/** The paths-jsonl shape. `path_id` is required here: the adapters fill its default. */
export const pathInput = table('path_input', {
  problem_id: t.text(),
  /** Default `<problem_id>/<index of the line among this file's lines of that problem>`, 0-based. */
  path_id: t.text(),
  /** Default: the same index. */
  sample_index: t.withDefault(t.int(), () => 0),
  steps: t.nullable(t.list(t.string())),
  /** Free text, cut into steps as free paths are (`parseFree`). */
  text: t.nullable(t.text()),
  /** Else read from the text (`parseFree`), else by align from the steps. */
  final_answer: t.nullable(t.answer()),
  /** A correctness label that came with the path: `given_correct`, `label_source = given`. */
  correct: t.nullable(t.bool()),
  model: t.withDefault(t.text(), () => 'imported'),
});

export type PathResult = { ok: true; path: ImportedPath; content_hash: string } | { ok: false; rejects: Reject[] };

/** Validates one raw path (paths-jsonl shape) read at `at`; `content_hash` hashes what scoring reads of it. */
export function validatePath(raw: unknown, at: At, _opts: IngestOptions): PathResult {
  const fail = (issues: readonly Issue[]): PathResult => ({
    ok: false,
    rejects: issues.map((i) => ingestReject(at.source, at.item, i.code, i.path, `${at.item}: ${i.message}`, raw)),
  });
  const v = pathInput.validate(raw);
  if (!v.ok) {
    // Without a usable problem_id the adapter could give no default path_id: name only the cause.
    const badProblem = v.issues.some((i) => i.path === 'problem_id');
    return fail(v.issues.filter((i) => !(badProblem && i.path === 'path_id' && i.code === 'missing')));
  }
  const p = v.value;
  const issues: Issue[] = [];
  for (const key of ['problem_id', 'path_id'] as const)
    if (!cleanId(p[key])) issues.push({ code: 'invalid_value', path: key, message: idMessage(key, '', p[key]) });
  if (p.sample_index < 0)
    issues.push({
      code: 'invalid_value',
      path: 'sample_index',
      message: `sample_index should be an integer >= 0, got ${p.sample_index}`,
    });
  if (p.steps !== null && p.text !== null)
    issues.push({
      code: 'invalid_value',
      path: 'text',
      message: 'steps and text are both given; expected one of them (steps: a list of strings, or text: free text)',
    });
  if (p.steps === null && p.text === null)
    issues.push({
      code: 'missing',
      path: 'steps',
      message: 'steps or text is required (a list of strings, or free text), got neither',
    });
  if (issues.length) return fail(issues);
  const parsed = p.text === null ? null : parseFree(p.text);
  const steps = parsed?.steps ?? p.steps ?? [];
  const final_answer = p.final_answer ?? parsed?.final_answer ?? null;
  if (steps.length === 0 && final_answer === null)
    return fail([
      {
        code: 'invalid_value',
        path: p.text === null ? 'steps' : 'text',
        message: `${p.text === null ? 'steps' : 'text'} should hold at least one step when there is no final_answer, got none`,
      },
    ]);
  const path: ImportedPath = {
    problem_id: p.problem_id,
    path_id: p.path_id,
    mode: 'free',
    sample_index: p.sample_index,
    model: p.model,
    steps,
    node_answers: [],
    final_answer,
    given_correct: p.correct,
    finish_reason: null,
    tokens_in: 0,
    tokens_out: 0,
  };
  const content_hash = contentHash([p.problem_id, p.path_id, p.sample_index, p.model, steps, final_answer, p.correct]);
  return { ok: true, path, content_hash };
}

/**
 * Fills the default `path_id` and `sample_index` of a raw path: the index of its line among the
 * file's lines of the same problem (`seen` counts them; memory is one entry per problem id).
 */
export function withPathDefaults(value: unknown, seen: Map<string, number>): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  const id = v.problem_id;
  if (typeof id !== 'string') return value;
  const n = seen.get(id) ?? 0;
  seen.set(id, n + 1);
  return { ...v, path_id: v.path_id ?? `${id}/${n}`, sample_index: v.sample_index ?? n };
}

/**
 * Paths from JSONL, items `line N`; a line that is not UTF-8 or JSON becomes a reject. Their
 * defaults are left to validation (`defaults`), so that a part of the file reads like the whole.
 */
export const pathsJsonl: Adapter = async function* (file, ctx) {
  for await (const l of jsonLines(file, ctx)) {
    if ('reject' in l) yield { kind: 'reject', reject: l.reject };
    // The line's own text is the value's JSON: the reader keeps it as is, without writing it again.
    else yield { kind: 'path', item: l.item, value: l.value, text: l.text, defaults: true };
  }
};

/** Paths from Parquet (the same columns), items `row N`, read in batches; defaults as for JSONL. */
export const pathsParquet: Adapter = async function* (file, ctx) {
  for await (const { row, value } of ctx.files.parquetRows(file))
    yield { kind: 'path', item: `row ${row}`, value: dropNulls(value), defaults: true };
};
