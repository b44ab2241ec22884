/**
 * @module pipeline/io/files
 * The files port (stages/lib/ports.ts) over node:fs and DuckDB: text lines streamed as bytes and
 * checked for UTF-8, Parquet rows in DuckDB's batches. A file that cannot be read at all is one
 * `InputError` naming it: the CLI prints it on one line and exits 2.
 */
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import type { DuckDBInstance as Instance } from '@duckdb/node-api';
import { ConfigError } from '../../schemas/config.ts';
import type { FilePart, FilesPort, TextLine } from '../../stages/lib/ports.ts';
import { sqlString } from './sql.ts';

/** An input file that cannot be read (missing, a folder, not Parquet, not UTF-8): a usage error, not a bad row. */
export class InputError extends ConfigError {
  override name = 'InputError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`input ${file} ${problem}`);
  }
}

/** DuckDB settings of the Parquet reader: its buffer pool stays small beside the V8 heap. */
const PARQUET_DB = { memory_limit: '512MB', threads: '1' };
const BOM = [0xef, 0xbb, 0xbf];

/** The files port over the local disk. */
export function nodeFiles(): FilesPort {
  return { lines, parquetRows, text, realpath: real };
}

/**
 * The lines of a text file, split on `\n` as bytes (a trailing `\r` dropped, a leading BOM
 * dropped); `valid` is false for a line whose bytes are not UTF-8. With `part`, the lines that
 * start in its byte range, numbered as in the whole file (the newlines before it are counted
 * first, a scan of bytes without decoding). Memory: one 64 KiB chunk plus the line being read.
 */
async function* lines(file: string, part?: FilePart): AsyncIterable<TextLine> {
  await checkFile(file);
  let from = 0;
  let to = Infinity;
  let n = 0;
  if (part && part.of > 1) {
    const { size } = await stat(file);
    const at = (k: number) => Math.floor((size * k) / part.of);
    const start = at(part.index);
    to = part.index + 1 === part.of ? Infinity : at(part.index + 1);
    if (start > 0) {
      // The first line that starts at or after `start`: the one after the last newline before it.
      const before = await newlinesBefore(file, start);
      n = before.count;
      from = before.lineStart;
      if (from >= to) return;
    }
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 16, start: from });
  let pending: Buffer[] = [];
  // Byte offset (in the file) where the line being read starts.
  let lineAt = from;
  let offset = from;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        if (lineAt >= to) return;
        pending.push(chunk.subarray(start, nl));
        start = nl + 1;
        const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        lineAt = offset + start;
        yield toLine(file, ++n, bytes);
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
      offset += chunk.length;
    }
  } catch (e) {
    throw e instanceof InputError ? e : fileError(file, e);
  } finally {
    stream.destroy();
  }
  if (pending.length && lineAt < to) yield toLine(file, ++n, Buffer.concat(pending));
}

/** Newlines in the bytes before `pos - 1` and after, up to the first line start at or after `pos`. */
async function newlinesBefore(file: string, pos: number): Promise<{ count: number; lineStart: number }> {
  let count = 0;
  let lineStart = 0;
  let offset = 0;
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, nl + 1)) {
        const at = offset + nl + 1;
        count++;
        lineStart = at;
        if (at >= pos) return { count, lineStart };
      }
      offset += chunk.length;
    }
  } catch (e) {
    throw fileError(file, e);
  } finally {
    stream.destroy();
  }
  // No newline at or after pos - 1: the rest of the file belongs to the part before.
  return { count, lineStart: Infinity };
}

function toLine(file: string, line: number, raw: Buffer): TextLine {
  let bytes = raw.at(-1) === 0x0d ? raw.subarray(0, -1) : raw;
  if (line === 1) {
    if (BOM.every((b, i) => bytes[i] === b)) bytes = bytes.subarray(3);
    else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
      throw new InputError(file, 'is UTF-16 (it starts with a UTF-16 byte order mark), expected UTF-8');
  }
  return { line, text: bytes.toString('utf8'), valid: isUtf8(bytes) };
}

/** A whole small text file; one that is not UTF-8 is an `InputError`. */
async function text(file: string): Promise<string> {
  await checkFile(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw fileError(file, e);
  }
  if (!isUtf8(bytes)) throw new InputError(file, 'is not valid UTF-8');
  return (BOM.every((b, i) => bytes[i] === b) ? bytes.subarray(3) : bytes).toString('utf8');
}

async function real(file: string): Promise<string | null> {
  try {
    return await realpath(file);
  } catch {
    return null;
  }
}

/**
 * The rows of a Parquet file, 1-based, read through DuckDB's streaming result one chunk (2,048
 * rows) at a time; BIGINTs become numbers (strings past 2^53), dates ISO strings.
 */
async function* parquetRows(file: string): AsyncIterable<{ row: number; value: Record<string, unknown> }> {
  await checkFile(file);
  // Loaded when a Parquet input is read: worker threads and JSONL runs never load DuckDB.
  const { DuckDBInstance } = (await import('@duckdb/node-api')) as { DuckDBInstance: typeof Instance };
  const db = await DuckDBInstance.create(':memory:', PARQUET_DB);
  const conn = await db.connect();
  let row = 0;
  try {
    let batches: AsyncIterator<Record<string, unknown>[]>;
    try {
      const result = await conn.stream(`SELECT * FROM read_parquet(${sqlString(file)})`);
      batches = result.yieldRowObjectJs()[Symbol.asyncIterator]();
    } catch (e) {
      throw parquetError(file, e, row);
    }
    for (;;) {
      let next: IteratorResult<Record<string, unknown>[]>;
      try {
        next = await batches.next();
      } catch (e) {
        throw parquetError(file, e, row);
      }
      if (next.done) break;
      for (const r of next.value) yield { row: ++row, value: plain(r) as Record<string, unknown> };
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** DuckDB's JS values as JSON's: safe BIGINTs as numbers (else decimal strings), dates as ISO strings, bytes as base64. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

/** Refuses a path that is missing or a folder before any reader opens it. */
async function checkFile(file: string): Promise<void> {
  let s;
  try {
    s = await stat(file);
  } catch (e) {
    throw fileError(file, e);
  }
  if (s.isDirectory()) throw new InputError(file, 'is a folder, expected a file');
}

function fileError(file: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError(file, 'does not exist');
  if (code === 'ENOTDIR') return new InputError(file, 'does not exist (a part of its path is a file, not a folder)');
  if (code === 'EISDIR') return new InputError(file, 'is a folder, expected a file');
  if (code === 'EACCES' || code === 'EPERM') return new InputError(file, 'cannot be read: permission denied');
  return new InputError(file, `cannot be read: ${firstLine(e)}`);
}

/** DuckDB's reason without its error class, its echo of the query, or the file name again. */
function parquetError(file: string, e: unknown, row: number): InputError {
  const reason = firstLine(e)
    .replace(/^[A-Za-z ]*Error: /, '')
    .replaceAll(` '${file}'`, '')
    .replaceAll(` "${file}"`, '');
  return new InputError(file, `is not a readable Parquet file${row > 0 ? ` (after row ${row})` : ''}: ${reason}`);
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
