/**
 * @module schemas/refine
 * Refinements of the column algebra for settings: ranges, patterns, sets and cross-field rules,
 * each refusing a value with what was expected and what came.
 */
import { describe, t, type Col, type Issue, type RowOf, type Shape, type StructOptions } from './define.ts';

/**
 * `inner`, then `test` on a value that passed it: every message `test` returns becomes an issue at
 * the value's path (a rule never runs on a value its column already refused).
 */
export function rule<T>(inner: Col<T>, test: (v: T, path: string) => string[], expected = inner.expected): Col<T> {
  return {
    sql: inner.sql,
    nullable: inner.nullable,
    expected,
    hf: inner.hf,
    check(v, path, issues) {
      const before = issues.length;
      const out = inner.check(v, path, issues);
      if (issues.length === before)
        for (const message of test(out, path)) issues.push({ code: 'invalid_value', path, message });
      return out;
    },
  };
}

/** `inner` restricted to the values `ok` accepts; `expected` names them in the message. */
export function refine<T>(
  inner: Col<T>,
  expected: string,
  ok: (v: T) => boolean,
  show: (v: T) => string = describe,
): Col<T> {
  return rule(inner, (v, path) => (ok(v) ? [] : [`${path} should be ${expected}, got ${show(v)}`]), expected);
}

/** `col`, or a fresh copy of `d` when the value is absent (or null), so no two configs share a default list. */
export const dflt = <T>(col: Col<T>, d: T): Col<T> => t.withDefault(col, () => structuredClone(d));

/** An integer of at least `min`. */
export const intMin = (min: number): Col<number> => refine(t.int(), `an integer >= ${min}`, (n) => n >= min);

/** A finite number in a range; `open` excludes the ends it names. */
export function numIn(lo: number, hi: number, open: { lo?: boolean; hi?: boolean } = {}): Col<number> {
  const expected = `a number in ${open.lo ? '(' : '['}${lo}, ${hi}${open.hi ? ')' : ']'}`;
  return refine(t.double(), expected, (n) => (open.lo ? n > lo : n >= lo) && (open.hi ? n < hi : n <= hi));
}

/** A finite number above `min` (or at least it, with `inclusive`). */
export const numMin = (min: number, inclusive = false): Col<number> =>
  refine(t.double(), `a number ${inclusive ? '>=' : '>'} ${min}`, (n) => (inclusive ? n >= min : n > min));

/** A list of at least `min` items. */
export const listOf = <T>(inner: Col<T>, min: number): Col<T[]> =>
  rule(t.list(inner), (xs, path) =>
    xs.length < min
      ? [
          `${path} should be ${min === 1 ? 'a non-empty list' : `a list of at least ${min}`} of ${inner.expected}, got ${xs.length === 0 ? 'an empty list' : describe(xs)}`,
        ]
      : [],
  );

/** A list of at least `min` items, no two with the same `key` (their JSON; `what` names it in the message). */
export function setOf<T>(
  inner: Col<T>,
  min = 0,
  key: (v: T) => string = (v) => JSON.stringify(v),
  what = 'value',
): Col<T[]> {
  return rule(listOf(inner, min), (xs, path) => {
    const seen = new Set<string>();
    const dup = xs.map(key).find((k) => (seen.has(k) ? true : (seen.add(k), false)));
    return dup === undefined ? [] : [`${path} should list each ${what} once, got ${dup} twice`];
  });
}

/** What a settings object may add: its own message for an unknown key, and rules across its fields. */
export interface ObjectOptions<T> {
  unknown?: StructOptions['unknown'];
  test?: (v: T, path: string) => string[];
}

/** A strict object: a key not in `shape` is refused by name (see `t.struct`), then `test` runs on the whole. */
export function strict<S extends Shape>(shape: S, opts: ObjectOptions<RowOf<S>> = {}): Col<RowOf<S>> {
  const col = t.struct(shape, { strict: true, ...(opts.unknown ? { unknown: opts.unknown } : {}) });
  return opts.test ? rule(col, opts.test) : col;
}

/** A strict object that takes its fields' defaults when absent: its default is the empty object validated. */
export function section<S extends Shape>(shape: S, opts: ObjectOptions<RowOf<S>> = {}): Col<RowOf<S>> {
  const col = strict(shape, opts);
  return t.withDefault(col, () => col.check({}, '', []));
}

/** A nullable strict object: absent or null means off; given, its fields take their defaults. */
export const optionalSection = <S extends Shape>(shape: S, opts: ObjectOptions<RowOf<S>> = {}) =>
  t.nullable(strict(shape, opts));

/** The issues of checking `v` with `col`, without keeping the value. */
export function issuesOf<T>(col: Col<T>, v: unknown, path: string): Issue[] {
  const issues: Issue[] = [];
  col.check(v, path, issues);
  return issues;
}
