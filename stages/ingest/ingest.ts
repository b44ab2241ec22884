/**
 * @module stages/ingest/ingest
 * Reads problem files through their adapter, validates every row, builds each ARS, and keeps
 * the bad rows in `rejects` with the item, the field, what was expected and what came.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  problemInput,
  type AnswerSpec,
  type ArsNode,
  type PathRow,
  type Problem,
  type Reject,
} from '../../schemas/index.ts';
import type { Adapter } from './adapter.ts';
import { buildArs } from '../lib/ars.ts';
import { readJsonl, readParquet } from './native.ts';

export const INPUT_FORMATS = ['auto', 'jsonl', 'parquet', 'gsm8k-socratic', 'gsm8k-solutions', 'processbench'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export interface InputSpec {
  path: string;
  format: InputFormat;
  /** A labeled calibration set: its problems get `role: 'calibration'` (calibrate, never emitted). */
  calibration?: boolean;
}

export interface IngestOutput {
  problems: Problem[];
  nodes: ArsNode[];
  paths: PathRow[];
  rejects: Reject[];
}

/** Adapters by format; the public-data adapters load on first use. */
async function adapterFor(spec: InputSpec): Promise<Adapter> {
  const format = spec.format === 'auto' ? (spec.path.endsWith('.parquet') ? 'parquet' : 'jsonl') : spec.format;
  switch (format) {
    case 'jsonl':
      return readJsonl;
    case 'parquet':
      return readParquet;
    case 'gsm8k-socratic':
      return (await import('./gsm8k.ts')).gsm8kSocratic;
    case 'gsm8k-solutions':
      return (await import('./gsm8k.ts')).gsm8kSolutions;
    case 'processbench':
      return (await import('./processbench.ts')).processbench;
  }
}

/** Ingests every input in order; one bad row never stops the others. */
export async function ingest(inputs: readonly InputSpec[], opts: { runId: string }): Promise<IngestOutput> {
  const out: IngestOutput = { problems: [], nodes: [], paths: [], rejects: [] };
  const firstSeen = new Map<string, string>();
  const imported: { source: string; path: Omit<PathRow, 'run_id'> }[] = [];
  for (const spec of inputs) {
    const source = basename(spec.path);
    const adapted = await (await adapterFor(spec))(spec.path);
    out.rejects.push(...adapted.rejects);
    const root = dirname(resolve(spec.path));
    for (const { item, value } of adapted.problems) {
      const reject = (code: string, path: string, message: string) =>
        out.rejects.push({
          stage: 'ingest',
          source,
          item,
          code,
          path,
          message: `${item}: ${message}`,
          raw: JSON.stringify(value)?.slice(0, 4096) ?? null,
        });
      const v = problemInput.validate(value);
      if (!v.ok) {
        for (const i of v.issues) reject(i.code, i.path, i.message);
        continue;
      }
      const p = v.value;
      const where = `${source} ${item}`;
      const dup = firstSeen.get(p.problem_id);
      if (dup) {
        reject('duplicate', 'problem_id', `problem_id ${JSON.stringify(p.problem_id)} repeats ${dup}`);
        continue;
      }
      const images = p.images.map((img, i) => checkImage(img, root, `images.${i}`));
      const badImage = images.find((x) => 'issue' in x);
      if (badImage && 'issue' in badImage) {
        reject('invalid_path', badImage.path, badImage.issue);
        continue;
      }
      const answer_spec = inferSpec(p.answer, value, 'answer_spec');
      const ars = buildArs(
        p.problem_id,
        p.ars.map((n, i) => ({
          ...n,
          answer_spec: inferSpec(n.answer, (value as { ars?: unknown[] }).ars?.[i], 'answer_spec'),
        })),
        { question: p.question, answer: p.answer, answer_spec },
      );
      if ('issues' in ars) {
        for (const i of ars.issues) reject(i.code, i.path, i.message);
        continue;
      }
      firstSeen.set(p.problem_id, where);
      out.problems.push({
        problem_id: p.problem_id,
        domain: p.domain,
        question: p.question,
        images: images.map((x) => ('file' in x ? x.file : '')),
        choices: p.choices,
        answer: p.answer,
        answer_spec,
        source: where,
        content_hash: contentHash({ ...p, answer_spec }),
        role: spec.calibration ? 'calibration' : 'data',
      });
      out.nodes.push(...ars.nodes);
    }
    imported.push(...adapted.paths.map((path) => ({ source, path })));
  }
  const known = new Set(out.problems.map((p) => p.problem_id));
  const seenPaths = new Set<string>();
  for (const { source, path } of imported) {
    const item = path.path_id;
    if (!known.has(path.problem_id)) {
      out.rejects.push({
        stage: 'ingest',
        source,
        item,
        code: 'invalid_reference',
        path: 'problem_id',
        message: `path ${item} refers to problem ${path.problem_id}, which was not ingested`,
        raw: null,
      });
    } else if (seenPaths.has(item)) {
      out.rejects.push({
        stage: 'ingest',
        source,
        item,
        code: 'duplicate',
        path: 'path_id',
        message: `path ${item} appears twice`,
        raw: null,
      });
    } else {
      seenPaths.add(item);
      out.paths.push({ ...path, run_id: opts.runId });
    }
  }
  return out;
}

/** Local image paths must stay inside the input folder; URLs pass through. */
function checkImage(img: string, root: string, path: string): { file: string } | { issue: string; path: string } {
  if (/^(https?:|data:)/i.test(img)) return { file: img };
  const file = resolve(root, img);
  const rel = relative(root, file);
  if (rel.startsWith('..') || isAbsolute(rel))
    return { issue: `${path} ${JSON.stringify(img)} is outside the input folder ${root}`, path };
  if (!existsSync(file)) return { issue: `${path} ${JSON.stringify(img)} was not found in ${root}`, path };
  return { file };
}

const NUMBER = /^\s*[-+]?\$?\s*(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\s*%?\s*$/;

/** An answer spec given in the input wins; otherwise a plain number is `number`, anything else `expression`. */
function inferSpec(answer: string | null, raw: unknown, key: string): AnswerSpec {
  const given = (raw as Record<string, unknown> | undefined)?.[key] as Partial<AnswerSpec> | undefined;
  const kind = given?.kind ?? (answer === null || NUMBER.test(answer) ? 'number' : 'expression');
  return { kind, tolerance: given?.tolerance ?? null, unit: given?.unit ?? null };
}

/** Content hash of a problem: the key for shards and caches, stable across runs. */
export function contentHash(p: unknown): string {
  return createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 16);
}
