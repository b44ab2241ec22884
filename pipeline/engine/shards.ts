/**
 * @module pipeline/engine/shards
 * Shards and fingerprints. A problem's shard is a hash of its `problem_id`, so an edited problem
 * stays in its shard (with its cached replies) and a path can be bucketed before its problem is
 * read; its content hash, in the fingerprints, is what tells an edit.
 */
import { createHash, hash } from 'node:crypto';

/** Shard ids for `count` shards: `s00`, `s01`, ... (hex, fixed width). */
export function shardIds(count: number): string[] {
  const width = Math.max(2, (count - 1).toString(16).length);
  return Array.from({ length: count }, (_, i) => `s${i.toString(16).padStart(width, '0')}`);
}

/** The shard of a problem id among `count` shards (a power of two). */
export function shardOf(problemId: string, count: number): string {
  // The one-shot hash: no Hash object per call (the reader calls this for every row).
  const h = hash('sha256', problemId, 'buffer');
  const i = h.readUInt32BE(0) % count;
  const width = Math.max(2, (count - 1).toString(16).length);
  return `s${i.toString(16).padStart(width, '0')}`;
}

/** A short stable hash of any JSON value (key order as written). */
export function fingerprint(value: unknown): string {
  return hash('sha256', JSON.stringify(value) ?? 'null', 'hex').slice(0, 20);
}

/** A fingerprint of a shard's per-problem fingerprints (independent of insertion order). */
export function shardFingerprint(problems: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const id of Object.keys(problems).sort()) h.update(`${id}\u0000${problems[id]}\u0001`);
  return h.digest('hex').slice(0, 20);
}
