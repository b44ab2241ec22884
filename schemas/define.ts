/**
 * @module schemas/define
 * A small column-type algebra: each table is declared once, and its TypeScript row type,
 * its runtime validation and its DuckDB DDL all derive from that one declaration.
 */

/** One problem found while validating a value; becomes a row of `rejects`. */
export interface Issue {
  code:
    | 'invalid_type'
    | 'missing'
    | 'invalid_value'
    | 'invalid_json'
    | 'invalid_ars'
    | 'invalid_reference'
    | 'invalid_path'
    | 'unknown_key'
    | 'too_big';
  /** Dotted field path, e.g. `ars.2.depends_on`. */
  path: string;
  message: string;
}

/** A column type: its SQL spelling, a checker, and (phantom) its TS type. */
export interface Col<T> {
  readonly sql: string;
  readonly nullable: boolean;
  /** Human words for "what was expected", used in messages. */
  readonly expected: string;
  /** Hugging Face `datasets` feature of the column, for dataset cards. */
  readonly hf: HfFeature;
  /** Pushes issues for `v` at `path`; returns the (possibly normalised) value. */
  check(v: unknown, path: string, issues: Issue[]): T;
  readonly _t?: T;
}

/** A `datasets` feature: a dtype, a sequence of a dtype, or a list of named fields. */
export type HfFeature =
  | { dtype: string }
  | { sequence: HfFeature }
  | { struct: ({ name: string } & HfFeature)[] }
  | { list: ({ name: string } & HfFeature)[] };

const HF_DTYPE: Record<string, string> = {
  VARCHAR: 'string',
  INTEGER: 'int32',
  BIGINT: 'int64',
  DOUBLE: 'float64',
  BOOLEAN: 'bool',
};

export type Infer<C> = C extends Col<infer T> ? T : never;
export type Shape = Record<string, Col<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: null extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
/** Row type of a shape: nullable columns may be omitted on input and read back as null. */
export type RowOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]: Infer<S[K]> };

/** Short description of what came, for error messages: `"abc"`, `42`, `null`, `an array`. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function prim<T>(sql: string, expected: string, ok: (v: unknown) => boolean): Col<T> {
  return {
    sql,
    nullable: false,
    expected,
    hf: { dtype: HF_DTYPE[sql] ?? 'string' },
    check(v, path, issues) {
      if (v === undefined || v === null)
        issues.push({ code: 'missing', path, message: `${path} is required (${expected}), got ${describe(v)}` });
      else if (!ok(v))
        issues.push({ code: 'invalid_type', path, message: `${path} should be ${expected}, got ${describe(v)}` });
      return v as T;
    },
  };
}

export const t = {
  string: (): Col<string> => prim('VARCHAR', 'a string', (v) => typeof v === 'string'),
  /** A string that must not be empty or blank. */
  text: (): Col<string> => prim('VARCHAR', 'a non-empty string', (v) => typeof v === 'string' && v.trim() !== ''),
  /** An answer value: a string, or a number written as its shortest decimal string. */
  answer: (): Col<string> => {
    const c = prim<string | number>(
      'VARCHAR',
      'a string or a number',
      (v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)),
    );
    return {
      sql: c.sql,
      nullable: false,
      expected: c.expected,
      hf: c.hf,
      check: (v, path, issues) => {
        const x = c.check(v, path, issues);
        return typeof x === 'number' ? String(x) : x;
      },
    };
  },
  int: (): Col<number> => prim('INTEGER', 'an integer', (v) => Number.isInteger(v)),
  bigint: (): Col<number> => prim('BIGINT', 'an integer', (v) => Number.isInteger(v)),
  double: (): Col<number> => prim('DOUBLE', 'a number', (v) => typeof v === 'number' && Number.isFinite(v)),
  bool: (): Col<boolean> => prim('BOOLEAN', 'true or false', (v) => typeof v === 'boolean'),

  enum<const V extends readonly string[]>(values: V): Col<V[number]> {
    const expected = `one of ${values.join(', ')}`;
    return prim<V[number]>('VARCHAR', expected, (v) => typeof v === 'string' && values.includes(v));
  },

  /** A column that may be null; on input it may also be absent. */
  nullable<T>(inner: Col<T>): Col<T | null> {
    return {
      sql: inner.sql,
      nullable: true,
      expected: `${inner.expected} or null`,
      hf: inner.hf,
      check(v, path, issues) {
        return v === undefined || v === null ? null : inner.check(v, path, issues);
      },
    };
  },

  /** A column that takes a default when absent on input (never null once validated). */
  withDefault<T>(inner: Col<T>, fallback: () => T): Col<T> {
    return {
      sql: inner.sql,
      nullable: false,
      expected: inner.expected,
      hf: inner.hf,
      check(v, path, issues) {
        return v === undefined || v === null ? fallback() : inner.check(v, path, issues);
      },
    };
  },

  list<T>(inner: Col<T>): Col<T[]> {
    return {
      sql: `${inner.sql}[]`,
      nullable: false,
      expected: `a list of ${inner.expected}`,
      hf: 'struct' in inner.hf ? { list: inner.hf.struct } : { sequence: inner.hf },
      check(v, path, issues) {
        if (v === undefined || v === null) {
          issues.push({ code: 'missing', path, message: `${path} is required (a list), got ${describe(v)}` });
          return [];
        }
        if (!Array.isArray(v)) {
          issues.push({
            code: 'invalid_type',
            path,
            message: `${path} should be a list of ${inner.expected}, got ${describe(v)}`,
          });
          return [];
        }
        return v.map((x, i) => inner.check(x, `${path}.${i}`, issues));
      },
    };
  },

  /**
   * An object with the fields of `shape`. Extra keys are dropped, or with `strict` refused by name
   * (with the closest known key when one is near); `unknown` may give a key a message of its own.
   */
  struct<S extends Shape>(shape: S, opts: StructOptions = {}): Col<RowOf<S>> {
    const fields = Object.entries(shape);
    const sql = `STRUCT(${fields.map(([k, c]) => `"${k}" ${c.sql}`).join(', ')})`;
    return {
      sql,
      nullable: false,
      expected: `an object with ${fields.map(([k]) => k).join(', ')}`,
      hf: { struct: fields.map(([name, c]) => ({ name, ...c.hf })) },
      check(v, path, issues) {
        if (v === undefined || v === null) {
          issues.push({ code: 'missing', path, message: `${path} is required (an object), got ${describe(v)}` });
          return v as unknown as RowOf<S>;
        }
        if (typeof v !== 'object' || Array.isArray(v)) {
          issues.push({ code: 'invalid_type', path, message: `${path} should be an object, got ${describe(v)}` });
          return v as unknown as RowOf<S>;
        }
        if (opts.strict) unknownKeys(Object.keys(shape), v as object, path, opts.unknown, issues);
        return checkShape(shape, v as Record<string, unknown>, path, issues);
      },
    };
  },
};

export interface StructOptions {
  /** Refuse keys that are not in the shape (a config's typo must not be ignored). */
  strict?: boolean;
  /** A message of its own for an unknown key (e.g. a secret that belongs in the environment), or undefined. */
  unknown?: (key: string, path: string) => string | undefined;
}

function unknownKeys(
  known: readonly string[],
  obj: object,
  prefix: string,
  own: StructOptions['unknown'],
  issues: Issue[],
): void {
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const path = at(key);
    const near = closest(key, known);
    const message =
      own?.(key, path) ??
      (near !== null
        ? `${path} is not a known key: did you mean ${at(near)}?`
        : `${path} is not a known key (expected one of ${known.join(', ')})`);
    issues.push({ code: 'unknown_key', path, message });
  }
}

/** The known key nearest to `key` by edit distance (a swap counts once), when it is near enough to be a typo. */
function closest(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Math.max(1, Math.floor(key.length / 4)) + 1;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

function checkShape<S extends Shape>(
  shape: S,
  obj: Record<string, unknown>,
  prefix: string,
  issues: Issue[],
): RowOf<S> {
  const out: Record<string, unknown> = {};
  for (const [k, col] of Object.entries(shape)) out[k] = col.check(obj[k], prefix ? `${prefix}.${k}` : k, issues);
  return out as RowOf<S>;
}

export type Validated<R> = { ok: true; value: R } | { ok: false; issues: Issue[] };

/** A table: name, columns, and everything derived from them. */
export interface Table<S extends Shape> {
  readonly name: string;
  readonly shape: S;
  readonly columns: readonly string[];
  /** `CREATE TABLE IF NOT EXISTS` statement for DuckDB. */
  ddl(name?: string): string;
  /** DuckDB `read_json` columns map: `{'a': 'VARCHAR', ...}`. */
  jsonColumns(): string;
  /** Validates an untrusted object (extra keys are dropped). */
  validate(v: unknown): Validated<RowOf<S>>;
  /** The same columns under another table name (e.g. `aligned_paths` has the `paths` columns). */
  as(name: string): Table<S>;
  /** The same table without some columns (for a published view of it). */
  without(...cols: string[]): Table<Shape>;
  readonly _row?: RowOf<S>;
}

export type Row<T> = T extends Table<infer S> ? RowOf<S> : never;

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Declares a table once. */
export function table<S extends Shape>(name: string, shape: S): Table<S> {
  const columns = Object.keys(shape);
  return {
    name,
    shape,
    columns,
    ddl: (n = name) =>
      `CREATE TABLE IF NOT EXISTS "${n}" (${Object.entries(shape)
        .map(([k, c]) => `"${k}" ${c.sql}${c.nullable ? '' : ' NOT NULL'}`)
        .join(', ')})`,
    jsonColumns: () =>
      `{${Object.entries(shape)
        .map(([k, c]) => `${sqlString(k)}: ${sqlString(c.sql)}`)
        .join(', ')}}`,
    validate(v) {
      const issues: Issue[] = [];
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        return {
          ok: false,
          issues: [{ code: 'invalid_type', path: '', message: `row should be an object, got ${describe(v)}` }],
        };
      }
      const value = checkShape(shape, v as Record<string, unknown>, '', issues);
      return issues.length ? { ok: false, issues } : { ok: true, value };
    },
    as: (n) => table(n, shape),
    without: (...cols) =>
      table(name, Object.fromEntries(Object.entries(shape).filter(([k]) => !cols.includes(k))) as Shape),
  };
}
