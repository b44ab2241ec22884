/**
 * @module stages/ingest/adapter
 * What an input adapter hands to `ingest`: raw problem objects in the project's input format
 * (validated by `ingest`, never by the adapter), imported paths, and rows it had to reject.
 */
import type { PathRow, Reject } from '../../schemas/index.ts';

/** One problem as read, not yet validated; `item` names it in errors (`line 12`). */
export interface RawItem {
  item: string;
  value: unknown;
}

export interface AdapterOutput {
  problems: RawItem[];
  /** Pre-generated paths that came with the input (GSM8K solutions, ProcessBench); `run_id` is set by ingest. */
  paths: Omit<PathRow, 'run_id'>[];
  rejects: Reject[];
}

/** Reads one input file. Adapters never throw on a bad row: it becomes a reject. */
export type Adapter = (file: string) => Promise<AdapterOutput>;
