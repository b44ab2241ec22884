/**
 * @module sim/decompose
 * The SIMULATED teacher's decomposition of a synth problem (the reply `checkProposal` in
 * stages/decompose reads): its ARS from the formulas, with gold answers. With probability
 * `pError` per reply the teacher errs the way teachers do: one node is dropped (its dependants
 * lean on its parents instead) or merged into one of its dependants. Node ids stay the synth ids,
 * so guided prompts built on the proposal are answered node by node.
 */
import type { Rng } from './rng.ts';
import type { SynthProblem } from './synth.ts';

interface ProposedNode {
  node_id: string;
  question: string;
  depends_on: string[];
  uses_image: boolean;
  answer: string;
}

const withUnit = (answer: string, unit: string | null) => (unit ? `${answer} ${unit}` : answer);

/** The decomposition reply (JSON text) for `p`; `r` draws the teacher's error. */
export function decompositionContent(p: SynthProblem, pError: number, r: Rng): string {
  let nodes: ProposedNode[] = p.input.ars.map((a) => ({
    node_id: a.node_id,
    question: a.question,
    depends_on: [...a.depends_on],
    uses_image: false,
    answer: withUnit(a.answer ?? '', a.answer_spec.unit),
  }));
  if (nodes.length > 1 && r.next() < pError) nodes = dropOrMerge(p, nodes, r);
  return JSON.stringify({ nodes, final_answer: withUnit(p.input.answer ?? '', p.input.answer_spec.unit) });
}

/** Removes one node: its dependants take its parents; a node with dependants may instead be merged into the first. */
function dropOrMerge(p: SynthProblem, nodes: ProposedNode[], r: Rng): ProposedNode[] {
  const gone = r.pick(nodes);
  const child = nodes.find((n) => n.depends_on.includes(gone.node_id));
  const merge = child !== undefined && r.next() < 0.5;
  const step = (id: string) => p.steps.find((s) => s.node_id === id);
  return nodes
    .filter((n) => n !== gone)
    .map((n) => {
      if (!n.depends_on.includes(gone.node_id)) return n;
      const depends_on = [...new Set(n.depends_on.flatMap((d) => (d === gone.node_id ? gone.depends_on : [d])))];
      if (!merge || n !== child) return { ...n, depends_on };
      const c = step(n.node_id);
      const question = `Using ${step(gone.node_id)?.what ?? 'the previous result'}, what is ${c?.what ?? 'the next result'}${c?.unit ? ` in ${c.unit}` : ''}?`;
      return { ...n, depends_on, question };
    });
}
