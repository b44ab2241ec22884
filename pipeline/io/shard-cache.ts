/**
 * @module pipeline/io/shard-cache
 * The request cache of one shard: `state/cache/<shard>/<writer>.jsonl`, one reply per line, keyed
 * by a hash of model, messages, sampling parameters, schema and sample index. Opening indexes the
 * shard's lines by key (a line is parsed when it is first looked up), so a lookup costs the same at
 * any size of the run and a re-run that asks for a few replies parses only those; a reply is
 * appended with one write as soon as it arrives, so a killed process (even by SIGKILL) loses
 * nothing it received, and a cut last line is skipped on the next load. Each process writes its
 * own file (several workers may serve one shard), and loading reads them all.
 * Memory: one shard's replies.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheEntry, ReplyCache } from './client/cache.ts';

/** How every entry's line starts: `put` writes the key first. */
const KEY_PREFIX = '{"key":"';

export class ShardCache implements ReplyCache {
  /** Parsed entries, and lines not parsed yet by key: a re-run that looks up a few replies of a shard parses only those. */
  private readonly entries = new Map<string, CacheEntry>();
  private readonly lines = new Map<string, string>();
  private fd: number | null = null;
  writes = 0;
  /** Lines that could not be read (a cut last line after a kill). */
  skipped = 0;
  private readonly dir: string;
  private readonly file: string;

  /** Opens the cache of `shard` under `root`; `writer` names this process's file. */
  constructor(root: string, shard: string, writer = 'main') {
    this.dir = join(root, shard);
    this.file = join(this.dir, `${writer}.jsonl`);
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)
      .filter((x) => x.endsWith('.jsonl'))
      .sort()) {
      const text = readFileSync(join(this.dir, f), 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        // Every entry is written with its key first; a line of another shape (or cut short) is parsed now.
        const end = line.startsWith(KEY_PREFIX) && line.endsWith('}') ? line.indexOf('"', KEY_PREFIX.length) : -1;
        if (end > 0) {
          const key = line.slice(KEY_PREFIX.length, end);
          this.entries.delete(key);
          this.lines.set(key, line);
          continue;
        }
        try {
          const e = JSON.parse(line) as CacheEntry;
          this.lines.delete(e.key);
          this.entries.set(e.key, e);
        } catch {
          this.skipped++;
        }
      }
    }
  }

  get size(): number {
    return this.entries.size + this.lines.size;
  }

  get(key: string): Promise<CacheEntry | undefined> {
    const line = this.lines.get(key);
    if (line !== undefined) {
      this.lines.delete(key);
      try {
        const e = JSON.parse(line) as CacheEntry;
        if (e.key === key) this.entries.set(key, e);
      } catch {
        // A line cut by a kill: the reply was never complete, so it is asked again.
        this.skipped++;
      }
    }
    return Promise.resolve(this.entries.get(key));
  }

  /** Appends entries in one write: all samples of one reply become durable together. */
  put(...entries: CacheEntry[]): void {
    if (entries.length === 0) return;
    if (this.fd === null) {
      mkdirSync(this.dir, { recursive: true });
      // A line cut by a kill must not swallow the next entry: start on a fresh line.
      const torn =
        existsSync(this.file) && !readFileSync(this.file, 'utf8').endsWith('\n') && readFileSync(this.file).length > 0;
      this.fd = openSync(this.file, 'a');
      if (torn) writeSync(this.fd, '\n');
    }
    // The key first, so that a later load can index the line without parsing it.
    writeSync(this.fd, entries.map(({ key, ...rest }) => `${JSON.stringify({ key, ...rest })}\n`).join(''));
    for (const e of entries) {
      this.lines.delete(e.key);
      this.entries.set(e.key, e);
    }
    this.writes += entries.length;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
