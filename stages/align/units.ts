/**
 * @module stages/align/units
 * Units of the values numeric alignment reads (issue 10 item 8). A value stated with a unit keeps
 * it (`6.67 m/s`); a bare number answering a node whose answer is a quantity is read in the node's
 * unit, so that a correct free path is not failed for the unit the aligner would strip.
 */
import type { AnswerSpec } from '../../schemas/index.ts';
import { parseNumber } from '../lib/equivalence/index.ts';
import { parseUnit, plainUnit, readQuantity } from '../lib/equivalence/units.ts';
import { sameValue } from './arith.ts';
import { memoText } from '../lib/memo.ts';

/** The number an answer holds: a plain number, or the number of a quantity as written (`6.67 m/s` → 6.67). Cached for the shard. */
export const numericValue: (answer: string) => number | null = memoText(
  (answer: string) => parseNumber(answer) ?? readQuantity(answer)?.num.value ?? null,
  50_000,
);

const fmt = (n: number) => String(Number(n.toPrecision(12)));

/** The unit a step writes right after `value`, when it is a unit of the node's dimension. */
function statedUnit(value: number, stepText: string, want: NonNullable<ReturnType<typeof parseUnit>>): string | null {
  const text = stepText.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  for (const m of text.matchAll(/(?<![\w.])-?\d+(?:\.\d+)?/g)) {
    if (!sameValue(Number(m[0]), value)) continue;
    // Up to three words after the number, LaTeX spelled plainly: "\text{ m/s}." is m/s.
    const words = plainUnit(text.slice(m.index + m[0].length, m.index + m[0].length + 40))
      .split(/\s+/)
      .map((w) => w.replace(/[.,;:)]+$/, ''))
      .filter(Boolean)
      .slice(0, 3);
    // Longest reading first: "m/s each" is m/s.
    for (let k = words.length; k > 0; k--) {
      const u = words.slice(0, k).join(' ');
      const info = parseUnit(u);
      if (info && info.dims.some((d) => d !== 0) && info.dims.every((d, i) => d === want.dims[i])) return u;
    }
  }
  return null;
}

/**
 * The answer text of a value a path gives a node: the number, with the unit the step states after
 * it or, for a quantity node whose step states none, the node's unit.
 */
export function answerText(value: number, spec: AnswerSpec, stepText: string | undefined): string {
  const n = fmt(value);
  if (spec.kind !== 'quantity' || !spec.unit) return n;
  const want = parseUnit(spec.unit);
  if (!want) return n;
  const unit = stepText === undefined ? null : statedUnit(value, stepText, want);
  return `${n} ${unit ?? spec.unit}`;
}
