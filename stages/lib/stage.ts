/**
 * @module stages/lib/stage
 * What a stage declares so the engine can run it without knowing it: its tables, the part of the
 * config that changes its results, where it may run, and its work as a function of one shard's
 * problems (rows in, rows out). Problem stages are pure per problem, so the engine hands them only
 * the problems whose inputs changed; run stages (calibrate, report) see merged per-shard summaries.
 */
import type { Config } from '../../schemas/config.ts';
import type { Problem, Reject } from '../../schemas/index.ts';
import type { RawItem, StateTableName } from '../../schemas/state.ts';
import type { FilePart, FilesPort, ImagePort, Log, ModelPort, ProgressSink } from './ports.ts';

/** Which model a stage talks to; the engine builds each from the config with the user's limits. */
export type ModelRole = 'generate' | 'teacher' | 'extractor';

/** One problem as a stage sees it: the problem row and its rows of every table the stage reads. */
export interface ProblemBundle {
  problem: Problem;
  rows: Partial<Record<StateTableName, readonly unknown[]>>;
}

/** What the engine hands a stage for one shard. */
export interface StageContext {
  config: Config;
  runId: string;
  shard: string;
  /** Results of run stages this stage uses (e.g. `calibrate`), by stage name. */
  globals: Readonly<Record<string, unknown>>;
  /** The model port of a role the stage declared in `models`. */
  model(role: ModelRole): ModelPort;
  images: ImagePort;
  /** Input files (ingest reads image paths through it). */
  files: FilesPort;
  log: Log;
  progress?: ProgressSink;
}

/** A stage's rows for the problems it was given, by table; every row carries `problem_id`. */
export interface StageOutput {
  rows: Partial<Record<StateTableName, unknown[]>>;
  /** Items the stage could not use, each with the problem it belongs to. */
  rejects: (Reject & { problem_id: string })[];
  /** Counts of this piece of work, summed over shards into the manifest (numbers, or maps of numbers). */
  stats: Record<string, unknown>;
  /** The run stopped (signal or budget) before every problem was done: nothing of this piece is recorded as finished. */
  incomplete?: boolean;
  /**
   * Problems whose work did not finish (a request failed after its retries): their rows and
   * rejects are kept for this run's outputs, but they count as not done, so the next run tries
   * them again (replies that did arrive are in the cache).
   */
  retry?: string[];
  /** Output fingerprint per problem, when the stage's output depends on less than its input (ingest: content, not line numbers). */
  fingerprints?: Record<string, string>;
}

/** A stage whose work on a problem depends only on that problem's rows (and the config, and run-stage results). */
export interface ProblemStage {
  kind: 'problem';
  name: string;
  /** False when the stage has no `tracepipe <name>` command of its own (default true). */
  command?: boolean;
  /** One line for `--help`, the manifest and `--dry-run`. */
  describe: string;
  /** Bumped when a code change changes the stage's results: problems computed by another version re-run. */
  version: number;
  reads: readonly StateTableName[];
  writes: readonly StateTableName[];
  /** The tables whose rows are the stage's items, which failure rates and "produced nothing" count (default: `writes`). */
  items?: readonly StateTableName[];
  /** Work the engine may run in worker threads (no shared state) whenever `models` names none under the config. */
  cpu: boolean;
  /**
   * Builds what `run` needs in the thread that will run it (engines its code builds on first
   * use), called once while the main thread waits (on a model stage's requests) when the stage
   * will run in the main thread; a failure here is ignored (`run` meets it again).
   */
  warm?(): Promise<unknown>;
  /** Models the stage needs under this config (none: it never asks). */
  models?(config: Config): readonly ModelRole[];
  /** False when, under this config, the stage writes nothing by design (generate without a model): it is handed bundles without rows; default true. */
  produces?(config: Config): boolean;
  /** The part of the config that changes the stage's results (never concurrency, limits, budget or addresses). */
  config(config: Config): unknown;
  /** The part of run-stage results that changes this problem's results (e.g. the thresholds of its domain). */
  global?(config: Config, globals: Readonly<Record<string, unknown>>, problem: Problem): unknown;
  /** Does the work for a shard's changed problems. */
  run(problems: readonly ProblemBundle[], ctx: StageContext): Promise<StageOutput>;
  /** A mergeable summary of a table's rows (for run stages), kept per segment. */
  summarize?: Partial<Record<StateTableName, (rows: readonly unknown[], config: Config) => unknown>>;
  /** How a table's summaries merge, when not by the one rule of `mergeSummaries` (numbers add, lists join). */
  merge?: Partial<Record<StateTableName, (parts: readonly unknown[]) => unknown>>;
  /** Units of work per problem on its progress line (default: generate's samples for stages that sample paths, else 1). */
  progressUnits?(config: Config): number;
  /** The numbers the manifest and the summary show of the whole run (default: rows per table). */
  totals?(t: StageTotals): Record<string, unknown>;
  /** Rows kept and dropped, for the report's flow chart. */
  flow?(t: StageTotals): FlowStep[];
}

/** What a stage's tables hold over every shard of the run. */
export interface StageTotals {
  /** Live rows per table. */
  rows: Partial<Record<StateTableName, number>>;
  /** Merged summaries per table (where the stage keeps one). */
  summaries: Partial<Record<StateTableName, unknown>>;
  /** Rejected items by reason code. */
  rejects: Record<string, number>;
  /** Problems the stage stands for. */
  problems: number;
}

/** One bar of the report's flow chart: `outcome` is `kept` or a reason. */
export interface FlowStep {
  step: string;
  outcome: string;
  rows: number;
}

/** What a run stage gets: the merged summaries of the tables it needs, and earlier run-stage results. */
export interface RunInput {
  config: Config;
  runId: string;
  summaries: Partial<Record<StateTableName, unknown>>;
  globals: Readonly<Record<string, unknown>>;
  /** Totals of every stage so far. */
  stages: readonly { name: string; totals: Record<string, unknown>; flow: FlowStep[] }[];
  log: Log;
}

/** A stage that needs the whole run: it merges per-shard summaries. */
export interface RunStage {
  kind: 'run';
  name: string;
  /** False when the stage has no `tracepipe <name>` command of its own (default true). */
  command?: boolean;
  describe: string;
  version: number;
  /** Tables whose summaries it merges. */
  needs: readonly StateTableName[];
  /** Run stages whose results it reads. */
  uses?: readonly string[];
  config(config: Config): unknown;
  /** Returns its result (kept in the state, handed to later stages as a global) and files to publish. */
  run(input: RunInput): Promise<{ result: unknown; files: Record<string, string>; stats: Record<string, unknown> }>;
  /**
   * Loads what `run` will need (libraries), called once while the main thread waits (on the
   * worker threads, or on a model stage's requests); a failure here is ignored (`run` meets it again).
   */
  warm?(): Promise<unknown>;
}

/** Reads the inputs as rows to bucket by problem (the first stage's source). */
export interface InputSource {
  /**
   * Every input's rows in input order; with `only`, just those of the input at that index (the
   * others unopened); with `part` too, just that byte range of it (inputs that can be read in parts).
   */
  items(
    config: Config,
    files: FilesPort,
    log: Log,
    only?: number,
    part?: FilePart,
  ): AsyncIterable<RawItem | { reject: Reject }>;
  /** Whether the input at index `input` can be read in byte ranges (`part`). */
  partable?(config: Config, input: number): boolean;
}

export type StageDef = ProblemStage | RunStage;

/** Rows of one table in a bundle, typed by the caller. */
export const rowsOf = <T>(b: ProblemBundle, table: StateTableName): readonly T[] =>
  (b.rows[table] ?? []) as readonly T[];
