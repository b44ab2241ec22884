/**
 * @module stages/align/implied
 * Values a computation implies without stating them, so that a path which groups the same
 * arithmetic differently from the ARS still answers its nodes: the compound parts of an
 * expression (`40/2` in `40/2 + 5 = 25`), partial products of its factors once regrouped
 * (`3 * 60 = 180`, `180 * 3 = 540` implies `3 * 3 = 9`), a common factor taken out of a sum
 * (`5 * 10 + 8 * 10` implies `5 + 8`), the terms a difference takes away together (`60 - 24 - 10`
 * implies `24 + 10`) and a sum multiplied out (`(3 - 0.2) * 10` implies
 * `3 * 10`). Leaves are followed into the earlier computation that produced them.
 */
import { sameValue, type Computation, type Tree } from './arith.ts';

/** Regrouping enumerates subsets of at most this many factors (2^8 products). */
const MAX_TERMS = 8;
/** How many earlier computations deep a leaf is followed. */
const DEPTH = 2;

type Kind = 'sum' | 'product';
const kindOf = (t: Tree): Kind | null =>
  t.op === '+' || t.op === '-' || t.op === 'neg' ? 'sum' : t.op === '*' || t.op === '/' ? 'product' : null;

/** The terms of a sum (`flip`: subtracted) or the factors of a product (`flip`: divided by). */
function flatten(
  t: Tree,
  kind: Kind,
  flip: boolean,
  expand: (v: number) => Tree | null,
  depth: number,
  out: { t: Tree; flip: boolean }[],
): void {
  const [a, b] = t.args;
  if (kind === 'sum' && (t.op === '+' || t.op === '-') && a && b) {
    flatten(a, kind, flip, expand, depth, out);
    flatten(b, kind, t.op === '-' ? !flip : flip, expand, depth, out);
    return;
  }
  if (kind === 'sum' && t.op === 'neg' && a) {
    flatten(a, kind, !flip, expand, depth, out);
    return;
  }
  if (kind === 'product' && (t.op === '*' || t.op === '/') && a && b) {
    flatten(a, kind, flip, expand, depth, out);
    flatten(b, kind, t.op === '/' ? !flip : flip, expand, depth, out);
    return;
  }
  if (t.op === null && depth > 0) {
    const e = expand(t.value);
    if (e && kindOf(e) === kind) {
      flatten(e, kind, flip, expand, depth - 1, out);
      return;
    }
  }
  out.push({ t, flip });
}

/**
 * The values `tree` implies besides its own: each compound sub-expression; every partial
 * product of two or more of its factors but not all of them (with a factor that is not a
 * divisor); a sum over a common factor (`factorOut`); the subtracted terms of a sum together
 * (`subtracted`); a sum multiplied out (`distribute`).
 * `expand(v)` is the tree of the earlier computation that produced leaf `v`, if any.
 */
export function impliedValues(tree: Tree, expand: (v: number) => Tree | null = () => null): number[] {
  const out: number[] = [];
  const push = (v: number) => {
    if (Number.isFinite(v) && !out.some((x) => sameValue(x, v))) out.push(v);
  };
  const visit = (t: Tree, root: boolean): void => {
    if (t.op === null) return;
    if (!root) push(t.value);
    const kind = kindOf(t);
    if (kind === null) {
      for (const a of t.args) visit(a, false);
      return;
    }
    const parts: { t: Tree; flip: boolean }[] = [];
    flatten(t, kind, false, expand, DEPTH, parts);
    const n = parts.length;
    // Factors regroup (`3 * 60 * 3` implies `3 * 3`); terms of a sum do not: partial sums of small
    // terms match node values by chance far more often than they answer them.
    if (kind === 'product' && n > 2 && n <= MAX_TERMS) {
      for (let mask = 1; mask < (1 << n) - 1; mask++) {
        let size = 0,
          acc = 1,
          plain = false;
        for (let i = 0; i < n; i++) {
          if (!(mask & (1 << i))) continue;
          const p = parts[i]!;
          size++;
          acc = p.flip ? acc / p.t.value : acc * p.t.value;
          plain ||= !p.flip;
        }
        if (size >= 2 && plain) push(acc);
      }
    }
    if (kind === 'sum') {
      factorOut(parts, expand, push);
      subtracted(parts, push);
    } else distribute(parts, expand, push);
    for (const p of parts) visit(p.t, false);
  };
  visit(tree, true);
  return out;
}

/** The factors of a term, as values (a divisor inverted), following its leaves into earlier products. */
function factorsOf(t: Tree, expand: (v: number) => Tree | null): number[] {
  const fs: { t: Tree; flip: boolean }[] = [];
  flatten(t, 'product', false, expand, DEPTH, fs);
  return fs.map((f) => (f.flip ? 1 / f.t.value : f.t.value));
}

/** `a - b - c` implies `b + c`: the terms taken away, together (`a - (b + c)`). */
function subtracted(parts: readonly { t: Tree; flip: boolean }[], push: (v: number) => void): void {
  const off = parts.filter((p) => p.flip);
  if (off.length >= 2 && off.length < parts.length) push(off.reduce((acc, p) => acc + p.t.value, 0));
}

/** `a*c + b*c` implies `a + b`: a factor (not 1) common to every term of a sum is taken out. */
function factorOut(
  parts: readonly { t: Tree; flip: boolean }[],
  expand: (v: number) => Tree | null,
  push: (v: number) => void,
): void {
  if (parts.length < 2) return;
  const lists = parts.map((p) => factorsOf(p.t, expand));
  if (lists.some((l) => l.length < 2)) return;
  const total = parts.reduce((acc, p) => acc + (p.flip ? -p.t.value : p.t.value), 0);
  for (const f of lists[0]!)
    if (!sameValue(f, 1) && f !== 0 && lists.every((l) => l.some((x) => sameValue(x, f)))) push(Math.abs(total / f));
}

/** `(a - b) * c` implies `a * c` and `b * c`: a factor that is a sum is multiplied out. */
function distribute(
  parts: readonly { t: Tree; flip: boolean }[],
  expand: (v: number) => Tree | null,
  push: (v: number) => void,
): void {
  parts.forEach((p, i) => {
    const t = p.t.op === null ? expand(p.t.value) : p.t;
    if (p.flip || !t || kindOf(t) !== 'sum') return;
    const rest = parts.reduce((acc, q, j) => (j === i ? acc : q.flip ? acc / q.t.value : acc * q.t.value), 1);
    const terms: { t: Tree; flip: boolean }[] = [];
    flatten(t, 'sum', false, expand, DEPTH, terms);
    if (terms.length <= MAX_TERMS) for (const q of terms) push(Math.abs(q.t.value * rest));
  });
}

/**
 * The terms of a sum (or the factors of a product), also once the leaves that earlier computations
 * of the same kind produced are written out: `60 + 45` after `15 + 30 = 45` has the terms 60, 45, 15, 30.
 * These are the values the computation combines in one step, however the path grouped them.
 */
export function leafValues(tree: Tree, expand: (v: number) => Tree | null = () => null): number[] {
  const kind = kindOf(tree);
  if (kind === null) return [];
  const out: number[] = [];
  // Every depth of writing out counts: `45 - 28` after `54 - 9 = 45` and `31 + 23 = 54` combines 54 too.
  for (let depth = 0; depth <= DEPTH; depth++) {
    const parts: { t: Tree; flip: boolean }[] = [];
    flatten(tree, kind, false, expand, depth, parts);
    for (const p of parts) if (!out.some((x) => sameValue(x, Math.abs(p.t.value)))) out.push(Math.abs(p.t.value));
  }
  return out;
}

/**
 * For each computation of a path (in order), the tree of the latest earlier correct computation
 * stating a value, when that value is not one of the problem's own numbers.
 */
export function expanders(comps: readonly Computation[], given: readonly number[]): ((v: number) => Tree | null)[] {
  return comps.map((_, i) => (v: number) => {
    if (given.some((g) => sameValue(g, v))) return null;
    for (let j = i - 1; j >= 0; j--)
      if (sameValue(comps[j]!.stated, v)) return comps[j]!.correct ? comps[j]!.tree : null;
    return null;
  });
}

/** Every value a computation rests on: its operands, and theirs back through the earlier computations that stated them. */
export function restsOn(comps: readonly Computation[], i: number): number[] {
  const values: number[] = [];
  const seen = new Set<number>();
  const stack = [i];
  while (stack.length) {
    const k = stack.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    for (const o of comps[k]!.operands) {
      if (!values.some((x) => sameValue(x, o))) values.push(o);
      for (let j = k - 1; j >= 0; j--)
        if (sameValue(comps[j]!.stated, o)) {
          stack.push(j);
          break;
        }
    }
  }
  return values;
}
