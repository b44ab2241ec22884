/** @module stages/lib/equivalence/structure  Reads an answer string into lists, sets, tuples, intervals, matrices, relations and assignments. */
import { cleanLatex, unwrapText } from './normalize.ts';
import { parseLatex, symbols } from './latex.ts';

export type Node =
  | { t: 'list'; items: Node[]; unordered: boolean }
  | { t: 'tuple'; items: Node[] }
  | { t: 'interval'; lo: Node; hi: Node; loClosed: boolean; hiClosed: boolean }
  | { t: 'matrix'; rows: Node[][] }
  | { t: 'rel'; op: RelOp; lhs: string; rhs: string }
  | { t: 'assign'; name: string; value: Node }
  | { t: 'text'; text: string }
  | { t: 'expr'; latex: string };
export type RelOp = '=' | '<' | '<=' | '!=';

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** Splits at top level (outside brackets and braces) where `sep` matches at the current index. */
export function splitTop(s: string, sep: RegExp): string[] {
  const out: string[] = [];
  let depth = 0,
    start = 0;
  const re = new RegExp(sep.source, 'y');
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
      continue;
    }
    if (OPEN.has(c)) {
      depth++;
      continue;
    }
    if (CLOSE.has(c)) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth !== 0) continue;
    re.lastIndex = i;
    const m = re.exec(s);
    if (m && m[0].length > 0 && i > 0) {
      out.push(s.slice(start, i));
      start = i + m[0].length;
      i = start - 1;
    }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

/** True when the brackets opening at 0 close at the very end (so they wrap the whole string). */
function wraps(s: string, openLen: number, closeLen: number): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) depth--;
    if (depth === 0 && i < s.length - 1 && i >= openLen - 1) return false;
  }
  return depth === 0 && s.length >= openLen + closeLen;
}

const NAME = String.raw`(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?|'+)?|\\[a-zA-Z]+(?:_\{?[a-zA-Z0-9]+\}?)?)`;
const NAME_LIKE = new RegExp(
  String.raw`^(?:${NAME}(?:\(${NAME}(?:,\s*${NAME})*\))?|\|[A-Za-z]+\||\\frac\{[A-Za-z]+\}\{[A-Za-z]+\}|[A-Z]{1,3}|${NAME}\s*:\s*${NAME}|[a-zA-Z]_\{[A-Za-z]+\}\s*:\s*[A-Za-z]+|\(\s*${NAME}(?:\s*[,;]\s*${NAME})*\s*\)|\\text\{[^{}]*\})$`,
);

/** True when a LaTeX string parses to an expression without variables (`\frac{1}{2}`, `5+5+1`). */
function isConstant(latex: string): boolean {
  const j = parseLatex(latex);
  return j !== null && symbols(j).size === 0;
}

/** True for the left side of an answer such as `x =`, `f(x) =`, `(p,q) =`, `|AB| =`, `A:B =`. */
export const isNameLike = (s: string) => NAME_LIKE.test(s.replace(/\s+/g, ''));

const REL_SPLIT = /\\leq|\\geq|\\neq|<|>|=|\\approx/;
function relOp(tok: string): { op: RelOp; flip: boolean } | null {
  switch (tok) {
    case '=':
    case '\\approx':
      return { op: '=', flip: false };
    case '<':
      return { op: '<', flip: false };
    case '>':
      return { op: '<', flip: true };
    case '\\leq':
      return { op: '<=', flip: false };
    case '\\geq':
      return { op: '<=', flip: true };
    case '\\neq':
      return { op: '!=', flip: false };
    default:
      return null;
  }
}

function relation(s: string): Node | null {
  const parts: string[] = [],
    ops: string[] = [];
  let depth = 0,
    start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) depth--;
    if (depth !== 0) continue;
    const m = new RegExp(REL_SPLIT.source, 'y');
    m.lastIndex = i;
    const hit = m.exec(s);
    if (hit && !(hit[0] === '<' && s[i - 1] === '\\')) {
      parts.push(s.slice(start, i).trim());
      ops.push(hit[0]);
      start = i + hit[0].length;
      i = start - 1;
    }
  }
  if (ops.length === 0) return null;
  parts.push(s.slice(start).trim());
  const first = parts[0] ?? '';
  if (ops.every((o) => o === '=' || o === '\\approx')) {
    if (
      parts.length === 2 &&
      !isNameLike(first) &&
      first !== '' &&
      !(isConstant(first) && isConstant(parts[1] ?? ''))
    ) {
      return { t: 'rel', op: '=', lhs: first, rhs: parts[1] ?? '' };
    }
    // A chain `x = a = b ≈ c` answers its last exact value.
    let pick = parts.length - 1;
    for (let k = ops.length - 1; k >= 0; k--)
      if (ops[k] === '=') {
        pick = k + 1;
        break;
      }
    const value = parts[pick] ?? '';
    if (parts.length === 2) return { t: 'assign', name: first, value: parseAnswer(value) };
    return parseAnswer(value);
  }
  if (parts.length === 3) {
    const a = relOp(ops[0] ?? ''),
      b = relOp(ops[1] ?? '');
    const ineq = (r: { op: RelOp } | null) => r !== null && (r.op === '<' || r.op === '<=');
    if (a && b && ineq(a) && ineq(b) && a.flip === b.flip) {
      // a < E < b is the interval (a, b); written downwards it is (b, a).
      const [lo, hi, loOp, hiOp] = a.flip ? [parts[2], parts[0], b, a] : [parts[0], parts[2], a, b];
      return {
        t: 'interval',
        lo: parseAnswer(lo ?? ''),
        hi: parseAnswer(hi ?? ''),
        loClosed: loOp.op === '<=',
        hiClosed: hiOp.op === '<=',
      };
    }
  }
  if (parts.length !== 2) return { t: 'text', text: s };
  const r = relOp(ops[0] ?? '');
  if (!r) return { t: 'text', text: s };
  const [lhs, rhs] = r.flip ? [parts[1] ?? '', parts[0] ?? ''] : [parts[0] ?? '', parts[1] ?? ''];
  return { t: 'rel', op: r.op, lhs, rhs };
}

function matrix(s: string): Node | null {
  const m = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s);
  if (!m) return null;
  const rows = (m[2] ?? '')
    .split(/\\\\/)
    .map((r) => r.trim())
    .filter((r) => r.length > 0);
  return { t: 'matrix', rows: rows.map((r) => r.split('&').map((c) => parseAnswer(c.trim()))) };
}

function list(parts: string[], unordered: boolean): Node {
  const items = parts.map(parseAnswer);
  const assigns = items.filter((x) => x.t === 'assign');
  // `a = 4, -8, -10` lists the values of one variable: a solution set.
  const values = assigns.length === 1 && items[0]?.t === 'assign' && items.length > 1;
  const sameName =
    assigns.length > 1 &&
    assigns.length === items.length &&
    new Set(assigns.map((x) => x.name.replace(/\s+/g, ''))).size === 1;
  const tuples = items.every((x) => x.t === 'tuple' || x.t === 'interval' || x.t === 'matrix');
  return { t: 'list', items, unordered: unordered || values || sameName || tuples };
}

/** Reads an answer into a tree; leaves are LaTeX expressions or text. */
export function parseAnswer(input: string): Node {
  let s = cleanLatex(input)
    .replace(/^\$+|\$+$/g, '')
    .replace(/[.;,]\s*$/, '')
    .trim();
  if (/^\\text\{[^{}]*\}$/.test(s)) {
    const inner = unwrapText(s).trim();
    if (!/^[\d\s.,()+-]+$/.test(inner)) return { t: 'text', text: inner };
    s = inner;
  }
  s = s
    .replace(/\\text\{\s*(and|or)\s*\}/g, ' $1 ')
    .replace(/\s+/g, ' ')
    .trim();
  s = s.replace(/^[a-zA-Z]\s*\\in\s+/, '');
  if (s.startsWith('\\{') && s.endsWith('\\}') && wraps(s, 2, 2)) return list(splitTop(s.slice(2, -2), /[,;]/), true);
  if (s.startsWith('{') && s.endsWith('}') && wraps(s, 1, 1)) return parseAnswer(s.slice(1, -1));
  const semi = splitTop(s, /;/);
  if (semi.length > 1) return semiList(semi);
  const parts = splitTop(s, /,|\s+(?:and|or)\s+|(?<=\))\s*(?:and|or)\s*(?=\()|(?<=\d)\s*(?:and|or)\s*(?=[\dA-Z(\\])/);
  if (parts.length > 1) return list(parts, false);
  const union = splitTop(s, /\\cup/);
  if (union.length > 1) return list(union, true);
  if (/^\\(?:pm|mp)/.test(s)) return list([s.replace(/^\\(?:pm|mp)/, ''), `-(${s.replace(/^\\(?:pm|mp)/, '')})`], true);
  const pm = splitTop(s, /\\pm|\\mp/);
  if (pm.length === 2)
    return list(
      [`${pm[0]}+${pm[1]}`, `${pm[0]}-(${pm[1]})`].map((x) => x.replace(/^\+/, '')),
      true,
    );
  const rel = relation(s);
  if (rel) return rel;
  const mat =
    matrix(s) ?? (/^[([]/.test(s) && /[)\]]$/.test(s) && wraps(s, 1, 1) ? matrix(s.slice(1, -1).trim()) : null);
  if (mat) return mat;
  const bracket = /^[[(]/.test(s) && /[\])]$/.test(s) && wraps(s, 1, 1);
  if (bracket) {
    const inner = splitTop(s.slice(1, -1), /[,;]/);
    if (inner.length === 2 && (s[0] === '[' || s.endsWith(']'))) {
      return {
        t: 'interval',
        lo: parseAnswer(inner[0] ?? ''),
        hi: parseAnswer(inner[1] ?? ''),
        loClosed: s[0] === '[',
        hiClosed: s.endsWith(']'),
      };
    }
    if (inner.length >= 2) return { t: 'tuple', items: inner.map(parseAnswer) };
  }
  const ratio = splitTop(s, /:/);
  if (ratio.length === 2 && !/\\/.test(s)) return { t: 'tuple', items: ratio.map(parseAnswer) };
  return { t: 'expr', latex: s };
}

/** `p=5,q=2; p=7,q=2` is a set of tuples; `-12; -11` a plain list. */
function semiList(groups: string[]): Node {
  const items = groups.map((g) => {
    const n = parseAnswer(g);
    if (n.t === 'list' && n.items.every((x) => x.t === 'assign'))
      return { t: 'tuple', items: n.items.map((x) => (x.t === 'assign' ? x.value : x)) } as Node;
    return n;
  });
  const tuples = items.every((x) => x.t === 'tuple');
  return { t: 'list', items, unordered: tuples };
}
