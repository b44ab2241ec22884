/**
 * @module pipeline/io/node-files
 * The input files port over node:fs (lines streamed, Parquet rows in batches through DuckDB).
 */
import { createReadStream } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { FilesPort } from '../../stages/lib/ports.ts';
import { sqlString, Store } from './store.ts';

export const nodeFiles: FilesPort = {
  async *lines(file) {
    let line = 0;
    for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
      line++;
      yield { line, text, valid: !text.includes('\uFFFD') };
    }
  },
  async *parquetRows(file) {
    const store = await Store.open(':memory:');
    try {
      const n = (
        await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)})`)
      )[0]!.n;
      for (let at = 0; at < n; at += 10_000) {
        const rows = await store.query<Record<string, unknown>>(
          `SELECT * FROM read_parquet(${sqlString(file)}) LIMIT 10000 OFFSET ${at}`,
        );
        for (const [i, value] of rows.entries()) yield { row: at + i + 1, value };
      }
    } finally {
      store.close();
    }
  },
  text: (file) => readFile(file, 'utf8'),
  realpath: (file) => realpath(file).catch(() => null),
};
