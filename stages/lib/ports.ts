/**
 * @module stages/lib/ports
 * What a stage may ask of the world, as interfaces: the model (requests through the run's
 * client, cache, limits and budget), images, input files, progress and the log. Stages import
 * only these types; `pipeline/io` implements them and the engine hands them in, so a test can
 * pass a fake or a local server and no stage opens a socket or a file itself.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/** One prompt to sample: messages, the token budget, and a JSON schema for structured output (null: free text). */
export interface SampleRequest {
  messages: ChatCompletionMessageParam[];
  max_tokens: number;
  /** OpenAI `response_format.json_schema` for structured output, or null for free text. */
  json_schema: { name: string; strict?: boolean; schema: Record<string, unknown> } | null;
  /** Sampling temperature of this prompt when it is not the role's (rectification's own); part of the cache key only when set. */
  temperature?: number;
}

/** What one sample came to: a reply (perhaps from the cache), or why there is none. */
export type SampleOutcome =
  | { ok: true; content: string; finish_reason: string | null; tokens_in: number; tokens_out: number; cached: boolean }
  | { ok: false; code: string; message: string; stopped: 'budget' | 'abort' | null };

/** Counters of the requests made through one port (one stage on one shard). */
export interface ModelCounters {
  /** HTTP requests sent (cache hits excluded). */
  requests: number;
  cache_hits: number;
  retries: number;
  /** Failed attempts of any kind. */
  errors: number;
  rate_limited: number;
  by_status: Record<string, number>;
  /** The server refused `n > 1`; samples go one request each. */
  n_refused: boolean;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  /** Replies written to the request cache. */
  cache_writes: number;
  /** A reply came from the bundled model simulator (`system_fingerprint: "tracepipe-simulator"`), not a model. */
  simulated: boolean;
}

/** The model as a stage sees it. */
export interface ModelPort {
  /** The model's name, as rows record it. */
  readonly model: string;
  /** Samples `indices` of one prompt: cached replies first, then the server; never throws for one sample. */
  sample(req: SampleRequest, indices: readonly number[]): Promise<SampleOutcome[]>;
  /** `text` with the API key removed: for anything that may be logged or persisted. */
  redact(text: string): string;
  /** True once no new request may start: the budget is spent, or the run is stopping. */
  stopped(): 'budget' | 'signal' | null;
  /** This port's counters so far. */
  counters(): ModelCounters;
}

export interface ImagePart {
  type: 'image_url';
  image_url: { url: string };
}
export type ImageResult = { ok: true; parts: ImagePart[] } | { ok: false; path: string; message: string };

/** A problem's images as chat content parts (local files confined to the input folders). */
export type ImagePort = (images: readonly string[]) => Promise<ImageResult>;

/** Counters a long stage reports while it works. */
export interface ProgressCounts {
  done: number;
  tokens_in: number;
  tokens_out: number;
  cache_hits: number;
  retries: number;
  errors: number;
}

export interface ProgressSink {
  /** Latest counters; cheap, may be called on every event (rendering happens on a timer). */
  update(c: ProgressCounts): void;
  /** Final counters; renders once more and stops the timer. */
  finish(c: ProgressCounts): void;
}

/** One line of a text file, 1-based; `valid` is false when the line's bytes are not UTF-8. */
export interface TextLine {
  line: number;
  text: string;
  valid: boolean;
}

/** Part `index` (0-based) of `of` byte ranges of a file: its lines are those that start in it. */
export interface FilePart {
  index: number;
  of: number;
}

/** Input files, streamed: adapters read through this, never through `node:fs`. */
export interface FilesPort {
  /**
   * The lines of a text file, read as a stream (memory bounded by one line). With `part`, only
   * the lines that start in that one of `of` equal byte ranges, still numbered from the file's start.
   */
  lines(file: string, part?: FilePart): AsyncIterable<TextLine>;
  /** The rows of a Parquet file, read in batches (memory bounded by one batch). */
  parquetRows(file: string): AsyncIterable<{ row: number; value: Record<string, unknown> }>;
  /** A whole small text file. */
  text(file: string): Promise<string>;
  /** The real path of a file (symlinks resolved), or null when it does not exist. */
  realpath(file: string): Promise<string | null>;
}

export type Log = (line: string) => void;
