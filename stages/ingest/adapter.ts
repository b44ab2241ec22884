/**
 * @module stages/ingest/adapter
 * What an input adapter yields, one item at a time as it reads: raw problems (in the project's
 * input format, `problemInput`), raw paths (in the paths-jsonl shape, `pathInput`) and rows it
 * could not read. Adapters never validate a row and never throw for one: validation is
 * `validateProblem` / `validatePath`, and a row they cannot read becomes a reject.
 */
import type { Reject } from '../../schemas/index.ts';
import type { FilePart, FilesPort } from '../lib/ports.ts';

export type InputItem =
  /** A problem as read, in the project's input format; `item` names it in errors (`line 12`, `row 3`); `text` is its JSON as the line wrote it, when it was read verbatim. */
  | { kind: 'problem'; item: string; value: unknown; text?: string }
  /**
   * A path as read, in the paths-jsonl shape; `text` as for problems; `defaults`: its missing
   * `path_id` and `sample_index` are the count of earlier rows of its problem in the same input
   * (`withPathDefaults`), filled by whoever validates it, who sees the input's rows in order.
   */
  | { kind: 'path'; item: string; value: unknown; text?: string; defaults?: boolean }
  /** A row the adapter could not read (bad JSON, bad UTF-8, a reference that matches nothing). */
  | { kind: 'reject'; reject: Reject };

export interface AdapterContext {
  files: FilesPort;
  /** The input's name in rejects and in `problems.source` (the file's base name). */
  source: string;
  /** Per run: work an adapter shares across files, e.g. the socratic ARS indexed once by question. */
  memo: Map<string, Promise<unknown>>;
  /** Only this byte range of the file (formats that `canReadInParts`, read by several threads at once). */
  part?: FilePart;
}

/** Reads one input file as a stream of items; memory is bounded by one line or batch plus what the adapter indexes. */
export type Adapter = (file: string, ctx: AdapterContext) => AsyncIterable<InputItem>;

const RAW_CUT = 4096;

/** The raw text kept with a reject, cut to 4 kB. */
export function rawOf(v: unknown): string | null {
  if (typeof v === 'string') return v.slice(0, RAW_CUT);
  try {
    return JSON.stringify(v)?.slice(0, RAW_CUT) ?? null;
  } catch {
    return null;
  }
}

/** A reject of the ingest stage; `raw` is cut to 4 kB. */
export function ingestReject(
  source: string,
  item: string,
  code: string,
  path: string,
  message: string,
  raw: unknown,
): Reject {
  return { stage: 'ingest', source, item, code, path, message, raw: raw === undefined ? null : rawOf(raw) };
}

/** One JSONL line as read: its parsed value, or the reject that replaces it. */
export type JsonLine = { line: number; item: string; value: unknown; text: string } | { reject: Reject };

/**
 * The non-blank lines of a JSONL file, parsed. A line that is not UTF-8 or not JSON becomes a
 * reject; `name(n)` is how messages name line n (`line 12`, or `line 12 of FILE`). Streams.
 */
export async function* jsonLines(
  file: string,
  ctx: AdapterContext,
  name: (line: number) => string = (n) => `line ${n}`,
): AsyncIterable<JsonLine> {
  for await (const { line, text, valid } of ctx.files.lines(file, ctx.part)) {
    if (text.trim() === '') continue;
    const item = `line ${line}`;
    if (!valid) {
      yield { reject: ingestReject(ctx.source, item, 'invalid_utf8', '', `${name(line)} is not valid UTF-8`, text) };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      yield {
        reject: ingestReject(
          ctx.source,
          item,
          'invalid_json',
          '',
          `${name(line)} is not valid JSON: ${(e as Error).message}`,
          text,
        ),
      };
      continue;
    }
    yield { line, item, value, text };
  }
}

/** Parquet has no "absent": a null optional field reads as absent, as in JSONL. */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}
