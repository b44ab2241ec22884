/**
 * @module stages/lib/memo
 * Caches of pure functions of text, for the work one shard repeats: alignment and scoring read
 * the same step texts (their arithmetic, their stated numbers), and a chain runs both on a shard
 * one after the other. Each cache is bounded (cleared when it reaches its size) and the engine
 * clears them all when a chain ends, so memory stays within one shard's texts and nothing is
 * carried from one shard to the next.
 */

const all: Map<string, unknown>[] = [];

/** A bounded cache of `f` keyed by its string argument. `f` must be pure and its result never mutated. */
export function memoText<T>(f: (text: string) => T, max = 200_000): (text: string) => T {
  const cache = new Map<string, T>();
  all.push(cache);
  return (text: string) => {
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    const v = f(text);
    if (cache.size >= max) cache.clear();
    cache.set(text, v);
    return v;
  };
}

/** Empties every cache (the engine calls it after each shard's chain). */
export function clearTextMemos(): void {
  for (const c of all) c.clear();
}
