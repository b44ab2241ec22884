/**
 * @module pipeline/io/client/cache
 * The durable response cache (table `request_cache` in the run's state.duckdb): one row per
 * sampled reply, keyed by a hash of model, messages, sampling parameters, schema and sample
 * index. Lookups are batched per tick; writes are buffered and flushed as one INSERT every
 * `flushMs` or `maxBatch` entries, so a crash loses at most the unflushed replies (which are
 * then simply requested again) and never leaves half an entry.
 */
import { createHash } from 'node:crypto';
import { t, table, type Row } from '../../../schemas/define.ts';
import { sqlString, type Store } from '../store.ts';

export const requestCache = table('request_cache', {
  key: t.string(),
  model: t.string(),
  content: t.string(),
  finish_reason: t.nullable(t.string()),
  tokens_in: t.int(),
  tokens_out: t.int(),
});
export type CacheEntry = Row<typeof requestCache>;

/** The cache key of one sample: stable JSON of everything that shapes the reply (messages may come pre-hashed), hashed. */
export function cacheKey(parts: {
  model: string;
  messages: unknown;
  params: Record<string, unknown>;
  schema: unknown;
  sample_index: number;
}): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([parts.model, parts.params, parts.schema ?? null, parts.sample_index]));
  h.update('\u0000');
  h.update(JSON.stringify(parts.messages));
  return h.digest('hex');
}

/** What the client needs of a reply cache: lookups, writes that become durable, and a count of them. */
export interface ReplyCache {
  get(key: string): Promise<CacheEntry | undefined>;
  put(...entries: CacheEntry[]): void;
  readonly writes: number;
}

export interface CacheOptions {
  flushMs?: number;
  maxBatch?: number;
}

export class RequestCache implements ReplyCache {
  private pending = new Map<string, CacheEntry>();
  /** Entries handed to an INSERT that has not finished yet; still visible to lookups. */
  private flushing = new Map<string, CacheEntry>();
  private lookups = new Map<string, ((e: CacheEntry | undefined) => void)[]>();
  private lookupScheduled = false;
  /** All DuckDB work runs on this chain: the store has one connection. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private failure: unknown = null;
  writes = 0;
  flushes = 0;

  private constructor(
    private readonly store: Store,
    opts: CacheOptions,
  ) {
    this.flushMs = opts.flushMs ?? 100;
    this.maxBatch = opts.maxBatch ?? 200;
  }

  /** Opens the cache in `store`, creating its table. */
  static async open(store: Store, opts: CacheOptions = {}): Promise<RequestCache> {
    await store.ensure(requestCache);
    return new RequestCache(store, opts);
  }

  /** Looks a key up; concurrent lookups in the same tick share one query. */
  get(key: string): Promise<CacheEntry | undefined> {
    const hit = this.pending.get(key) ?? this.flushing.get(key);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const waiting = this.lookups.get(key);
      if (waiting) waiting.push(resolve);
      else this.lookups.set(key, [resolve]);
      if (!this.lookupScheduled) {
        this.lookupScheduled = true;
        setImmediate(() => void this.runLookups());
      }
    });
  }

  private async runLookups(): Promise<void> {
    this.lookupScheduled = false;
    const batch = this.lookups;
    this.lookups = new Map();
    const keys = [...batch.keys()];
    const found = new Map<string, CacheEntry>();
    try {
      for (let i = 0; i < keys.length; i += 2000) {
        const list = keys
          .slice(i, i + 2000)
          .map(sqlString)
          .join(', ');
        const rows = await this.serial(() =>
          this.store.query<CacheEntry>(
            `SELECT ${requestCache.columns.join(', ')} FROM request_cache WHERE key IN (${list})`,
          ),
        );
        for (const r of rows) found.set(r.key, r);
      }
    } catch (e) {
      this.failure ??= e;
    }
    for (const [k, resolvers] of batch)
      for (const r of resolvers) r(found.get(k) ?? this.pending.get(k) ?? this.flushing.get(k));
  }

  /** Buffers entries; they become durable together in the next flush (never split across two). */
  put(...entries: CacheEntry[]): void {
    for (const entry of entries) this.pending.set(entry.key, entry);
    if (this.pending.size >= this.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes every buffered entry in one INSERT (one transaction). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.size === 0) return this.serial(async () => undefined);
    const batch = this.pending;
    this.pending = new Map();
    for (const [k, v] of batch) this.flushing.set(k, v);
    return this.serial(async () => {
      try {
        await this.store.append(requestCache, batch.values());
        this.writes += batch.size;
        this.flushes++;
      } catch (e) {
        this.failure ??= e;
      } finally {
        for (const k of batch.keys()) this.flushing.delete(k);
      }
    });
  }

  /** Flushes and reports the first database error, if any happened on the way. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failure)
      throw new Error(
        `request cache in ${this.store.file}: ${(this.failure as Error).message ?? String(this.failure)}`,
      );
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
