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
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeSync,
  mkdirSync,
} from 'node:fs';
import { join } from 'node:path';
import type { CacheEntry, ReplyCache } from './client/cache.ts';

/** How every entry's line starts: `put` writes the key first. */
const KEY_PREFIX = '{"key":"';
const PREFIX = Buffer.from(KEY_PREFIX);
const NL = 0x0a;
const QUOTE = 0x22;
const BRACE = 0x7d;

/** A line not parsed yet: where it sits in the bytes of its file. */
type Span = { buf: Buffer; start: number; end: number };

export class ShardCache implements ReplyCache {
  /** Parsed entries, and lines not parsed yet by key: a re-run that looks up a few replies of a shard parses only those. */
  private readonly entries = new Map<string, CacheEntry>();
  private readonly lines = new Map<string, Span>();
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
      .sort())
      this.index(readFileSync(join(this.dir, f)));
  }

  /** Indexes a file's lines by key on the bytes (only keys are decoded); a line of another shape (or cut short) is parsed now. */
  private index(buf: Buffer): void {
    let start = 0;
    while (start < buf.length) {
      let end = buf.indexOf(NL, start);
      if (end < 0) end = buf.length;
      if (end > start) {
        const keyed =
          end - start > PREFIX.length &&
          buf[end - 1] === BRACE &&
          buf.compare(PREFIX, 0, PREFIX.length, start, start + PREFIX.length) === 0;
        const close = keyed ? buf.indexOf(QUOTE, start + PREFIX.length) : -1;
        if (close > 0 && close < end) {
          const key = buf.toString('utf8', start + PREFIX.length, close);
          this.entries.delete(key);
          this.lines.set(key, { buf, start, end });
        } else {
          try {
            const e = JSON.parse(buf.toString('utf8', start, end)) as CacheEntry;
            this.lines.delete(e.key);
            this.entries.set(e.key, e);
          } catch {
            this.skipped++;
          }
        }
      }
      start = end + 1;
    }
  }

  get size(): number {
    return this.entries.size + this.lines.size;
  }

  get(key: string): Promise<CacheEntry | undefined> {
    const span = this.lines.get(key);
    if (span !== undefined) {
      this.lines.delete(key);
      try {
        const e = JSON.parse(span.buf.toString('utf8', span.start, span.end)) as CacheEntry;
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
      // Only the last byte is read: the file holds every reply of the shard so far.
      this.fd = openSync(this.file, 'a+');
      const size = fstatSync(this.fd).size;
      const last = Buffer.alloc(1);
      if (size > 0 && readSync(this.fd, last, 0, 1, size - 1) === 1 && last[0] !== NL) writeSync(this.fd, '\n');
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
