/**
 * @module stages/lib/pool
 * Bounded concurrency over a list: at most `limit` calls of `f` in flight, started in list order,
 * results in list order. What the stages use to keep a model server busy without queueing every
 * request at once, and the engine to read many small files without opening all of them.
 */

/** Calls `f` on every item, at most `limit` at once; resolves with the results in the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  f: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(items.length, Math.max(1, limit)) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!, i);
      }
    }),
  );
  return out;
}
