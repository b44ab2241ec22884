/**
 * @module stages/ingest/native
 * The project's own problem format, one problem per JSONL line or Parquet row
 * (fields of `problemInput` in schemas/problems.ts).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { Store } from '../../pipeline/io/store.ts';
import { sqlString } from '../../pipeline/io/store.ts';

/** Reads JSONL; a line that is not JSON becomes a reject naming its line number. */
export const readJsonl: Adapter = async (file) => {
  const out: AdapterOutput = { problems: [], paths: [], rejects: [] };
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const item = `line ${i + 1}`;
    try {
      out.problems.push({ item, value: JSON.parse(line) });
    } catch (e) {
      out.rejects.push({
        stage: 'ingest',
        source: basename(file),
        item,
        code: 'invalid_json',
        path: '',
        message: `${item} is not valid JSON: ${(e as Error).message}`,
        raw: line.slice(0, 4096),
      });
    }
  });
  return out;
};

/** Reads a Parquet file of problems through DuckDB; rows are numbered from 1. */
export const readParquet: Adapter = async (file) => {
  const store = await Store.open(':memory:');
  try {
    const rows = await store.query(`SELECT * FROM read_parquet(${sqlString(file)})`);
    return {
      problems: rows.map((value, i) => ({ item: `row ${i + 1}`, value: dropNulls(value) })),
      paths: [],
      rejects: [],
    };
  } finally {
    store.close();
  }
};

/** Parquet has no "absent": a null optional field reads as absent, as in JSONL. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== null)
        .map(([k, x]) => [k, dropNulls(x)]),
    );
  return v;
}
