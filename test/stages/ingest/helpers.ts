/** @module test/stages/ingest/helpers  Collecting an adapter's stream, and a files port that counts what it reads. */
import { basename } from 'node:path';
import type { Reject } from '../../../schemas/index.ts';
import type { Adapter } from '../../../stages/ingest/adapter.ts';
import type { FilesPort } from '../../../stages/lib/ports.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';

export interface Collected {
  problems: { item: string; value: unknown }[];
  paths: { item: string; value: unknown }[];
  rejects: Reject[];
}

/** Every item an adapter yields for `file`, by kind, in order. */
export async function collect(
  adapter: Adapter,
  file: string,
  files: FilesPort = nodeFiles(),
  memo = new Map<string, Promise<unknown>>(),
): Promise<Collected> {
  const out: Collected = { problems: [], paths: [], rejects: [] };
  for await (const it of adapter(file, { files, source: basename(file), memo })) {
    if (it.kind === 'problem') out.problems.push({ item: it.item, value: it.value });
    else if (it.kind === 'path') out.paths.push({ item: it.item, value: it.value });
    else out.rejects.push(it.reject);
  }
  return out;
}

/** The local files port, counting `lines`, `parquetRows` and `text` calls per file. */
export function countingFiles(): { files: FilesPort; reads: Map<string, number> } {
  const inner = nodeFiles();
  const reads = new Map<string, number>();
  const count = (f: string) => reads.set(f, (reads.get(f) ?? 0) + 1);
  return {
    reads,
    files: {
      lines: (f) => (count(f), inner.lines(f)),
      parquetRows: (f) => (count(f), inner.parquetRows(f)),
      text: (f) => (count(f), inner.text(f)),
      realpath: (f) => inner.realpath(f),
    },
  };
}
