/**
 * @module stages/align/arith
 * Reads the arithmetic a solution step performs: `<<a*b=c>>` calculator annotations, plain
 * `a op b = c` equations and their LaTeX spellings (`\times`, `\frac`, `\(...\)`), and the
 * numbers a step states. No model; a small recursive-descent evaluator, never `eval`. What a
 * step's text yields is cached for the shard (`memoText`): alignment and scoring read it again.
 */
import { memoText } from '../lib/memo.ts';

/** An arithmetic expression read from text: its value, its literal operands in order, its operators, its parse tree. */
export interface Expr {
  value: number;
  operands: number[];
  ops: string[];
  tree: Tree;
}

/** Parse tree of an expression: a literal (`op` null; `50%` is 0.5), or an operator over its arguments (`neg`: unary minus). */
export interface Tree {
  op: '+' | '-' | '*' | '/' | '^' | 'neg' | null;
  value: number;
  args: Tree[];
}

/** One `lhs = stated` found in a step; `actual` is the value of `lhs`. */
export interface Computation {
  step: number;
  expr: string;
  operands: number[];
  ops: string[];
  tree: Tree;
  stated: number;
  actual: number;
  /** Whether `stated` is `actual` as written (rounding to the shown decimals allowed). */
  correct: boolean;
}

type Tok = { k: 'num'; v: number } | { k: 'op'; v: string } | { k: 'pct' } | { k: 'lp' } | { k: 'rp' } | { k: 'bad' };

/**
 * The tokens of `s`, scanned by hand as the sticky pattern
 * `\s*(?:(\d+(?:\.\d+)?|\.\d+)|([+\-*\/^])|(%)|(\()|(\))|(\$)|(\S))` reads them: spaces skipped, a
 * number (digits with an optional fraction, or a bare fraction), an operator, `%`, a parenthesis,
 * a currency sign (dropped), else any other character as `bad`; trailing spaces end the scan.
 */
function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (i >= n) break;
    const c = s.charCodeAt(i);
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(s.charCodeAt(i + 1)))) {
      const start = i;
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      // `5.` is the number 5 followed by a bad `.`; `.5` and `5.25` are numbers.
      if (i < n && s.charCodeAt(i) === 46 && i + 1 < n && isDigit(s.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(s.charCodeAt(i))) i++;
      }
      out.push({ k: 'num', v: Number(s.slice(start, i)) });
      continue;
    }
    i++;
    if (c === 36) continue; // currency sign: not arithmetic
    out.push(symbolToken(c));
  }
  return out;
}

/** The token of a character that is not a digit, space or `$` (shared: a token is never changed). */
function symbolToken(c: number): Tok {
  switch (c) {
    case 43:
      return PLUS;
    case 45:
      return MINUS;
    case 42:
      return TIMES;
    case 47:
      return DIVIDE;
    case 94:
      return POWER;
    case 37:
      return PCT;
    case 40:
      return LP;
    case 41:
      return RP;
    default:
      return BAD;
  }
}

const PLUS: Tok = { k: 'op', v: '+' };
const MINUS: Tok = { k: 'op', v: '-' };
const TIMES: Tok = { k: 'op', v: '*' };
const DIVIDE: Tok = { k: 'op', v: '/' };
const POWER: Tok = { k: 'op', v: '^' };
const PCT: Tok = { k: 'pct' };
const LP: Tok = { k: 'lp' };
const RP: Tok = { k: 'rp' };
const BAD: Tok = { k: 'bad' };

const isDigit = (c: number) => c >= 48 && c <= 57;
/** `\s` of a pattern: ASCII spaces, and the Unicode ones the pattern knows. */
const isSpace = (c: number) =>
  c === 32 || (c >= 9 && c <= 13) || (c >= 128 && SPACE.test(String.fromCharCode(c))) || c === 160;
const SPACE = /\s/;

/** Parses tokens[from..] completely as an expression; null when they do not form one. */
function parseTokens(toks: Tok[], from: number): Expr | null {
  const p = new Parser(toks, from);
  const tree = p.sum();
  if (tree === null || p.i !== toks.length || !Number.isFinite(tree.value)) return null;
  return { value: tree.value, operands: p.operands, ops: p.ops, tree };
}

const node = (op: Tree['op'], value: number, args: Tree[]): Tree => ({ op, value, args });

/** Recursive descent over tokens: sum of products of powers of primaries (one parser per attempt). */
class Parser {
  readonly operands: number[] = [];
  readonly ops: string[] = [];
  constructor(
    private readonly toks: Tok[],
    public i: number,
  ) {}
  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  primary(): Tree | null {
    const t = this.peek();
    if (!t) return null;
    if (t.k === 'num') {
      this.i++;
      this.operands.push(t.v);
      if (this.peek()?.k === 'pct') {
        this.i++;
        return node(null, t.v / 100, []);
      }
      return node(null, t.v, []);
    }
    if (t.k === 'lp') {
      this.i++;
      const v = this.sum();
      if (v === null || this.peek()?.k !== 'rp') return null;
      this.i++;
      return v;
    }
    if (t.k === 'op' && t.v === '-') {
      this.i++;
      const v = this.primary();
      return v === null ? null : node('neg', -v.value, [v]);
    }
    return null;
  }
  power(): Tree | null {
    const b = this.primary();
    if (b === null) return null;
    const t = this.peek();
    if (t?.k === 'op' && t.v === '^') {
      this.i++;
      this.ops.push('^');
      const e = this.power();
      return e === null ? null : node('^', b.value ** e.value, [b, e]);
    }
    return b;
  }
  product(): Tree | null {
    let v = this.power();
    while (v !== null) {
      const t = this.peek();
      if (t?.k === 'op' && (t.v === '*' || t.v === '/')) {
        this.i++;
        this.ops.push(t.v);
        const r = this.power();
        if (r === null) return null;
        v = node(t.v, t.v === '*' ? v.value * r.value : v.value / r.value, [v, r]);
      } else if (t?.k === 'lp') {
        // implicit product: 2(3+4)
        this.ops.push('*');
        const r = this.power();
        if (r === null) return null;
        v = node('*', v.value * r.value, [v, r]);
      } else break;
    }
    return v;
  }
  sum(): Tree | null {
    let v = this.product();
    while (v !== null) {
      const t = this.peek();
      if (t?.k === 'op' && (t.v === '+' || t.v === '-')) {
        this.i++;
        this.ops.push(t.v);
        const r = this.product();
        if (r === null) return null;
        v = node(t.v, t.v === '+' ? v.value + r.value : v.value - r.value, [v, r]);
      } else break;
    }
    return v;
  }
}

/** Evaluates an arithmetic expression (`+ - * / ^`, parentheses, `%`, `$`); null when it is not one. */
export function evaluate(expr: string): Expr | null {
  const toks = tokenize(normaliseMath(expr));
  return toks.length ? parseTokens(toks, 0) : null;
}

/** An expression read from the tail of a text: its tokens from `from` on (`tokensText` writes them). */
interface Suffix {
  toks: Tok[];
  from: number;
  expr: Expr;
}

/** The longest tail of `s` that is an expression with at least one operator. */
function expressionSuffix(s: string): Suffix | null {
  const toks = tokenize(s);
  for (let from = 0; from < toks.length; from++) {
    const t = toks[from]!;
    if (t.k !== 'num' && t.k !== 'lp' && !(t.k === 'op' && t.v === '-')) continue;
    const e = parseTokens(toks, from);
    if (e && e.ops.length > 0) return { toks, from, expr: e };
  }
  return null;
}

/** The text of tokens `from..`, operands as numbers (`1.50` is `1.5`). */
function tokensText(toks: Tok[], from: number): string {
  let out = '';
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    out +=
      t.k === 'num'
        ? String(t.v)
        : t.k === 'op'
          ? t.v
          : t.k === 'pct'
            ? '%'
            : t.k === 'lp'
              ? '('
              : t.k === 'rp'
                ? ')'
                : '?';
  }
  return out;
}

/** Rewrites LaTeX and prose arithmetic into plain `a * b = c` text; `<<...>>` annotations are removed. */
export function normaliseMath(text: string): string {
  // Plain arithmetic (a `<<...>>` annotation's sides, mostly) is already normal: no rule below can
  // match a text of digits, operators, parentheses, `%`, `$` and spaces alone.
  return PLAIN_MATH.test(text) ? text : normaliseCached(text);
}

const PLAIN_MATH = /^[\d.+\-*/^()%$=\s]*$/;
const normaliseCached = memoText(normaliseMathOnce, 100_000);

const UNICODE_OPS = /[×∙·÷−–]/;
const RESULT_WORDS = /gives|equals/i;
const OPERATOR = /[+\-*/=]/;

function normaliseMathOnce(text: string): string {
  // Each rewrite runs only when its text can be there (most steps have no LaTeX, no unicode
  // operator, no prose result): the same result, without a pass over the text for each rule.
  let s = text.includes('<<') ? text.replace(/<<[^<>]*>>/g, ' ') : text;
  if (s.includes('\\')) {
    s = s.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, '(($1)/($2))');
    s = s.replace(/\\boxed\s*\{([^{}]*)\}/g, ' $1 ');
    s = s.replace(/\\text(?:bf|rm)?\s*\{[^{}]*\}/g, ' ');
    s = s.replace(/\\(?:times|cdot|ast)/g, '*').replace(/\\div/g, '/');
  }
  if (UNICODE_OPS.test(s)) s = s.replace(/[×∙·]/g, '*').replace(/÷/g, '/').replace(/[−–]/g, '-');
  if (s.includes('\\')) {
    s = s
      .replace(/\\%/g, '%')
      .replace(/\\\$/g, '$')
      .replace(/\\(?:left|right)/g, '')
      .replace(/\\[(),\][!; ]/g, ' ');
    s = s.replace(/\\[a-zA-Z]+/g, ' ');
  }
  if (s.includes('{') || s.includes('}')) s = s.replace(/[{}]/g, ' ');
  // A step's number in a heading or a reference ("Step 3:", "from step 2") is no quantity.
  if (/step/i.test(s)) s = s.replace(/\bstep\s+\d+\b/gi, ' ');
  if (s.includes('x') || s.includes('X')) s = s.replace(/(\d)\s*[xX]\s*(?=[$(\d])/g, '$1 * ');
  if (s.includes(',')) s = s.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  // A result said in words: "1.08^5, which gives 1.469", "5 * 4 equals 20".
  if (RESULT_WORDS.test(s))
    s = s.replace(/\s*,?\s*\b(?:(?:which|that|this)\s+(?:gives|equals)|equals|gives)\s+(?=\$?\s*-?\d)/gi, ' = ');
  // Prose between numbers and operators: "3 hours * $35/hour", "$105 (lost income) - $90".
  if (s.includes('/')) s = s.replace(/\/\s*[a-zA-Z]+(?![\s\d]*[=(\d$])/g, ' ');
  if (s.includes('(')) s = s.replace(/\(\s*[a-zA-Z][a-zA-Z' ]*\)/g, ' ');
  if (OPERATOR.test(s)) s = s.replace(/(\d%?)\s+(?:[a-zA-Z']+\s+){1,2}(?=[+\-*/=]\s*[$(\d])/g, '$1 ');
  return s;
}

/** Stated values match when they agree to the decimals written (a whole number may drop a fraction). */
export function statedMatches(actual: number, stated: number, statedText: string): boolean {
  if (Math.abs(actual - stated) <= 1e-9 * Math.max(1, Math.abs(actual))) return true;
  const decimals = (statedText.split('.')[1] ?? '').length;
  if (decimals > 0) return Math.abs(actual - stated) <= 0.5 * 10 ** -decimals + 1e-9;
  if (Number.isInteger(actual)) return false;
  // Rounded to the significant digits written (at least 3): 7900 * 1.469 = 11605.1 is "11610".
  const sig = Math.max(3, statedText.replace(/^[-0.]+/, '').replace(/\.|0+$/g, '').length);
  return Math.abs(actual - stated) < 1 || (sig <= 15 && sameValue(Number(actual.toPrecision(sig)), stated));
}

const NUMBER_AT_START = /^\s*\$?\s*(-?\d+(?:\.\d+)?)\s*(%?)/;

/**
 * Every `lhs = number` of one step, from annotations and from the text. The list is cached for the
 * shard with the step it was first asked for (a text is nearly always asked for at one step): it
 * is shared, never change it or its computations.
 */
export function computations(stepText: string, step: number): Computation[] {
  return atStep(stepComputations(stepText), step);
}

/** A text's readings (step 0) and the same placed at one step, made when first asked for. */
interface Readings<T extends { step: number }> {
  base: readonly T[];
  step: number;
  placed: T[] | null;
}

function atStep<T extends { step: number }>(r: Readings<T>, step: number): T[] {
  if (r.placed !== null && r.step === step) return r.placed;
  const placed = r.base.map((c) => ({ ...c, step }));
  if (r.placed === null) {
    r.placed = placed;
    r.step = step;
  }
  return placed;
}

const readings = <T extends { step: number }>(base: readonly T[]): Readings<T> => ({ base, step: 0, placed: null });

const stepComputations = memoText((stepText: string) => readings(computationsOf(stepText)));

function computationsOf(stepText: string): readonly Computation[] {
  const step = 0;
  const out: Computation[] = [];
  const seen = new Set<string>();
  const push = (lhs: Suffix, statedText: string, pct: boolean) => {
    const stated = Number(statedText);
    const key = `${lhs.expr.operands.join(',')}|${lhs.expr.ops.join('')}|${stated}`;
    if (seen.has(key)) return;
    seen.add(key);
    const actual = lhs.expr.value;
    const correct =
      statedMatches(actual, stated, statedText) ||
      (pct && (statedMatches(actual, stated / 100, statedText) || statedMatches(actual * 100, stated, statedText)));
    out.push({
      step,
      expr: tokensText(lhs.toks, lhs.from),
      operands: lhs.expr.operands,
      ops: lhs.expr.ops,
      tree: lhs.expr.tree,
      stated,
      actual,
      correct,
    });
  };
  if (stepText.includes('<<'))
    for (const m of stepText.matchAll(/<<([^<>=]*)=([^<>]*)>>/g)) {
      const lhs = expressionSuffix(normaliseMath(m[1]!));
      const rhs = NUMBER_AT_START.exec(normaliseMath(m[2]!).replace(/(\d),(?=\d{3})/g, '$1'));
      if (lhs && rhs) push(lhs, rhs[1]!, rhs[2] === '%');
    }
  const text = normaliseMath(stepText);
  if (!text.includes('=')) return out;
  for (const run of equationRuns(text)) {
    const parts = run.split('=');
    for (let i = 0; i + 1 < parts.length; i++) {
      const lhs = expressionSuffix(parts[i]!);
      if (!lhs) continue;
      // "a * b + c = d + c = e": a right side that is itself an expression is compared by value.
      const rhsExpr = i + 2 < parts.length ? evaluate(parts[i + 1]!) : null;
      if (rhsExpr && rhsExpr.ops.length > 0) {
        push(lhs, String(rhsExpr.value), false);
        continue;
      }
      const rhs = NUMBER_AT_START.exec(parts[i + 1]!);
      if (!rhs) continue;
      const rest = parts[i + 1]!.slice(rhs[0].length);
      if (/^\s*[+\-*/^]\s*[\d($]/.test(rest)) continue;
      push(lhs, rhs[1]!, rhs[2] === '%');
    }
  }
  return out;
}

/**
 * The matches of `/[\d.()+\-*\/^%=\s$]*=[\d.()+\-*\/^%=\s$]*\/g` in `text`, found from its `=` signs:
 * each is a whole run of those characters that holds an `=`.
 */
function equationRuns(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let from = 0;
  for (;;) {
    const eq = text.indexOf('=', from);
    if (eq < 0) return out;
    let a = eq;
    while (a > from && isRunChar(text.charCodeAt(a - 1))) a--;
    let b = eq + 1;
    while (b < n && isRunChar(text.charCodeAt(b))) b++;
    out.push(text.slice(a, b));
    from = b;
  }
}

/** A character of `[\d.()+\-*\/^%=\s$]`. */
const isRunChar = (c: number) =>
  isDigit(c) ||
  c === 46 ||
  c === 40 ||
  c === 41 ||
  c === 43 ||
  c === 45 ||
  c === 42 ||
  c === 47 ||
  c === 94 ||
  c === 37 ||
  c === 61 ||
  c === 36 ||
  isSpace(c);

/** A number a step states, with where it stands in the step. */
export interface Stated {
  step: number;
  value: number;
  index: number;
}

/**
 * All numbers stated in a step (after annotations are dropped and LaTeX normalised), in reading
 * order. Cached for the shard like `computations`: the list is shared, never change it.
 */
export function statedNumbers(stepText: string, step: number): Stated[] {
  return atStep(stepNumbers(stepText), step);
}

/** `statedNumbers(stepText, 0)`, for readers of values and places only (no copy is placed at a step). */
export function statedNumbersOf(stepText: string): readonly Stated[] {
  return stepNumbers(stepText).base;
}

const stepNumbers = memoText((stepText: string) => {
  const text = normaliseMath(stepText);
  const out: Stated[] = [];
  for (const m of text.matchAll(/(?<![\w.])-?\d+(?:\.\d+)?/g))
    out.push({ step: 0, value: Number(m[0]), index: m.index });
  return readings(out);
});

/** Misstated arithmetic in a solution: steps where `lhs = stated` but `lhs` evaluates to something else. */
export function arithmeticErrors(
  steps: readonly string[],
): { step: number; expr: string; stated: number; actual: number }[] {
  return steps.flatMap((s, i) =>
    computations(s, i)
      .filter((c) => !c.correct)
      .map((c) => ({ step: c.step, expr: c.expr, stated: c.stated, actual: c.actual })),
  );
}

/** Two numbers are the same value (relative 1e-6). */
export const sameValue = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
