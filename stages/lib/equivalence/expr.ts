/** @module stages/lib/equivalence/expr  Deciding whether two LaTeX expressions or relations are equal: exactly, or at random points. */
import { parseLatex, exactValue, evaluate, symbols, Unsupported, type Json, type Cx } from './latex.ts';
import { ratEq, relClose, toNumber } from './rational.ts';
import { readNumber, numbersEqual, type Num, DEFAULT_TOLERANCE } from './numbers.ts';
import { normText, stripTextUnit, unwrapText } from './normalize.ts';
import type { Deadline } from './guard.ts';
import { type Verdict, yes, no, unknown } from './types.ts';

/** Points tried per comparison; a point where either side is undefined is skipped. */
const POINTS = 10;
const MIN_POINTS = 3;

function mulberry(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function samplePoints(vars: string[], count: number): Map<string, Cx>[] {
  const rnd = mulberry(0x5eed);
  const out: Map<string, Cx>[] = [];
  for (let k = 0; k < count; k++) out.push(new Map(vars.map((v) => [v, { re: 0.3 + 2 * rnd(), im: 0 }])));
  return out;
}

const finite = (z: Cx) => Number.isFinite(z.re) && Number.isFinite(z.im);
const close = (a: Cx, b: Cx, tol: number) =>
  Math.hypot(a.re - b.re, a.im - b.im) <= tol * Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im)) + 1e-12;

function safeEval(j: Json, env: ReadonlyMap<string, Cx>): Cx | null {
  try {
    const v = evaluate(j, env);
    return finite(v) ? v : null;
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

/** A value computed from an expression, seen as a written number for the rounding and tolerance rules. */
function asNum(latex: string, j: Json, v: Cx): Num | null {
  if (Math.abs(v.im) > 1e-12 * Math.max(1, Math.abs(v.re))) return null;
  const lit = readNumber(latex);
  if (lit) return lit;
  const exact = exactValue(j);
  return { value: exact ? toNumber(exact) : v.re, exact, percent: false, exactForm: true, decimals: 0, sig: 0 };
}

/** Compares two LaTeX expressions: text when either fails to parse, exact rationals, else values at random points. */
export function exprEqual(g: string, p: string, tol: number | null, deadline: Deadline): Verdict {
  if (g.replace(/\s+/g, '') === p.replace(/\s+/g, '')) return yes('identical expressions');
  const gs = stripTextUnit(g),
    ps = stripTextUnit(p);
  const gn = readNumber(gs),
    pn = readNumber(ps);
  if (gn && pn)
    return numbersEqual(gn, pn, tol) ? yes('numbers equal') : no(`numbers differ: ${gn.value} vs ${pn.value}`);
  const gj = parseLatex(gs),
    pj = parseLatex(ps);
  if (
    gj === null ||
    pj === null ||
    (typeof gj === 'string' && gj.startsWith("'")) ||
    (typeof pj === 'string' && pj.startsWith("'"))
  ) {
    const a = normText(unwrapText(g)),
      b = normText(unwrapText(p));
    return a === b
      ? yes('texts equal after normalisation')
      : no(`"${a.slice(0, 40)}" and "${b.slice(0, 40)}" differ as text`);
  }
  const inf = (j: Json) => (j === 'PositiveInfinity' || j === 'NegativeInfinity' ? j : null);
  if (inf(gj) || inf(pj)) return inf(gj) === inf(pj) ? yes('same infinity') : no('an infinity and a different value');
  deadline.check('exact evaluation');
  const ge = exactValue(gj),
    pe = exactValue(pj);
  if (ge && pe && tol === null && gn === null && pn === null) {
    return ratEq(ge, pe) ? yes('equal as exact rationals') : no('different exact rationals');
  }
  if (ge && pe && relClose(ge, pe, tol ?? DEFAULT_TOLERANCE)) return yes('equal rationals within tolerance');
  const vars = [...new Set([...symbols(gj), ...symbols(pj)])].sort();
  if (vars.length === 0) {
    const a = safeEval(gj, new Map()),
      b = safeEval(pj, new Map());
    if (a === null || b === null)
      return unknown(`could not evaluate ${a === null ? 'gold' : 'prediction'} numerically`);
    const an = asNum(gs, gj, a),
      bn = asNum(ps, pj, b);
    if (an && bn) return numbersEqual(an, bn, tol) ? yes('equal values') : no(`values differ: ${a.re} vs ${b.re}`);
    return close(a, b, tol ?? DEFAULT_TOLERANCE) ? yes('equal complex values') : no('complex values differ');
  }
  return atPoints(gj, pj, vars, tol ?? DEFAULT_TOLERANCE, deadline);
}

function atPoints(gj: Json, pj: Json, vars: string[], tol: number, deadline: Deadline): Verdict {
  let used = 0;
  for (const env of samplePoints(vars, POINTS)) {
    deadline.check('evaluation at random points');
    const a = safeEval(gj, env),
      b = safeEval(pj, env);
    if (a === null || b === null) continue;
    used++;
    if (!close(a, b, tol))
      return no(`values differ at ${[...env].map(([k, v]) => `${k}=${v.re.toFixed(3)}`).join(', ')}`);
  }
  return used >= MIN_POINTS
    ? yes(`equal at ${used} random points`)
    : unknown(`only ${used} of ${POINTS} random points could be evaluated`);
}

/** Compares `l1 op r1` and `l2 op r2` (op normalised to =, <, <=, !=): equal up to a nonzero factor, positive for inequalities. */
export function relationEqual(
  l1: string,
  r1: string,
  l2: string,
  r2: string,
  strictSign: boolean,
  deadline: Deadline,
): Verdict {
  const parts = [l1, r1, l2, r2].map((x) => (x.trim() === '' ? null : parseLatex(x)));
  if (parts.some((x) => x === null)) {
    const a = normText(`${l1}=${r1}`),
      b = normText(`${l2}=${r2}`);
    return a === b ? yes('relations equal as text') : no('relations differ as text');
  }
  const [a, b, c, d] = parts as Json[];
  const f: Json = ['Subtract', a as Json, b as Json],
    g: Json = ['Subtract', c as Json, d as Json];
  const vars = [...new Set([...symbols(f), ...symbols(g)])].sort();
  let ratio: Cx | null = null,
    used = 0;
  for (const env of samplePoints(vars, vars.length ? POINTS : 1)) {
    deadline.check('relation evaluation');
    const x = safeEval(f, env),
      y = safeEval(g, env);
    if (x === null || y === null) continue;
    const zx = Math.hypot(x.re, x.im) < 1e-12,
      zy = Math.hypot(y.re, y.im) < 1e-12;
    if (zx || zy) {
      if (zx !== zy) return no('one relation holds where the other does not');
      continue;
    }
    const r = {
      re: (x.re * y.re + x.im * y.im) / (y.re * y.re + y.im * y.im),
      im: (x.im * y.re - x.re * y.im) / (y.re * y.re + y.im * y.im),
    };
    used++;
    if (ratio === null) ratio = r;
    else if (!close(ratio, r, 1e-6)) return no('relations are not proportional');
  }
  if (ratio === null)
    return vars.length === 0 ? yes('both relations are identities') : unknown('relations could not be evaluated');
  if (strictSign && !(ratio.re > 0)) return no('inequalities point in opposite directions');
  return used >= Math.min(MIN_POINTS, vars.length ? MIN_POINTS : 1)
    ? yes('relations equal up to a nonzero factor')
    : unknown(`only ${used} points could be evaluated`);
}
