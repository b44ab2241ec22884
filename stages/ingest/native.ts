/**
 * @module stages/ingest/native
 * The project's own problem format, one problem per JSONL line or Parquet row
 * (fields of `problemInput` in schemas/problems.ts), read as a stream.
 */
import { dropNulls, jsonLines, type Adapter } from './adapter.ts';

/** Problems from JSONL, items `line N` (1-based, blank lines skipped); a line that is not UTF-8 or JSON becomes a reject. */
export const readJsonl: Adapter = async function* (file, ctx) {
  for await (const l of jsonLines(file, ctx)) {
    if ('reject' in l) yield { kind: 'reject', reject: l.reject };
    // The line's own text is the value's JSON: the reader keeps it as is, without writing it again.
    else yield { kind: 'problem', item: l.item, value: l.value, text: l.text };
  }
};

/** Problems from Parquet, items `row N` (1-based), read in batches through the files port. */
export const readParquet: Adapter = async function* (file, ctx) {
  for await (const { row, value } of ctx.files.parquetRows(file))
    yield { kind: 'problem', item: `row ${row}`, value: dropNulls(value) };
};
