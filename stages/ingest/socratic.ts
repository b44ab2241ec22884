/**
 * @module stages/ingest/socratic
 * GSM8K socratic answers read as an ARS: one node per `sub-question ** step` line, gold values
 * from the calculator annotations, dependencies from the values each computation uses.
 */
import { evaluate, sameValue, normaliseMath } from '../align/arith.ts';

const fmt = (n: number) => String(Number(n.toPrecision(12)));

/** A single letter standing for an unknown: next to a digit (`2x`) or to an operator (`x + 30`, `x=`). */
const UNKNOWN =
  /(?:\d|[+\-*/^=(]\s*)(?<![A-Za-z])[A-Za-z](?![A-Za-z'’])|(?<![A-Za-z'’])[A-Za-z](?![A-Za-z])(?=\s*[+\-*/^=)]|\d)/;

/**
 * Whether a line with no calculator note states an equation in an unknown rather than a value:
 * the clause before its last "=" (the whole line when it has none) contains an unknown that is
 * not alone ("3x + 4 = 28", "2*x=80", "Gretchen has x+30 coins"). "x = 18" states a value.
 */
export function statesEquation(text: string): boolean {
  const eq = text.lastIndexOf('=');
  const clause =
    eq >= 0
      ? text
          .slice(text.lastIndexOf('=', eq - 1) + 1, eq)
          .split(/[,;:.](?!\d)/)
          .at(-1)!
      : text;
  if (eq >= 0 && /^\s*[A-Za-z]\s*$/.test(clause)) return false;
  return UNKNOWN.test(clause);
}

/** One socratic line read as an ARS step: sub-question, gold value, and the operands its computation used; no value for an equation in an unknown (`statesEquation`). */
export function parseSocraticLine(line: string): { question: string; value: number | null; operands: number[] } {
  const star = line.indexOf(' ** ');
  const question = (star >= 0 ? line.slice(0, star) : '').trim();
  const body = star >= 0 ? line.slice(star + 4) : line;
  const notes = [...body.matchAll(/<<([^<>=]*)=([^<>]*)>>/g)];
  if (notes.length > 0) {
    const operands = notes.flatMap((m) => evaluate(m[1]!)?.operands ?? []);
    const value = evaluate(notes.at(-1)![2]!)?.value ?? null;
    return { question, value, operands };
  }
  // No calculator note: the value is the number after the last "=", else the last number stated.
  const text = normaliseMath(body);
  if (statesEquation(text)) return { question, value: null, operands: [] };
  const nums = [...text.matchAll(/(?<![\w.])-?\d+(?:\.\d+)?/g)].map((m) => ({ v: Number(m[0]), at: m.index }));
  const eq = text.lastIndexOf('=');
  const after = nums.filter((n) => n.at > eq);
  const chosen = eq >= 0 && after.length ? after[0]! : nums.at(-1);
  if (!chosen) return { question, value: null, operands: [] };
  return { question, value: chosen.v, operands: nums.filter((n) => n !== chosen).map((n) => n.v) };
}

/**
 * Turns one socratic answer into ARS nodes. A line with no number is dropped. The last lines,
 * while their value equals the `####` answer, restate the original question, so they are merged
 * into `F` (kept as nodes, PC would include the final answer and leak `y_k`): "How far? ** 450 -
 * 220 = 230" followed by "How far? ** Shandy drove 230 miles" are both `F`. A last line with no
 * calculator note that states the final answer among other numbers restates it too. A step that is
 * no sub-question (`isSubQuestion`: "Simplify", "Define a variable") is no node; a step that uses
 * its value depends on its parents instead.
 */
export function socraticArs(answer: string): {
  ars: { node_id: string; question: string; depends_on: string[]; answer: string }[];
  final: string | null;
} {
  const lines = answer
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const finalLine = lines.findIndex((l) => l.startsWith('####'));
  const final = finalLine >= 0 ? lines[finalLine]!.slice(4).trim().replace(/,/g, '') : null;
  const stepLines = finalLine >= 0 ? lines.slice(0, finalLine) : lines;
  const steps = stepLines
    .map((l) => ({ ...parseSocraticLine(l), noted: /<<[^<>]*=[^<>]*>>/.test(l) }))
    .filter((s) => s.value !== null) as { question: string; value: number; operands: number[]; noted: boolean }[];
  const finalValue = final === null ? null : Number(final);
  const restates = (s: { value: number; operands: number[]; noted: boolean }) =>
    finalValue !== null &&
    (sameValue(s.value, finalValue) || (!s.noted && s.operands.some((o) => sameValue(o, finalValue))));
  while (steps.length > 0 && restates(steps.at(-1)!)) steps.pop();
  // Each step's parents among all steps; a step that is no valid node hands its parents on.
  // A plain (non-socratic) line has no sub-question and stays a node.
  const valid = (s: { question: string }) => s.question === '' || isSubQuestion(s.question);
  const parents: Set<number>[] = [];
  steps.forEach((s, i) => {
    const deps = new Set<number>();
    for (const op of s.operands) {
      // The latest earlier step with that value is the parent (a value can come from several steps).
      for (let j = i - 1; j >= 0; j--)
        if (sameValue(steps[j]!.value, op)) {
          for (const d of valid(steps[j]!) ? [j] : parents[j]!) deps.add(d);
          break;
        }
    }
    parents.push(deps);
  });
  const kept = steps.flatMap((s, i) => (valid(s) ? [i] : []));
  const id = new Map(kept.map((i, k) => [i, `Q${k + 1}`]));
  const ars = kept.map((i) => ({
    node_id: id.get(i)!,
    question: steps[i]!.question || `Step ${i + 1}`,
    depends_on: [...parents[i]!].sort((a, b) => a - b).map((d) => id.get(d)!),
    answer: fmt(steps[i]!.value),
  }));
  return { ars, final };
}

/**
 * Whether a socratic sub-question asks for a quantity: it is a question ("How many...?", "What
 * is...?"). An instruction ("Define a variable", "Simplify", "Divide by 6", "Write an equation")
 * names an algebra move, not a sub-question with an answer, so it is no valid ARS node.
 */
export function isSubQuestion(q: string): boolean {
  return /\?\s*$/.test(q) || /^(?:how|what|what's|which|who|whose|when|where|why)\b/i.test(q.trim());
}
