/** @module stages/lib/equivalence/compare  Structural comparison: lists, sets, tuples, intervals, matrices, relations, then leaves. */
import { parseAnswer, type Node } from './structure.ts';
import { exprEqual, relationEqual } from './expr.ts';
import { quantityEqual, looksLikeQuantity } from './units.ts';
import { formulaEqual, looksLikeChemistry } from './chemistry.ts';
import { cleanLatex, normText } from './normalize.ts';
import type { Deadline } from './guard.ts';
import { type Verdict, yes, no } from './types.ts';

export interface CompareOptions {
  tolerance: number | null;
  deadline: Deadline;
  /** Kind absent: also try quantities and chemistry when both answers read as such. */
  infer?: boolean;
  unit?: string | null;
  policy?: 'strict' | 'assume-gold-unit';
}

/** Compares two extracted answers of kind expression (or of unknown kind when `infer` is set). */
export function compareAnswers(gold: string, pred: string, opts: CompareOptions): Verdict {
  const g = cleanLatex(gold),
    p = cleanLatex(pred);
  if (g === p) return yes('identical after normalisation');
  if (opts.infer) {
    if (looksLikeChemistry(g) && looksLikeChemistry(p)) return formulaEqual(g, p);
    if (looksLikeQuantity(g) || looksLikeQuantity(p) || opts.unit) {
      const q = quantityEqual(g, p, {
        tolerance: opts.tolerance,
        unit: opts.unit ?? null,
        policy: opts.policy ?? 'strict',
        deadline: opts.deadline,
        lenient: !opts.unit,
      });
      if (q.equal !== 'unknown') return q;
    }
  }
  return nodes(parseAnswer(g), parseAnswer(p), opts);
}

const single = (n: Node): Node => (n.t === 'list' && n.items.length === 1 ? single(n.items[0] as Node) : n);
const seq = (n: Node): Node[] | null => (n.t === 'list' || n.t === 'tuple' ? n.items : null);

function each(a: Node[], b: Node[], opts: CompareOptions, what: string): Verdict {
  if (a.length !== b.length) return no(`${what} have ${a.length} and ${b.length} items`);
  for (let i = 0; i < a.length; i++) {
    const v = nodes(a[i] as Node, b[i] as Node, opts);
    if (v.equal !== true) return { equal: v.equal, reason: `${what} item ${i + 1}: ${v.reason}` };
  }
  return yes(`${what} equal item by item`);
}

/** Drops repeated items, since a set lists each member once however often it is written. */
function distinct(xs: Node[], opts: CompareOptions): Node[] {
  const out: Node[] = [];
  for (const x of xs) if (!out.some((y) => nodes(x, y, opts).equal === true)) out.push(x);
  return out;
}

function unordered(a0: Node[], b0: Node[], opts: CompareOptions): Verdict {
  const a = a0.length > 1 ? distinct(a0, opts) : a0,
    b = b0.length > 1 ? distinct(b0, opts) : b0;
  if (a.length !== b.length) return no(`sets have ${a.length} and ${b.length} items`);
  const left = [...b];
  for (const [i, x] of a.entries()) {
    const k = left.findIndex((y) => nodes(x, y, opts).equal === true);
    if (k < 0) return no(`gold item ${i + 1} has no match in the prediction`);
    left.splice(k, 1);
  }
  return yes('sets equal in some order');
}

const named = (items: Node[]) =>
  items.every((x) => x.t === 'assign')
    ? new Map(items.map((x) => [x.t === 'assign' ? x.name.replace(/\s+/g, '') : '', x]))
    : null;
const values = (items: Node[]) => items.map((x) => (x.t === 'assign' ? x.value : x));

function lists(a: Node, b: Node, opts: CompareOptions): Verdict {
  const ai = seq(a) as Node[],
    bi = seq(b) as Node[];
  const na = named(ai),
    nb = named(bi);
  if (na && nb && na.size === ai.length && na.size === nb.size && [...na.keys()].every((k) => nb.has(k))) {
    return each(
      [...na.values()],
      [...na.keys()].map((k) => nb.get(k) as Node),
      opts,
      'assignments',
    );
  }
  const isUnordered = (n: Node) => n.t === 'list' && n.unordered;
  if (isUnordered(a) || isUnordered(b)) return unordered(values(ai), values(bi), opts);
  return each(values(ai), values(bi), opts, a.t === 'tuple' && b.t === 'tuple' ? 'tuples' : 'lists');
}

function intervals(a: Node, b: Node, opts: CompareOptions): Verdict {
  const ends = (n: Node) =>
    n.t === 'interval'
      ? { lo: n.lo, hi: n.hi, lc: n.loClosed, hc: n.hiClosed }
      : n.t === 'tuple' && n.items.length === 2
        ? { lo: n.items[0] as Node, hi: n.items[1] as Node, lc: false, hc: false }
        : null;
  const x = ends(a),
    y = ends(b);
  if (!x || !y) return no(`an interval and a ${a.t === 'interval' ? b.t : a.t}`);
  if (x.lc !== y.lc || x.hc !== y.hc) return no('interval brackets differ');
  return each([x.lo, x.hi], [y.lo, y.hi], opts, 'interval ends');
}

function relations(a: Node, b: Node, opts: CompareOptions): Verdict {
  const asRel = (n: Node) =>
    n.t === 'rel'
      ? n
      : n.t === 'assign' && n.value.t === 'expr'
        ? { t: 'rel' as const, op: '=' as const, lhs: n.name, rhs: n.value.latex }
        : null;
  const x = asRel(a),
    y = asRel(b);
  if (!x || !y) return no('a relation and a value');
  if (x.op !== y.op) return no(`relations ${x.op} and ${y.op} differ`);
  return relationEqual(x.lhs, x.rhs, y.lhs, y.rhs, x.op === '<' || x.op === '<=', opts.deadline);
}

/** Compares two answer trees. */
export function nodes(a0: Node, b0: Node, opts: CompareOptions): Verdict {
  opts.deadline.check('structural comparison');
  const a = single(a0),
    b = single(b0);
  if (a.t === 'assign' && b.t === 'assign') {
    const v = nodes(a.value, b.value, opts);
    return v.equal === true ? v : relations(a, b, opts);
  }
  if (a.t === 'rel' || b.t === 'rel') return relations(a, b, opts);
  if (a.t === 'assign') return nodes(a.value, b, opts);
  if (b.t === 'assign') return nodes(a, b.value, opts);
  if (a.t === 'interval' || b.t === 'interval') return intervals(a, b, opts);
  if (a.t === 'matrix' || b.t === 'matrix') {
    if (a.t === 'matrix' && b.t === 'matrix') {
      if (a.rows.length !== b.rows.length) return no(`matrices have ${a.rows.length} and ${b.rows.length} rows`);
      return each(a.rows.flat(), b.rows.flat(), opts, 'matrix entries');
    }
    const m = a.t === 'matrix' ? a : b.t === 'matrix' ? b : null,
      o = m === a ? b : a;
    const s = seq(o);
    if (m && s && m.rows.every((r) => r.length === 1)) return each(m.rows.flat(), s, opts, 'vector entries');
    return no('a matrix and a non-matrix');
  }
  if (seq(a) && seq(b)) return lists(a, b, opts);
  if (seq(a) || seq(b)) return no(`a ${seq(a) ? 'list' : 'single value'} and a ${seq(b) ? 'list' : 'single value'}`);
  const leaf = (n: Node) => (n.t === 'text' ? n.text : n.t === 'expr' ? n.latex : '');
  if (a.t === 'text' || b.t === 'text') {
    const ta = normText(leaf(a)),
      tb = normText(leaf(b));
    return ta === tb
      ? yes('texts equal after normalisation')
      : no(`texts differ: "${ta.slice(0, 40)}" vs "${tb.slice(0, 40)}"`);
  }
  return exprEqual(leaf(a), leaf(b), opts.tolerance, opts.deadline);
}
