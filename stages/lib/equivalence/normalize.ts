/** @module stages/lib/equivalence/normalize  String-level LaTeX clean-up shared by every comparison. */

const SPACING = /(?<!\\)\\(?:quad|qquad|[,;:! ]|enspace|thinspace|medspace|thickspace)|~/g;
const SIZING = /\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*/g;
const TEXT_CMDS = /\\(?:mbox|textnormal|textbf|textit|textrm|textsf|texttt|mathbf|mathit|mathsf|rm|bf)(?![a-zA-Z])/g;

/**
 * Rewrites LaTeX into one spelling: double-escaped commands, frac variants, sizing and spacing
 * commands, text commands, relation spellings, thousands-separator idioms and stray dollars.
 */
export function cleanLatex(s: string): string {
  let t = s;
  if (t.includes('\\\\')) t = t.replace(/\\\\([a-zA-Z]{2,})/g, '\\$1');
  // Thousands idioms: 14{,}916, 32,\! 349, 1\,000 are one number.
  t = t
    .replace(/(\d)\s*\{,\s*\}\s*(?=\d)/g, '$1,')
    .replace(/(\d),\\!\s*(?=\d)/g, '$1,')
    .replace(/(\d)\\,(?=\d{3}(?!\d))/g, '$1');
  t = t.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac').replace(/\\displaystyle|\\limits/g, '');
  t = t.replace(SIZING, '').replace(/\\left\.|\\right\./g, '');
  t = t.replace(TEXT_CMDS, '\\text');
  t = t.replace(/\\\$/g, ' ').replace(/\\%/g, '%');
  t = t.replace(SPACING, ' ');
  t = t.replace(/>=|≥|\\geqslant|\\ge(?![a-zA-Z])/g, '\\geq ').replace(/<=|≤|\\leqslant|\\le(?![a-zA-Z])/g, '\\leq ');
  t = t
    .replace(/!=|≠|\\ne(?![a-zA-Z])/g, '\\neq ')
    .replace(/\\lt(?![a-zA-Z])/g, '<')
    .replace(/\\gt(?![a-zA-Z])/g, '>');
  t = t.replace(/−/g, '-').replace(/×/g, '\\times ').replace(/·/g, '\\cdot ');
  t = t.replace(/\^\s*\{?\\circ\}?|°/g, '^\\circ');
  return t.replace(/\s+/g, ' ').trim();
}

/** Removes outer `$`, `\(..\)`, `\[..\]` delimiters and trailing sentence punctuation. */
export function stripDelimiters(s: string): string {
  let t = s.trim();
  for (let changed = true; changed;) {
    changed = false;
    const before = t;
    t = t
      .replace(/^\$+|\$+$/g, '')
      .replace(/^\\[([]|\\[)\]]$/g, '')
      .replace(/[.,;]+$/, '')
      .trim();
    if (t !== before) changed = true;
  }
  return t;
}

/** Index just past the brace group that opens at `open` (which must be `{`), or -1 when unbalanced. */
export function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Removes `\text{...}` and `\mathrm{...}` wrappers, keeping their content. */
export function unwrapText(s: string): string {
  let out = s;
  const re = /\\(?:text|mathrm)\s*/g;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    const j = m.index + m[0].length;
    if (out[j] !== '{') {
      out = out.slice(0, m.index) + out.slice(j);
      re.lastIndex = m.index;
      continue;
    }
    const end = matchBrace(out, j);
    if (end < 0) break;
    out = out.slice(0, m.index) + out.slice(j + 1, end - 1) + out.slice(end);
    re.lastIndex = m.index;
  }
  return out;
}

/** Text normal form: no LaTeX text wrappers, lower case, no punctuation, single spaces. */
export function normText(s: string): string {
  return unwrapText(cleanLatex(s))
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[{}$\\]/g, ' ')
    .replace(/[.,;:!?"'`()[\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Drops a trailing unit written as text (`10\text{ units}`, `125 miles`, `15\mbox{ cm}^2`). */
export function stripTextUnit(s: string): string {
  return s
    .replace(/\s*\\text\{\s*[a-zA-Z][a-zA-Z .]*\}(\^\{?\d\}?)?\s*$/, '')
    .replace(/(\d)\s*[a-zA-Z]{2,}(\s+[a-zA-Z]+)*$/, '$1')
    .replace(/\^\\circ$/, '')
    .trim();
}
