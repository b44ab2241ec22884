/**
 * @module stages/score/ffs
 * First Failure Step (TRACE.md "First Failure Step"): the earliest root-cause error that
 * carries through erroneous nodes to F on a path whose final answer is wrong.
 */
import type { ArsNode, Verdict } from '../../schemas/index.ts';

export interface FfsResult {
  /** FFS node id (`F` when no root cause propagates), or null for a correct or unlabeled path. */
  ffs_node: string | null;
  /** Earliest root cause on a path whose final answer is right. */
  silent_failure_node: string | null;
}

/**
 * `nodes` in order with F last, `verdicts` by node id (intermediate nodes), `y` final correctness.
 * With `y` null (no label) there is no FFS to find.
 */
export function firstFailure(
  nodes: readonly ArsNode[],
  verdicts: ReadonlyMap<string, Verdict>,
  y: boolean | null,
): FfsResult {
  const errors = new Set(nodes.filter((n) => !n.is_final && isError(verdicts.get(n.node_id))).map((n) => n.node_id));
  const parents = new Map(nodes.map((n) => [n.node_id, n.depends_on]));
  const roots = nodes.filter((n) => errors.has(n.node_id) && !hasErrorAncestor(n.node_id, parents, errors));
  if (y === null) return { ffs_node: null, silent_failure_node: null };
  if (y) return { ffs_node: null, silent_failure_node: roots[0]?.node_id ?? null };
  const reach = reachesFinalThroughErrors(nodes, errors);
  const propagating = roots.find((n) => reach.has(n.node_id));
  return { ffs_node: propagating?.node_id ?? 'F', silent_failure_node: null };
}

const isError = (v: Verdict | undefined) => v === 'fail' || v === 'missing';

function hasErrorAncestor(
  id: string,
  parents: ReadonlyMap<string, readonly string[]>,
  errors: ReadonlySet<string>,
): boolean {
  const stack = [...(parents.get(id) ?? [])];
  const seen = new Set<string>();
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    if (errors.has(p)) return true;
    stack.push(...(parents.get(p) ?? []));
  }
  return false;
}

/** Error nodes from which a chain of edges reaches F through error nodes only. */
function reachesFinalThroughErrors(nodes: readonly ArsNode[], errors: ReadonlySet<string>): Set<string> {
  const final = nodes.find((n) => n.is_final);
  const out = new Set<string>();
  if (!final) return out;
  // Walk backwards from F over parents that are errors: they reach F through errors.
  const byId = new Map(nodes.map((n) => [n.node_id, n]));
  const stack = final.depends_on.filter((d) => errors.has(d));
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    for (const p of byId.get(id)?.depends_on ?? []) if (errors.has(p)) stack.push(p);
  }
  return out;
}
