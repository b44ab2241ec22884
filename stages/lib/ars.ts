/**
 * @module stages/lib/ars
 * Builds and validates an Auxiliary Reasoning Set (TRACE.md "Objects"): a DAG whose nodes all
 * reach the final node F, put in topological order with ties broken by declared order.
 */
import type { AnswerSpec, ArsNode, Issue } from '../../schemas/index.ts';

export interface ArsInputNode {
  node_id: string;
  question: string;
  depends_on: string[];
  answer: string | null;
  answer_spec: AnswerSpec;
  uses_image: boolean;
}

export interface FinalNode {
  question: string;
  answer: string | null;
  answer_spec: AnswerSpec;
}

export const FINAL_ID = 'F';

/**
 * Validates an ARS and returns its nodes in order with F last. An input node named `F` only
 * declares F's parents; without it F depends on the sinks. Errors name the node.
 */
export function buildArs(
  problemId: string,
  input: readonly ArsInputNode[],
  final: FinalNode,
): { nodes: ArsNode[] } | { issues: Issue[] } {
  const issues: Issue[] = [];
  const bad = (path: string, message: string, code: Issue['code'] = 'invalid_ars') =>
    issues.push({ code, path, message });
  const declared = input.filter((n) => n.node_id !== FINAL_ID);
  const explicitF = input.find((n) => n.node_id === FINAL_ID);
  const index = new Map<string, number>();
  declared.forEach((n, i) => {
    if (index.has(n.node_id))
      bad(`ars.${input.indexOf(n)}.node_id`, `ARS node ${n.node_id} of problem ${problemId} is declared twice`);
    else index.set(n.node_id, i);
  });
  input.forEach((n, i) =>
    n.depends_on.forEach((d, j) => {
      if (d === FINAL_ID)
        bad(
          `ars.${i}.depends_on.${j}`,
          `ARS node ${n.node_id} of problem ${problemId} depends on F, the final question`,
        );
      else if (!index.has(d))
        bad(
          `ars.${i}.depends_on.${j}`,
          `ARS node ${n.node_id} of problem ${problemId} depends on ${d}, which does not exist`,
          'invalid_reference',
        );
    }),
  );
  if (issues.length) return { issues };

  const order = topologicalOrder(declared);
  if ('cycle' in order) {
    return {
      issues: [
        {
          code: 'invalid_ars',
          path: 'ars',
          message: `ARS of problem ${problemId} has a cycle: ${order.cycle.join(' → ')}`,
        },
      ],
    };
  }
  const hasChild = new Set(declared.flatMap((n) => n.depends_on));
  const fParents = explicitF
    ? explicitF.depends_on
    : declared.filter((n) => !hasChild.has(n.node_id)).map((n) => n.node_id);
  const reaching = reachesFinal(declared, fParents);
  for (const n of declared) {
    if (!reaching.has(n.node_id))
      bad(
        `ars.${input.indexOf(n)}`,
        `ARS node ${n.node_id} of problem ${problemId} does not reach the final question F`,
      );
  }
  if (issues.length) return { issues };

  const nodes: ArsNode[] = order.ids.map((id, position) => {
    const n = declared[index.get(id)!]!;
    return {
      problem_id: problemId,
      node_id: id,
      position,
      question: n.question,
      depends_on: n.depends_on,
      answer: n.answer,
      answer_spec: n.answer_spec,
      uses_image: n.uses_image,
      is_final: false,
    };
  });
  nodes.push({
    problem_id: problemId,
    node_id: FINAL_ID,
    position: nodes.length,
    question: final.question,
    depends_on: fParents,
    answer: final.answer,
    answer_spec: final.answer_spec,
    uses_image: false,
    is_final: true,
  });
  return { nodes };
}

/** Kahn's algorithm choosing the earliest-declared ready node; reports one cycle when stuck. */
function topologicalOrder(nodes: readonly ArsInputNode[]): { ids: string[] } | { cycle: string[] } {
  const indegree = new Map(nodes.map((n) => [n.node_id, n.depends_on.length]));
  const children = new Map<string, string[]>(nodes.map((n) => [n.node_id, []]));
  for (const n of nodes) for (const d of n.depends_on) children.get(d)!.push(n.node_id);
  const done = new Set<string>();
  const ids: string[] = [];
  while (ids.length < nodes.length) {
    const next = nodes.find((n) => !done.has(n.node_id) && indegree.get(n.node_id) === 0);
    if (!next) return { cycle: findCycle(nodes.filter((n) => !done.has(n.node_id))) };
    done.add(next.node_id);
    ids.push(next.node_id);
    for (const c of children.get(next.node_id)!) indegree.set(c, indegree.get(c)! - 1);
  }
  return { ids };
}

/** Walks `depends_on` from a node left unordered until a node repeats: that loop is a cycle (`A → B`: A depends on B). */
function findCycle(rest: readonly ArsInputNode[]): string[] {
  const byId = new Map(rest.map((n) => [n.node_id, n]));
  const seen: string[] = [];
  let cur = rest[0]!;
  while (!seen.includes(cur.node_id)) {
    seen.push(cur.node_id);
    cur = byId.get(cur.depends_on.find((d) => byId.has(d))!)!;
  }
  // The loop in `depends_on` direction, starting from its earliest-declared node.
  const loop = seen.slice(seen.indexOf(cur.node_id));
  const first = loop.reduce((a, b) =>
    rest.findIndex((n) => n.node_id === b) < rest.findIndex((n) => n.node_id === a) ? b : a,
  );
  const start = loop.indexOf(first);
  const rotated = [...loop.slice(start), ...loop.slice(0, start)];
  return [...rotated, rotated[0]!];
}

function reachesFinal(nodes: readonly ArsInputNode[], fParents: readonly string[]): Set<string> {
  const parents = new Map(nodes.map((n) => [n.node_id, n.depends_on]));
  const seen = new Set<string>();
  const stack = [...fParents];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(parents.get(id) ?? []));
  }
  return seen;
}

/** Ancestors of each node (transitive `depends_on`), for FFS root causes. */
export function ancestors(nodes: readonly ArsNode[]): Map<string, Set<string>> {
  const byId = new Map(nodes.map((n) => [n.node_id, n]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const hit = memo.get(id);
    if (hit) return hit;
    const out = new Set<string>();
    memo.set(id, out);
    for (const d of byId.get(id)?.depends_on ?? []) {
      out.add(d);
      for (const a of visit(d)) out.add(a);
    }
    return out;
  };
  for (const n of nodes) visit(n.node_id);
  return memo;
}

/** Depth of each node of one problem's ARS: 0 for a node with no parents, else 1 + its deepest parent. */
export function depths(nodes: readonly Pick<ArsNode, 'node_id' | 'position' | 'depends_on'>[]): Map<string, number> {
  const out = new Map<string, number>();
  // Position is a topological order, so parents come before their children.
  for (const n of [...nodes].sort((a, b) => a.position - b.position)) {
    const parents = n.depends_on.map((d) => out.get(d) ?? 0);
    out.set(n.node_id, parents.length ? 1 + Math.max(...parents) : 0);
  }
  return out;
}
