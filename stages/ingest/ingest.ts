/**
 * @module stages/ingest/ingest
 * Inputs by format, streamed through their adapter and validated item by item
 * (`validatedItems`), then checked together (`crossCheck`); `ingest` runs the whole of it over
 * a run's inputs at once, for evals and tests.
 */
import { basename, dirname, resolve } from 'node:path';
import type { ArsNode, PathRow, Problem, Reject } from '../../schemas/index.ts';
import type { FilePart, FilesPort } from '../lib/ports.ts';
import type { Adapter, InputItem } from './adapter.ts';
import { crossCheck, type PathEntry, type ProblemEntry } from './cross.ts';
import { pathsJsonl, pathsParquet, validatePath, withPathDefaults } from './paths.ts';
import { readJsonl, readParquet } from './native.ts';
import { DEFAULT_INGEST_OPTIONS, validateProblem, type IngestOptions } from './validate.ts';
import { INPUT_FORMATS, type InputFormat } from '../../schemas/problems.ts';

export { INPUT_FORMATS, type InputFormat };

export interface InputSpec {
  path: string;
  format: InputFormat;
}
/** An input read by an adapter the caller picks (evals matching files they name). */
export interface AdapterInput {
  path: string;
  adapter: Adapter;
}

/** Adapters by format (`auto`: problems, Parquet by extension, else JSONL); the public-data adapters load on first use. */
export async function adapterFor(spec: InputSpec): Promise<Adapter> {
  const format = spec.format === 'auto' ? (spec.path.endsWith('.parquet') ? 'parquet' : 'jsonl') : spec.format;
  switch (format) {
    case 'jsonl':
      return readJsonl;
    case 'parquet':
      return readParquet;
    case 'paths-jsonl':
      return pathsJsonl;
    case 'paths-parquet':
      return pathsParquet;
    case 'gsm8k-socratic':
      return (await import('./gsm8k.ts')).gsm8kSocratic;
    case 'gsm8k-solutions':
      return (await import('./gsm8k.ts')).gsm8kSolutions;
    case 'processbench':
      return (await import('./processbench.ts')).processbench;
  }
}

/** Whether an input's lines can be read in byte ranges by several readers at once: JSONL problems and paths. */
export function canReadInParts(spec: InputSpec): boolean {
  const format = spec.format === 'auto' ? (spec.path.endsWith('.parquet') ? 'parquet' : 'jsonl') : spec.format;
  return format === 'jsonl' || format === 'paths-jsonl';
}

/** One input, opened: its name in rejects, the folder its images must stay in, its items as read. */
export interface OpenedInput {
  source: string;
  root: string;
  items: AsyncIterable<InputItem>;
}

/** Opens one input for streaming; `memo` is shared by every input of a run (reference files parsed once). */
export function openInput(
  spec: InputSpec | AdapterInput,
  files: FilesPort,
  memo: Map<string, Promise<unknown>>,
  part?: FilePart,
): OpenedInput {
  if (part && part.of > 1 && !('format' in spec && canReadInParts(spec)))
    throw new Error(`input ${spec.path} cannot be read in parts (only JSONL problems and paths can)`);
  const source = basename(spec.path);
  async function* items(): AsyncIterable<InputItem> {
    const adapter = 'adapter' in spec ? spec.adapter : await adapterFor(spec);
    yield* adapter(spec.path, { files, source, memo, ...(part ? { part } : {}) });
  }
  return { source, root: dirname(resolve(spec.path)), items: items() };
}

/** An input item after validation; `content_hash` is that of the problem or the path. */
export type ValidatedItem =
  | { kind: 'problem'; entry: ProblemEntry; content_hash: string }
  | { kind: 'path'; entry: PathEntry; content_hash: string }
  | { kind: 'reject'; reject: Reject };

/** Validates each item of an opened input as it streams: a valid row, or one reject per problem found with it. */
export async function* validatedItems(
  input: OpenedInput,
  opts: IngestOptions,
  files: FilesPort,
): AsyncIterable<ValidatedItem> {
  const { source, root } = input;
  const seen = new Map<string, number>();
  for await (const it of input.items) {
    if (it.kind === 'reject') {
      yield it;
    } else if (it.kind === 'problem') {
      const r = await validateProblem(it.value, { source, item: it.item, root }, opts, files);
      if (!r.ok) for (const reject of r.rejects) yield { kind: 'reject', reject };
      else
        yield {
          kind: 'problem',
          entry: { source, item: it.item, problem: r.problem, nodes: r.nodes },
          content_hash: r.problem.content_hash,
        };
    } else {
      const value = it.defaults ? withPathDefaults(it.value, seen) : it.value;
      const r = validatePath(value, { source, item: it.item }, opts);
      if (!r.ok) for (const reject of r.rejects) yield { kind: 'reject', reject };
      else yield { kind: 'path', entry: { source, item: it.item, path: r.path }, content_hash: r.content_hash };
    }
  }
}

export interface IngestOutput {
  problems: Problem[];
  nodes: ArsNode[];
  paths: PathRow[];
  rejects: Reject[];
}

/**
 * Ingests every input in order as one shard; one bad row never stops the others. It holds every
 * valid row in memory (it is for evals and tests); a sharded run calls the pieces instead.
 */
export async function ingest(
  inputs: readonly (InputSpec | AdapterInput)[],
  opts: { runId: string; files: FilesPort } & Partial<IngestOptions>,
): Promise<IngestOutput> {
  const options: IngestOptions = { maxQuestionBytes: opts.maxQuestionBytes ?? DEFAULT_INGEST_OPTIONS.maxQuestionBytes };
  const memo = new Map<string, Promise<unknown>>();
  const problems: ProblemEntry[] = [];
  const paths: PathEntry[] = [];
  const rejects: Reject[] = [];
  for (const spec of inputs) {
    for await (const it of validatedItems(openInput(spec, opts.files, memo), options, opts.files)) {
      if (it.kind === 'reject') rejects.push(it.reject);
      else if (it.kind === 'problem')
        problems.push({
          ...it.entry,
          problem: { ...it.entry.problem, role: 'calibration' in spec && spec.calibration ? 'calibration' : 'data' },
        });
      else paths.push(it.entry);
    }
  }
  const checked = crossCheck(problems, paths);
  for (const r of checked.rejects) rejects.push(r);
  const rows: PathRow[] = [];
  for (const p of checked.paths) rows.push({ ...p, run_id: opts.runId });
  return { problems: checked.problems, nodes: checked.nodes, paths: rows, rejects };
}
