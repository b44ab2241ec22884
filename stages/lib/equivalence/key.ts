/** @module stages/lib/equivalence/key  Canonical keys so that equal answers usually share one (for cheap grouping). */
import type { AnswerSpec } from '../../../schemas/problems.ts';
import { readNumber, numberKey } from './numbers.ts';
import { normText, stripDelimiters, stripTextUnit, cleanLatex } from './normalize.ts';
import { choiceLetter } from './choice.ts';
import { readQuantity } from './units.ts';
import { parseFormula, speciesKey, looksLikeChemistry } from './chemistry.ts';
import { parseLatex, evaluate, symbols, type Cx } from './latex.ts';
import { MAX_ANSWER_CHARS } from './guard.ts';

/** Fixed points at which expressions are evaluated for their key. */
const KEY_POINTS = [0.7316, 1.4142];

function exprKey(latex: string): string | null {
  const j = parseLatex(latex);
  if (j === null) return null;
  const vars = [...symbols(j)].sort();
  const parts: string[] = [];
  for (const x of KEY_POINTS) {
    const env = new Map<string, Cx>(vars.map((v, i) => [v, { re: x + i / 7, im: 0 }]));
    try {
      const v = evaluate(j, env);
      if (!Number.isFinite(v.re) || !Number.isFinite(v.im)) return null;
      parts.push(Math.abs(v.im) > 1e-12 ? `${numberKey(v.re)}${numberKey(v.im)}i` : numberKey(v.re));
    } catch {
      return null;
    }
    if (vars.length === 0) break;
  }
  return `e:${vars.join(',')}:${parts.join('|')}`;
}

/**
 * A canonical key for an answer: numbers rounded to 6 significant digits (percent signs dropped),
 * quantities in SI with their dimension, formulas by element counts, choices by letter, text
 * normalised, expressions by their values at fixed points; null when there is no canonical form.
 */
export function equivalenceKey(answer: string, spec: Partial<AnswerSpec> = {}): string | null {
  try {
    if (typeof answer !== 'string' || answer.length > MAX_ANSWER_CHARS) return null;
    const s = stripDelimiters(answer);
    const kind = spec.kind;
    if (kind === 'choice') {
      const l = choiceLetter(s);
      return l ? `c:${l}` : null;
    }
    if (kind === 'text') return `t:${normText(s)}`;
    const raw = readNumber(s);
    if (raw && kind !== 'quantity') return `n:${numberKey(raw.value)}`;
    if (kind === 'formula' || (kind === undefined && looksLikeChemistry(s))) {
      const f = parseFormula(s);
      return f ? `f:${speciesKey(f)}` : null;
    }
    const q = readQuantity(cleanLatex(s));
    if (q && (q.unit !== '' || kind === 'quantity')) {
      const v = (q.num.percent ? q.num.value / 100 : q.num.value) * q.info.factor + q.info.offset;
      return `q:${q.info.dims.join(',')}:${numberKey(v)}`;
    }
    const n = kind === 'quantity' ? null : readNumber(stripTextUnit(cleanLatex(s)));
    if (n) return `n:${numberKey(n.value)}`;
    return exprKey(cleanLatex(s));
  } catch {
    return null;
  }
}
