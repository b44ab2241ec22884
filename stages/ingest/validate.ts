/**
 * @module stages/ingest/validate
 * Validation of one problem row as read: the schema, ids, sizes, tolerances, images confined to
 * the input folder (symlinks resolved) and the ARS; a bad row becomes rejects naming the item,
 * the field, what was expected and what came.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import {
  describe,
  problemInput,
  type AnswerSpec,
  type ArsNode,
  type Issue,
  type Problem,
  type ProblemInput,
  type Reject,
} from '../../schemas/index.ts';
import { buildArs, FINAL_ID } from '../lib/ars.ts';
import type { FilesPort } from '../lib/ports.ts';
import { ingestReject } from './adapter.ts';

export interface IngestOptions {
  /** The largest question (problem or ARS node) accepted, in bytes of UTF-8; larger is a `too_big` reject. */
  maxQuestionBytes: number;
}
export const DEFAULT_INGEST_OPTIONS: IngestOptions = { maxQuestionBytes: 65_536 };

/** Where a row came from: the input's name and the item (`line 12`, `row 3`). */
export interface At {
  source: string;
  item: string;
}

export type ProblemResult = { ok: true; problem: Problem; nodes: ArsNode[] } | { ok: false; rejects: Reject[] };

/**
 * Validates one raw problem (project input format) read at `at`; `at.root` is the input's folder,
 * which local images must stay inside once symlinks are resolved (`files.realpath`).
 */
export async function validateProblem(
  raw: unknown,
  at: At & { root: string },
  opts: IngestOptions,
  files: FilesPort,
): Promise<ProblemResult> {
  const fail = (issues: readonly Issue[]): ProblemResult => ({
    ok: false,
    rejects: issues.map((i) => ingestReject(at.source, at.item, i.code, i.path, `${at.item}: ${i.message}`, raw)),
  });
  const v = problemInput.validate(raw);
  if (!v.ok) return fail(v.issues);
  const p = v.value;
  const issues = contentIssues(p, opts);
  const images: string[] = [];
  for (const [i, img] of p.images.entries()) {
    if (img.trim() === '') continue; // refused by contentIssues
    const c = await checkImage(img, at.root, `images.${i}`, files);
    if ('file' in c) images.push(c.file);
    else issues.push({ code: 'invalid_path', path: `images.${i}`, message: c.issue });
  }
  if (issues.length) return fail(issues);
  const rawArs = (raw as { ars?: unknown[] }).ars;
  const answer_spec = inferSpec(p.answer, raw, 'answer_spec');
  const ars = buildArs(
    p.problem_id,
    p.ars.map((n, i) => ({ ...n, answer_spec: inferSpec(n.answer, rawArs?.[i], 'answer_spec') })),
    { question: p.question, answer: p.answer, answer_spec },
  );
  if ('issues' in ars) return fail(ars.issues);
  const problem: Problem = {
    problem_id: p.problem_id,
    domain: p.domain,
    question: p.question,
    images,
    choices: p.choices,
    answer: p.answer,
    answer_spec,
    source: `${at.source} ${at.item}`,
    content_hash: '',
    role: 'data',
  };
  problem.content_hash = problemHash(problem, p.images, ars.nodes);
  return { ok: true, problem, nodes: ars.nodes };
}

/** True for an id a user can see and type: no leading or trailing whitespace, no control character (NUL included). */
export const cleanId = (id: string) => id === id.trim() && !/\p{Cc}/u.test(id);

/** The message for an id that is not clean; `of` names its owner (` of problem p2`) or is empty. */
export const idMessage = (path: string, of: string, got: string) =>
  `${path}${of} should be an id with no leading or trailing whitespace and no control characters, got ${describe(got)}`;

/** Checks the schema cannot express: clean ids, the reserved F, question sizes, tolerances >= 0. */
function contentIssues(p: ProblemInput, opts: IngestOptions): Issue[] {
  const issues: Issue[] = [];
  const of = ` of problem ${p.problem_id}`;
  if (!cleanId(p.problem_id))
    issues.push({ code: 'invalid_value', path: 'problem_id', message: idMessage('problem_id', '', p.problem_id) });
  const size = (q: string, path: string, owner: string) => {
    const bytes = Buffer.byteLength(q, 'utf8');
    if (bytes > opts.maxQuestionBytes)
      issues.push({
        code: 'too_big',
        path,
        message: `${path}${owner} should be at most ${opts.maxQuestionBytes} bytes of UTF-8, got ${bytes} bytes`,
      });
  };
  const tolerance = (s: AnswerSpec, path: string, owner: string) => {
    if (s.tolerance !== null && s.tolerance < 0)
      issues.push({
        code: 'invalid_value',
        path,
        message: `${path}${owner} should be a relative tolerance >= 0, got ${s.tolerance}`,
      });
  };
  size(p.question, 'question', '');
  tolerance(p.answer_spec, 'answer_spec.tolerance', '');
  for (const [i, img] of p.images.entries())
    if (img.trim() === '')
      issues.push({
        code: 'invalid_value',
        path: `images.${i}`,
        message: `images.${i} should be a file path or a URL, got ${describe(img)}`,
      });
  for (const [i, n] of p.ars.entries()) {
    const path = `ars.${i}`;
    if (n.node_id === FINAL_ID)
      issues.push({
        code: 'invalid_ars',
        path: `${path}.node_id`,
        message: `ARS node F${of} takes the id reserved for the final question, which ingest adds itself (depending on the nodes nothing else depends on): expected another id, got "F"`,
      });
    else if (!cleanId(n.node_id))
      issues.push({
        code: 'invalid_value',
        path: `${path}.node_id`,
        message: idMessage(`${path}.node_id`, of, n.node_id),
      });
    size(n.question, `${path}.question`, of);
    tolerance(n.answer_spec, `${path}.answer_spec.tolerance`, of);
  }
  return issues;
}

/** A local image must exist inside the input folder, also once symlinks are resolved; URLs pass through. */
async function checkImage(
  img: string,
  root: string,
  path: string,
  files: FilesPort,
): Promise<{ file: string } | { issue: string }> {
  if (/^(https?:|data:)/i.test(img)) return { file: img };
  const file = resolve(root, img);
  if (!inside(root, file)) return { issue: `${path} ${JSON.stringify(img)} is outside the input folder ${root}` };
  const real = await files.realpath(file);
  if (real === null) return { issue: `${path} ${JSON.stringify(img)} was not found in ${root}` };
  const realRoot = (await files.realpath(root)) ?? root;
  if (!inside(realRoot, real))
    return { issue: `${path} ${JSON.stringify(img)} is a link to ${real}, outside the input folder ${root}` };
  return { file };
}

const inside = (root: string, file: string) => {
  const rel = relative(root, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

const NUMBER = /^\s*[-+]?\$?\s*(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\s*%?\s*$/;

/** An answer spec given in the input wins; otherwise a plain number is `number`, anything else `expression`. */
function inferSpec(answer: string | null, raw: unknown, key: string): AnswerSpec {
  const given = (raw as Record<string, unknown> | undefined)?.[key] as Partial<AnswerSpec> | undefined;
  const kind = given?.kind ?? (answer === null || NUMBER.test(answer) ? 'number' : 'expression');
  return { kind, tolerance: given?.tolerance ?? null, unit: given?.unit ?? null };
}

/** Content hash of a problem as validated (question, images as given, choices, answer, spec, ARS): the key for shards and caches, stable across runs and folders. */
function problemHash(p: Problem, images: readonly string[], nodes: readonly ArsNode[]): string {
  return contentHash({
    problem_id: p.problem_id,
    domain: p.domain,
    question: p.question,
    images,
    choices: p.choices,
    answer: p.answer,
    answer_spec: p.answer_spec,
    ars: nodes.map((n) => [n.node_id, n.question, n.depends_on, n.answer, n.answer_spec, n.uses_image]),
  });
}

/** A 16-hex-digit sha256 of a value's JSON. */
export function contentHash(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}
