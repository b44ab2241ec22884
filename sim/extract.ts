/**
 * @module sim/extract
 * The SIMULATED extractor's alignment of a free path to ARS nodes (the reply
 * `parseExtractorReply` in stages/align reads): for the simulator's own paths of a synth problem,
 * each node maps to the step that computes it (found by the node's quantity phrase) and the value
 * that step states, wrong or not; `F` maps to the "Final answer:" line. Other problems map steps
 * by order. With probability `pError` per intermediate node the extractor errs: it misses the node
 * (null) or copies the neighbouring step's value.
 */
import type { Rng } from './rng.ts';
import type { Target } from './problems.ts';
import { statedAnswer } from './solve.ts';

interface Entry {
  node_id: string;
  step: number | null;
  answer: string | null;
}

const FINAL = /^final answer\s*:/i;

/** The answer stated right after `what` in `text` (its sentence), or null when `text` does not name it. */
function answerAfter(text: string, what: string): string | null {
  const at = text.toLowerCase().indexOf(what.toLowerCase());
  if (at < 0) return null;
  const rest = text.slice(at);
  const end = rest.search(/\.(\s|$)/);
  return statedAnswer(end < 0 ? rest : rest.slice(0, end + 1));
}

/** The extractor reply (JSON text) for the solution `steps` and the node ids `ids` (in order, F last). */
export function extractionContent(
  target: Target,
  steps: readonly string[],
  ids: readonly string[],
  pError: number,
  r: Rng,
): string {
  const last = steps.length - 1;
  const finalAt = steps.findLastIndex((s) => FINAL.test(s));
  const entry = (id: string, i: number): Entry => {
    if (id === 'F') {
      const at = finalAt >= 0 ? finalAt : last;
      return { node_id: id, step: at < 0 ? null : at, answer: at < 0 ? null : statedAnswer(steps[at]!) };
    }
    const st = target.kind === 'synth' ? target.problem.steps.find((s) => s.node_id === id) : undefined;
    if (st) {
      const k = Number(id.slice(1)) - 1;
      const at =
        steps[k] !== undefined && answerAfter(steps[k]!, st.what) !== null
          ? k
          : steps.findIndex((s) => answerAfter(s, st.what) !== null);
      return { node_id: id, step: at < 0 ? null : at, answer: at < 0 ? null : answerAfter(steps[at]!, st.what) };
    }
    const s = steps[i];
    const answer = s === undefined || FINAL.test(s) ? null : statedAnswer(s);
    return { node_id: id, step: answer === null ? null : i, answer };
  };
  const nodes = ids.map((id, i) => {
    const e = entry(id, i);
    if (id === 'F' || !(r.next() < pError)) return e;
    const j = e.step === null ? -1 : e.step + (r.next() < 0.5 ? -1 : 1);
    const answer = j >= 0 && j <= last && !FINAL.test(steps[j]!) ? statedAnswer(steps[j]!) : null;
    return { node_id: id, step: answer === null ? null : j, answer };
  });
  return JSON.stringify({ nodes });
}
