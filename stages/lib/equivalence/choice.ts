/** @module stages/lib/equivalence/choice  Multiple-choice answers: a letter, "(B)", "B. x = 42", or an option's own text. */
import { normText, cleanLatex, unwrapText } from './normalize.ts';
import type { Verdict } from './types.ts';

const LETTERS = 'ABCDEFGHIJ';

/** The option letter an answer names, reading the option texts when given; null when it names none. */
export function choiceLetter(answer: string, choices: readonly string[] = []): string | null {
  const s = unwrapText(cleanLatex(answer))
    .replace(/^\$+|\$+$/g, '')
    .trim();
  const m =
    /^(?:\(?\s*(?:option|choice|answer)\s*)?\(?\s*([A-Ja-j])\s*\)?(?:\s*$|[.:)]\s*|\s+(?=\S))/i.exec(s) ??
    /^(?:the\s+)?(?:answer|option|choice)\s*(?:is\s*)?:?\s*\(?([A-Ja-j])\)?\s*\.?$/i.exec(s);
  if (m?.[1]) {
    const letter = m[1].toUpperCase();
    const idx = LETTERS.indexOf(letter);
    // A lone lower-case letter is a letter only when options exist to back it.
    if (/^[a-j]$/.test(m[1]) && s.length > 1 && choices.length === 0) return null;
    if (choices.length === 0 || idx < choices.length) return letter;
  }
  if (choices.length) {
    const want = normText(s);
    const hit = choices.findIndex((c) => normText(c) === want);
    if (hit >= 0) return LETTERS[hit] ?? null;
  }
  return null;
}

/** Compares two multiple-choice answers by the option they name. */
export function choiceEqual(gold: string, pred: string, choices: readonly string[] = []): Verdict {
  const g = choiceLetter(gold, choices);
  const p = choiceLetter(pred, choices);
  if (g === null) return { equal: 'unknown', reason: `gold "${gold.slice(0, 60)}" names no option` };
  if (p === null)
    return { equal: false, reason: `prediction "${pred.slice(0, 60)}" names no option; expected option ${g}` };
  return g === p
    ? { equal: true, reason: `both name option ${g}` }
    : { equal: false, reason: `gold names option ${g}, prediction names option ${p}` };
}
