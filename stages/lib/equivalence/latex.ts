/**
 * @module stages/lib/equivalence/latex
 * LaTeX parsed by compute-engine (one cached engine, parses memoised) into MathJSON, then evaluated
 * by our own code: exact rationals when possible, complex floats otherwise. Exponents past
 * `MAX_EXPONENT` and factorials past 3000 stop evaluation (`TooBig`).
 */
import { LatexSyntax } from '@cortex-js/compute-engine/latex-syntax';
import { type Rat, rat, add, sub, mul, div, pow, fromDecimal } from './rational.ts';
import { MAX_EXPONENT, TooBig } from './guard.ts';

export type Json = number | string | { num: string } | { sym: string } | { str: string } | Json[];
export interface Cx {
  re: number;
  im: number;
}

let engine: LatexSyntax | null = null;
const cache = new Map<string, Json | null>();
const CACHE_SIZE = 5_000;

/** MathJSON of a LaTeX string, or null when compute-engine reports an error inside it. */
export function parseLatex(latex: string): Json | null {
  const hit = cache.get(latex);
  if (hit !== undefined) return hit;
  engine ??= new LatexSyntax();
  let json: Json | null = null;
  try {
    const raw = engine.parse(latex);
    json = raw === null || JSON.stringify(raw).includes('"Error"') ? null : plainJson(raw);
  } catch {
    json = null;
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(latex, json);
  return json;
}

/** MathJSON with object forms (`{fn}`, `{sym}`, `{str}`) turned into the short array/string forms. */
function plainJson(x: unknown): Json {
  if (Array.isArray(x)) return x.map(plainJson);
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if (Array.isArray(o.fn)) return o.fn.map(plainJson);
    if (typeof o.sym === 'string') return o.sym;
    if (typeof o.str === 'string') return `'${o.str}'`;
    if (typeof o.num === 'string') return { num: o.num };
  }
  return x as Json;
}

const CONSTANTS = new Set(['Pi', 'ExponentialE', 'e', 'ImaginaryUnit', 'i', 'PositiveInfinity', 'NegativeInfinity']);
/** Single letters read as function names when followed by parentheses: f(x), g(2), P(A). */
const FUNCTION_NAMES = /^[fghFGHPQWT]$/;

const head = (j: Json): string | null => (Array.isArray(j) && typeof j[0] === 'string' ? j[0] : null);
const args = (j: Json): Json[] => (Array.isArray(j) ? j.slice(1) : []);

/** Free variables of an expression (constants and function names excluded). */
export function symbols(j: Json, out: Set<string> = new Set()): Set<string> {
  if (typeof j === 'string') {
    if (!CONSTANTS.has(j) && !j.startsWith("'")) out.add(j);
  } else if (Array.isArray(j)) {
    const h = head(j);
    const rest = args(j);
    if (
      h === 'InvisibleOperator' &&
      typeof rest[0] === 'string' &&
      FUNCTION_NAMES.test(rest[0]) &&
      head(rest[1] ?? 0) === 'Delimiter'
    ) {
      for (const a of rest.slice(1)) symbols(a, out);
    } else for (const a of rest) symbols(a, out);
  } else if (typeof j === 'object' && 'sym' in j) out.add(j.sym);
  return out;
}

function numberLeaf(j: Json): Rat | null {
  if (typeof j === 'number')
    return Number.isInteger(j) ? rat(BigInt(j)) : fromDecimal(String(j).includes('e') ? j.toFixed(20) : String(j));
  if (typeof j === 'object' && !Array.isArray(j) && 'num' in j) {
    const m = /^(-?\d+(?:\.\d+)?)(?:e([+-]?\d+))?$/.exec(j.num);
    return m ? fromDecimal(m[1] ?? '0', Number(m[2] ?? 0)) : null;
  }
  return null;
}

function factorialExact(n: bigint): Rat | null {
  if (n < 0n) return null;
  if (n > 3000n) throw new TooBig(`factorial of ${n} is past the cap of 3000`);
  let r = 1n;
  for (let k = 2n; k <= n; k++) r *= k;
  return rat(r);
}

/** Exact rational value of an expression built from numbers with + - * / integer powers and factorials; else null. */
export function exactValue(j: Json): Rat | null {
  const leaf = numberLeaf(j);
  if (leaf) return leaf;
  const h = head(j);
  if (h === null) return null;
  const a = args(j);
  const vals = (): Rat[] | null => {
    const out: Rat[] = [];
    for (const x of a) {
      const v = exactValue(x);
      if (!v) return null;
      out.push(v);
    }
    return out;
  };
  switch (h) {
    case 'Delimiter':
      return a.length === 1 ? exactValue(a[0] as Json) : null;
    case 'Negate': {
      const v = exactValue(a[0] as Json);
      return v && { n: -v.n, d: v.d };
    }
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Divide':
    case 'Rational': {
      const v = vals();
      if (!v || v.length === 0) return null;
      const op = h === 'Add' ? add : h === 'Subtract' ? sub : h === 'Multiply' ? mul : div;
      let acc: Rat | null = v[0] as Rat;
      for (const x of v.slice(1)) {
        acc = acc && op(acc, x);
      }
      return acc;
    }
    case 'Power': {
      const b = exactValue(a[0] as Json),
        e = exactValue(a[1] as Json);
      if (!b || !e || e.d !== 1n) return null;
      if (e.n > BigInt(MAX_EXPONENT) || e.n < -BigInt(MAX_EXPONENT))
        throw new TooBig(`exponent ${e.n} is past the cap of ${MAX_EXPONENT}`);
      if (b.n === 0n && e.n < 0n) return null;
      return pow(b, e.n);
    }
    case 'Factorial': {
      const v = exactValue(a[0] as Json);
      return v && v.d === 1n ? factorialExact(v.n) : null;
    }
    case 'Sqrt': {
      const v = exactValue(a[0] as Json);
      if (!v || v.n < 0n) return null;
      const rn = isqrt(v.n),
        rd = isqrt(v.d);
      return rn * rn === v.n && rd * rd === v.d ? rat(rn, rd) : null;
    }
    default:
      return null;
  }
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

// Complex arithmetic on {re, im}.
const C = (re: number, im = 0): Cx => ({ re, im });
const cadd = (a: Cx, b: Cx) => C(a.re + b.re, a.im + b.im);
const csub = (a: Cx, b: Cx) => C(a.re - b.re, a.im - b.im);
const cmul = (a: Cx, b: Cx) => C(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
function cdiv(a: Cx, b: Cx): Cx {
  const d = b.re * b.re + b.im * b.im;
  return C((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
const cexp = (a: Cx) => {
  const r = Math.exp(a.re);
  return C(r * Math.cos(a.im), r * Math.sin(a.im));
};
const clog = (a: Cx) => C(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
function cpow(a: Cx, b: Cx): Cx {
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    let r = C(1),
      base = b.re < 0 ? cdiv(C(1), a) : a;
    for (let k = Math.abs(b.re); k > 0; k >>= 1) {
      if (k & 1) r = cmul(r, base);
      base = cmul(base, base);
    }
    return r;
  }
  if (a.im === 0 && b.im === 0 && a.re >= 0) return C(a.re ** b.re);
  if (a.re === 0 && a.im === 0) return C(0);
  return cexp(cmul(b, clog(a)));
}
const real =
  (f: (x: number) => number) =>
  (a: Cx): Cx =>
    Math.abs(a.im) > 1e-12 ? C(NaN) : C(f(a.re));

function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7,
    p = [
      0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
      12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];
  x -= 1;
  let a = p[0] as number;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += (p[i] as number) / (x + i);
  return Math.sqrt(2 * Math.PI) * t ** (x + 0.5) * Math.exp(-t) * a;
}

const UNARY: Record<string, (a: Cx) => Cx> = {
  Sqrt: (a) => cpow(a, C(0.5)),
  Exp: cexp,
  Ln: clog,
  Negate: (a) => C(-a.re, -a.im),
  Log: (a) => cdiv(clog(a), C(Math.LN10)),
  Lb: (a) => cdiv(clog(a), C(Math.LN2)),
  Lg: (a) => cdiv(clog(a), C(Math.LN10)),
  Sin: real(Math.sin),
  Cos: real(Math.cos),
  Tan: real(Math.tan),
  Sec: real((x) => 1 / Math.cos(x)),
  Csc: real((x) => 1 / Math.sin(x)),
  Cot: real((x) => 1 / Math.tan(x)),
  Arcsin: real(Math.asin),
  Arccos: real(Math.acos),
  Arctan: real(Math.atan),
  Sinh: real(Math.sinh),
  Cosh: real(Math.cosh),
  Tanh: real(Math.tanh),
  Abs: (a) => C(Math.hypot(a.re, a.im)),
  Floor: real(Math.floor),
  Ceil: real(Math.ceil),
  Degrees: real((x) => (x * Math.PI) / 180),
  Factorial: real((x) => {
    if (x > 3000) throw new TooBig(`factorial of ${x} is past the cap of 3000`);
    return gamma(x + 1);
  }),
};

/** A deterministic stand-in value for an unknown function applied to arguments, so f(x) and f(y) differ. */
function opaque(name: string, vals: Cx[]): Cx {
  let h = 2166136261;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  let x = (h >>> 0) / 2 ** 32;
  for (const v of vals) x = (Math.sin(x * 12.9898 + v.re * 78.233 + v.im * 37.719) * 43758.5453) % 1;
  return C(1 + Math.abs(x));
}

/** Numeric value at a point (`env` gives each free variable); throws `Unsupported` for constructs it cannot evaluate. */
export function evaluate(j: Json, env: ReadonlyMap<string, Cx>): Cx {
  const leaf = typeof j === 'number' ? j : null;
  if (leaf !== null) return C(leaf);
  if (typeof j === 'string') {
    if (j === 'Pi') return C(Math.PI);
    if (j === 'ExponentialE' || j === 'e') return C(Math.E);
    if (j === 'ImaginaryUnit' || j === 'i') return C(0, 1);
    if (j === 'PositiveInfinity') return C(Infinity);
    if (j === 'NegativeInfinity') return C(-Infinity);
    const v = env.get(j);
    if (v) return v;
    throw new Unsupported(`symbol ${j}`);
  }
  if (!Array.isArray(j)) {
    if (typeof j === 'object' && 'num' in j) return C(Number(j.num));
    throw new Unsupported('object leaf');
  }
  const h = head(j) ?? '';
  const a = args(j);
  const ev = (x: Json | undefined) => evaluate(x ?? 0, env);
  const fn = UNARY[h];
  if (fn && a.length === 1) return fn(ev(a[0]));
  switch (h) {
    case 'Add':
      return a.map(ev).reduce(cadd, C(0));
    case 'Subtract':
      return a.length === 1 ? UNARY.Negate!(ev(a[0])) : a.slice(1).map(ev).reduce(csub, ev(a[0]));
    case 'Multiply':
      return a.map(ev).reduce(cmul, C(1));
    case 'Divide':
    case 'Rational':
      return cdiv(ev(a[0]), ev(a[1]));
    case 'Delimiter':
      if (a.length === 1 || (a.length === 2 && typeof a[1] === 'string' && a[1].startsWith("'"))) return ev(a[0]);
      break;
    case 'Power': {
      const e = ev(a[1]);
      if (Math.abs(e.re) > MAX_EXPONENT) throw new TooBig(`exponent ${e.re} is past the cap of ${MAX_EXPONENT}`);
      return cpow(ev(a[0]), e);
    }
    case 'Root':
      return cpow(ev(a[0]), cdiv(C(1), ev(a[1])));
    case 'Log':
      return cdiv(clog(ev(a[0])), clog(ev(a[1])));
    case 'Binomial': {
      const n = ev(a[0]).re,
        k = ev(a[1]).re;
      return C(gamma(n + 1) / (gamma(k + 1) * gamma(n - k + 1)));
    }
    case 'InvisibleOperator': {
      const first = a[0];
      if (
        typeof first === 'string' &&
        FUNCTION_NAMES.test(first) &&
        head(a[1] ?? 0) === 'Delimiter' &&
        a.length === 2
      ) {
        const inner = args(a[1] as Json)[0] ?? 0;
        const vals = head(inner) === 'Sequence' ? args(inner).map(ev) : [ev(inner)];
        return opaque(first, vals);
      }
      return a.map(ev).reduce(cmul, C(1));
    }
    case 'Subscript':
      return opaque(JSON.stringify(a[0]), a.slice(1).map(ev));
    default:
      break;
  }
  throw new Unsupported(`operator ${h}`);
}

/** Raised by `evaluate` for a construct it has no numeric meaning for. */
export class Unsupported extends Error {}
