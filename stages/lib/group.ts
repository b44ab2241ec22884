/** @module stages/lib/group  Rows grouped by their problem: the one place that does it. */

/** Rows by `problem_id`, each list in input order; problems in order of first appearance. */
export function byProblemId<T extends { problem_id: string }>(rows: Iterable<T>): Map<string, T[]> {
  return groupBy(rows, (r) => r.problem_id);
}

/** Rows by a key, each list in input order. */
export function groupBy<T>(rows: Iterable<T>, key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}
