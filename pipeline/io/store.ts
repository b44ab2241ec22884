/**
 * @module pipeline/io/store
 * Run state in DuckDB (`runs/<name>/state.duckdb`) and Parquet publishing. The only module
 * that touches the database; stages get rows in and hand rows back.
 */
import type { DuckDBInstance, DuckDBConnection } from '@duckdb/node-api';
import { mkdir, rename, rm, writeFile, readdir, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Shape, Table, RowOf } from '../../schemas/define.ts';

import { sqlString } from './sql.ts';

export { sqlString };
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

export interface ParquetOptions {
  /** Rows per part file (DuckDB may write fewer); bounds the size of each `part-*.parquet`. */
  rowsPerPart?: number;
}

/** Bounds on DuckDB's memory and threads. */
export interface DuckDbLimits {
  /** e.g. `2GB`: DuckDB spills to `tempDirectory` past it. */
  memoryLimit?: string;
  tempDirectory?: string;
  threads?: number;
}

/** Rows in a row group of a published part (see `writeParquetParts`). */
const PART_ROW_GROUP = 20_000;

/** A DuckDB database holding a run's tables. */
export class Store {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    readonly file: string,
    private readonly scratch: string,
  ) {}

  /**
   * Opens (creating) a database file, or `:memory:`. `scratch` holds temporary import files.
   * `limits` bound DuckDB's own memory (its buffer pool spills to `temp_directory` beyond it).
   */
  static async open(file: string, scratch?: string, limits: DuckDbLimits = {}): Promise<Store> {
    if (file !== ':memory:') await mkdir(dirname(file), { recursive: true });
    const options: Record<string, string> = {};
    if (limits.memoryLimit) options.memory_limit = limits.memoryLimit;
    if (limits.tempDirectory) {
      await mkdir(limits.tempDirectory, { recursive: true });
      options.temp_directory = limits.tempDirectory;
    }
    if (limits.threads) options.threads = String(limits.threads);
    // Loaded by the first store a process opens (about 80 ms): commands and runs that open none never load it.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(file, options);
    const conn = await instance.connect();
    const dir =
      scratch ??
      (file === ':memory:' ? join(process.env.TMPDIR ?? '/tmp', 'tracepipe') : join(dirname(file), '.scratch'));
    await mkdir(dir, { recursive: true });
    return new Store(instance, conn, file, dir);
  }

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** Runs a query and returns plain JS rows (lists as arrays, structs as objects). */
  async query<R = Record<string, unknown>>(sql: string): Promise<R[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map(normalise) as R[];
  }

  async exists(name: string): Promise<boolean> {
    const r = await this.query<{ n: number }>(
      `SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = ${sqlString(name)}`,
    );
    return (r[0]?.n ?? 0) > 0;
  }

  async count(name: string): Promise<number> {
    if (!(await this.exists(name))) return 0;
    const r = await this.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${ident(name)}`);
    return r[0]?.n ?? 0;
  }

  async ensure<S extends Shape>(table: Table<S>): Promise<void> {
    await this.run(table.ddl());
  }

  /** Appends rows. Memory: rows are streamed to a scratch JSONL file, then bulk-loaded. */
  async append<S extends Shape>(table: Table<S>, rows: Iterable<RowOf<S>>): Promise<number> {
    await this.ensure(table);
    const file = join(this.scratch, `${table.name}-${randomUUID()}.jsonl`);
    const out = createWriteStream(file);
    let n = 0;
    for (const row of rows) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, 'drain');
      n++;
    }
    out.end();
    await once(out, 'finish');
    try {
      if (n > 0) {
        const cols = table.columns.map(ident).join(', ');
        await this.run(
          `INSERT INTO ${ident(table.name)} (${cols}) SELECT ${cols} FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = ${table.jsonColumns()}, maximum_object_size = 268435456)`,
        );
      }
    } finally {
      await rm(file, { force: true });
    }
    return n;
  }

  /** Replaces a table's rows in one transaction, so a crash leaves either the old or the new rows. */
  async replace<S extends Shape>(table: Table<S>, rows: Iterable<RowOf<S>>): Promise<number> {
    await this.run('BEGIN TRANSACTION');
    try {
      await this.run(`DROP TABLE IF EXISTS ${ident(table.name)}`);
      const n = await this.append(table, rows);
      await this.run('COMMIT');
      return n;
    } catch (e) {
      await this.run('ROLLBACK');
      throw e;
    }
  }

  /** Reads a whole table (in insertion order unless `orderBy`). Returns [] when absent. */
  async read<S extends Shape>(table: Table<S>, orderBy?: string): Promise<RowOf<S>[]> {
    if (!(await this.exists(table.name))) return [];
    const cols = table.columns.map(ident).join(', ');
    return this.query<RowOf<S>>(`SELECT ${cols} FROM ${ident(table.name)}${orderBy ? ` ORDER BY ${orderBy}` : ''}`);
  }

  /**
   * Writes a table (or query) as ZSTD Parquet part files into `dir`, atomically: the files
   * are written to a sibling folder that is then renamed into place.
   */
  async publishParquet(source: string, dir: string, opts: ParquetOptions = {}): Promise<string[]> {
    const tmp = `${dir}.tmp-${randomUUID().slice(0, 8)}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const rowsPerPart = opts.rowsPerPart ?? 100_000;
    const from = /^\s*select\b/i.test(source) ? `(${source})` : ident(source);
    await this.run(
      `COPY ${from} TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${Math.min(rowsPerPart, 122_880)}, FILE_SIZE_BYTES '256MB', FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true)`,
    );
    let files = (await readdir(tmp)).filter((f) => f.endsWith('.parquet')).sort();
    if (files.length === 0) {
      // An empty result writes no file; keep an empty part so readers still see the schema.
      await this.run(
        `COPY (SELECT * FROM ${from} LIMIT 0) TO ${sqlString(join(tmp, 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
      );
      files = ['part-0.parquet'];
    }
    await publishDir(tmp, dir);
    return files.map((f) => join(dir, f));
  }

  /**
   * Writes each query as one ZSTD Parquet file `part-<first + i>.parquet` in `dir`, in row groups
   * of PART_ROW_GROUP rows: DuckDB holds a row group in memory until it is written, outside its
   * memory limit, and a group of 100k step pairs (three texts each) held 500 MB.
   */
  async writeParquetParts(sources: readonly string[], dir: string, first = 0): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (const [i, source] of sources.entries()) {
      const file = join(dir, `part-${first + i}.parquet`);
      await this.run(
        `COPY (${source}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PART_ROW_GROUP})`,
      );
      files.push(file);
    }
    return files;
  }

  /** Writes one Parquet file atomically (write beside, then rename). */
  async writeParquetFile(source: string, file: string): Promise<void> {
    const tmp = `${file}.tmp-${randomUUID().slice(0, 8)}`;
    const from = /^\s*select\b/i.test(source) ? `(${source})` : ident(source);
    await mkdir(dirname(file), { recursive: true });
    await this.run(`COPY ${from} TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    await rename(tmp, file);
  }

  /** Flushes and closes; safe to call twice. */
  close(): void {
    try {
      this.conn.closeSync();
    } catch {
      /* already closed */
    }
    try {
      this.instance.closeSync();
    } catch {
      /* already closed */
    }
  }
}

/** Moves a finished folder into place, replacing an older one; readers see the old or the new folder. */
export async function publishDir(tmp: string, dir: string): Promise<void> {
  const old = `${dir}.old-${randomUUID().slice(0, 8)}`;
  const had = await stat(dir).then(
    () => true,
    () => false,
  );
  if (had) await rename(dir, old);
  await rename(tmp, dir);
  if (had) await rm(old, { recursive: true, force: true });
}

/** Writes a text file atomically. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomUUID().slice(0, 8)}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** DuckDB hands back BIGINTs as bigint and decimals as objects; the pipeline wants plain JSON values. */
function normalise(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = normalise(x);
    return o;
  }
  return v;
}
