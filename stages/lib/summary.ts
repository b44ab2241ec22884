/**
 * @module stages/lib/summary
 * Per-shard summaries and counts merge by one rule, so no stage writes its own merge: numbers add
 * up, flags or, lists concatenate, objects merge key by key. A summary is plain JSON.
 */

/** Merges summaries: numbers add, flags or, arrays concatenate, objects merge by key; anything else keeps the last value. */
export function mergeSummaries(parts: readonly unknown[]): unknown {
  let out: unknown = undefined;
  for (const p of parts) out = merge2(out, p);
  return out;
}

function merge2(a: unknown, b: unknown): unknown {
  if (a === undefined) return clone(b);
  if (b === undefined) return a;
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a || b;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (const x of b) a.push(x);
    return a;
  }
  if (isObject(a) && isObject(b)) {
    for (const [k, v] of Object.entries(b)) a[k] = merge2(a[k], v);
    return a;
  }
  return b;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return [...v];
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  return v;
}
