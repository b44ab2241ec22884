/**
 * @module stages/align/align
 * Node answers for free paths by numeric alignment (no model): each ARS node is matched to the
 * path step that computes it, following the path's own wrong values through the DAG; then only
 * the answers its final answer rests on are kept (`keepCarried`). An extractor model is the other
 * mode (`alignWithExtractor`). Ars-guided paths pass through unchanged.
 */
import type { AnswerSpec, ArsNode, NodeAnswer, PathRow } from '../../schemas/index.ts';
import { parseNumber } from '../lib/equivalence/index.ts';
import { answerText } from './units.ts';
import { extractAnswer } from '../lib/equivalence/extract.ts';
import { alignNodes, pathFacts } from './nodes.ts';
import { keepCarried } from './carry.ts';
import { byProblemId } from '../lib/group.ts';

export { arithmeticErrors, computations, evaluate } from './arith.ts';
export { ffsStepForFree, alignNodes, pathFacts, firstDeviation } from './nodes.ts';
export { carriedValues, keepCarried } from './carry.ts';
export {
  alignWithExtractor,
  extractorMessages,
  extractorSchema,
  parseExtractorReply,
  type ExtractorCall,
  type ExtractorIssue,
} from './extractor.ts';

export interface AlignOptions {
  /** Re-align free paths that already carry node answers (default false: keep them). */
  realign?: boolean;
  /**
   * Keep only node answers the final answer rests on (`keepCarried`; default true). With false,
   * only explicit evidence aligns (no implied values: nothing would confirm them).
   */
  carry?: boolean;
}

/**
 * Fills `node_answers` (one per intermediate node, then `F` = the final answer at the last step)
 * and a missing `final_answer` of every free path. Paths of a problem with no nodes are returned
 * unchanged. Time O(paths × nodes × computations per path).
 */
export function align(
  input: { paths: readonly PathRow[]; nodes: readonly ArsNode[] },
  opts: AlignOptions = {},
): { paths: PathRow[] } {
  const byProblem = byProblemId(input.nodes);
  for (const list of byProblem.values()) list.sort((a, b) => a.position - b.position);
  const paths = input.paths.map((p) => {
    if (p.mode !== 'free' || (p.node_answers.length > 0 && !opts.realign)) return p;
    const nodes = byProblem.get(p.problem_id);
    if (!nodes?.length) return p;
    return alignPath(p, nodes, opts);
  });
  return { paths };
}

/** Aligns one free path to its problem's nodes (`F` included, in order). */
export function alignPath(p: PathRow, nodes: readonly ArsNode[], opts: AlignOptions = {}): PathRow {
  const final = nodes.find((n) => n.is_final);
  const final_answer = final ? inUnitOf(finalAnswerOf(p), final.answer_spec, p.steps) : finalAnswerOf(p);
  const facts = pathFacts(p.steps, final?.question ?? '');
  const { answers } = alignNodes(facts, nodes, { implicit: opts.carry !== false });
  const node_answers: NodeAnswer[] =
    opts.carry === false ? [...answers] : keepCarried(answers, facts, final_answer, final?.depends_on ?? []);
  if (final)
    node_answers.push({
      node_id: final.node_id,
      answer: final_answer,
      step: p.steps.length ? p.steps.length - 1 : null,
    });
  return { ...p, final_answer, node_answers };
}

/** A free path's final answer as align fills it: the one it came with, else the answer its text ends on. */
export function finalAnswerOf(p: Pick<PathRow, 'final_answer' | 'steps'>): string | null {
  return p.final_answer ?? (p.steps.length ? unbox(extractAnswer(p.steps.join('\n'))) : null);
}

/** A bare-number final answer to a quantity question, read with the unit its text states or the question's. */
function inUnitOf(answer: string | null, spec: AnswerSpec, steps: readonly string[]): string | null {
  if (answer === null || spec.kind !== 'quantity' || !spec.unit) return answer;
  const bare = parseNumber(answer);
  return bare === null ? answer : answerText(bare, spec, steps.at(-1));
}

/** `\boxed{x}` as extracted from a last sentence is the answer `x`. */
const unbox = (a: string | null) => (a === null ? null : (/^\\boxed\s*\{([^{}]*)\}$/.exec(a.trim())?.[1]?.trim() ?? a));
