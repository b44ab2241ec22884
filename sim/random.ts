/**
 * @module sim/random
 * SIMULATED RANDOM answers for problems that are not from the synth bank (`sim serve --problems`
 * on a user's file): plausible, parseable replies to every prompt kind, with values seeded by the
 * problem text (each node has a "usual" value that most samples give, so paths agree often
 * enough to exercise the whole pipeline). They mean nothing: every reply says
 * "(SIMULATED random answer)" where the format leaves room, and the server adds
 * `x-tracepipe-random: true`.
 */
import { fmt, hash, rng, type Rng } from './rng.ts';
import { perturb } from './solve.ts';
import type { RandomProblem } from './problems.ts';

export const RANDOM_LABEL = '(SIMULATED random answer)';
/** Share of sampled values that differ from the problem's usual value. */
const P_OFF = 0.2;

/** The usual value of node `id` of `p`: seeded by the problem text only. */
function usual(p: RandomProblem, id: string): number {
  const r = rng(hash('random', p.question, id));
  return r.next() < 0.5 ? r.int(2, 500) : r.int(100, 99_999) / 100;
}

const value = (p: RandomProblem, id: string, r: Rng) => {
  const x = usual(p, id);
  return r.next() < P_OFF ? perturb(x, r) : x;
};
const withUnit = (x: string, unit: string | null | undefined) => (unit ? `${x} ${unit}` : x);
const nodeAnswer = (p: RandomProblem, id: string, r: Rng) => withUnit(fmt(value(p, id, r)), p.nodeUnits[id]);

/** The final answer of one sample: a choice letter when the problem has choices, else a number with the problem's unit. */
function finalAnswer(p: RandomProblem, r: Rng): string {
  if (p.choices.length) {
    const k = rng(hash('random', p.question, 'choice')).int(0, p.choices.length - 1);
    const j = r.next() < P_OFF ? r.int(0, p.choices.length - 1) : k;
    return String.fromCharCode(65 + j);
  }
  return withUnit(fmt(value(p, 'F', r)), p.unit);
}

/** How many intermediate steps a free reply has (2 or 3, fixed per problem). */
const stepCount = (p: RandomProblem) => 2 + (hash('random', p.question, 'steps') % 2);

/** Guided reply (the JSON `parseGuided` reads) for the node ids `order`. */
export function randomGuided(p: RandomProblem, order: readonly string[], r: Rng): string {
  return JSON.stringify({
    steps: order.map((id) => {
      const answer = nodeAnswer(p, id, r);
      return { node_id: id, reasoning: `${RANDOM_LABEL} The value for ${id} = ${answer}.`, answer };
    }),
    final: { reasoning: `${RANDOM_LABEL} Combining the values above.`, answer: finalAnswer(p, r) },
  });
}

/** Free reply, or a continuation after `done` prefix steps: "Step k:" lines numbered from done + 1, then "Final answer: ...". */
export function randomFree(p: RandomProblem, r: Rng, done = 0): string {
  const lines: string[] = [];
  for (let k = done + 1; k <= Math.max(stepCount(p), done + 1); k++)
    lines.push(`Step ${k}: ${RANDOM_LABEL} Intermediate result ${k} = ${nodeAnswer(p, `S${k}`, r)}.`);
  const final = finalAnswer(p, r);
  lines.push(`Step ${lines.length + done + 1}: ${RANDOM_LABEL} Combining these, the answer = ${final}.`);
  return `${lines.join('\n')}\nFinal answer: ${final}`;
}

const GENERIC = [
  'What quantity does the problem need first?',
  'What follows from the previous answer?',
  'What is the last intermediate result before the answer?',
];

/** Decomposition reply (what `checkProposal` reads): 2 or 3 generic sub-questions in a chain. */
export function randomDecomposition(p: RandomProblem, r: Rng): string {
  const nodes = GENERIC.slice(0, stepCount(p)).map((q, i) => ({
    node_id: `Q${i + 1}`,
    question: `${q} ${RANDOM_LABEL}`,
    depends_on: i ? [`Q${i}`] : [],
    uses_image: false,
    answer: nodeAnswer(p, `Q${i + 1}`, r),
  }));
  return JSON.stringify({ nodes, final_answer: finalAnswer(p, r) });
}
