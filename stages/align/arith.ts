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

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?|\.\d+)|([+\-*/^])|(%)|(\()|(\))|(\$)|(\S))/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s))) {
    if (m[1] !== undefined) out.push({ k: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ k: 'op', v: m[2] });
    else if (m[3] !== undefined) out.push({ k: 'pct' });
    else if (m[4] !== undefined) out.push({ k: 'lp' });
    else if (m[5] !== undefined) out.push({ k: 'rp' });
    else if (m[6] !== undefined)
      continue; // currency sign: not arithmetic
    else if (m[7] !== undefined) out.push({ k: 'bad' });
  }
  return out;
}

/** Parses tokens[from..] completely as an expression; null when they do not form one. */
function parseTokens(toks: Tok[], from: number): Expr | null {
  let i = from;
  const operands: number[] = [];
  const ops: string[] = [];
  const peek = () => toks[i];
  const node = (op: Tree['op'], value: number, ...args: Tree[]): Tree => ({ op, value, args });
  function primary(): Tree | null {
    const t = peek();
    if (!t) return null;
    if (t.k === 'num') {
      i++;
      operands.push(t.v);
      if (peek()?.k === 'pct') {
        i++;
        return node(null, t.v / 100);
      }
      return node(null, t.v);
    }
    if (t.k === 'lp') {
      i++;
      const v = sum();
      if (v === null || peek()?.k !== 'rp') return null;
      i++;
      return v;
    }
    if (t.k === 'op' && t.v === '-') {
      i++;
      const v = primary();
      return v === null ? null : node('neg', -v.value, v);
    }
    return null;
  }
  function power(): Tree | null {
    const b = primary();
    if (b === null) return null;
    const t = peek();
    if (t?.k === 'op' && t.v === '^') {
      i++;
      ops.push('^');
      const e = power();
      return e === null ? null : node('^', b.value ** e.value, b, e);
    }
    return b;
  }
  function product(): Tree | null {
    let v = power();
    while (v !== null) {
      const t = peek();
      if (t?.k === 'op' && (t.v === '*' || t.v === '/')) {
        i++;
        ops.push(t.v);
        const r = power();
        if (r === null) return null;
        v = node(t.v, t.v === '*' ? v.value * r.value : v.value / r.value, v, r);
      } else if (t?.k === 'lp') {
        // implicit product: 2(3+4)
        ops.push('*');
        const r = power();
        if (r === null) return null;
        v = node('*', v.value * r.value, v, r);
      } else break;
    }
    return v;
  }
  function sum(): Tree | null {
    let v = product();
    while (v !== null) {
      const t = peek();
      if (t?.k === 'op' && (t.v === '+' || t.v === '-')) {
        i++;
        ops.push(t.v);
        const r = product();
        if (r === null) return null;
        v = node(t.v, t.v === '+' ? v.value + r.value : v.value - r.value, v, r);
      } else break;
    }
    return v;
  }
  const tree = sum();
  if (tree === null || i !== toks.length || !Number.isFinite(tree.value)) return null;
  return { value: tree.value, operands, ops, tree };
}

/** Evaluates an arithmetic expression (`+ - * / ^`, parentheses, `%`, `$`); null when it is not one. */
export function evaluate(expr: string): Expr | null {
  const toks = tokenize(normaliseMath(expr));
  return toks.length ? parseTokens(toks, 0) : null;
}

/** The longest tail of `s` that is an expression with at least one operator. */
function expressionSuffix(s: string): { text: string; expr: Expr } | null {
  const toks = tokenize(s);
  for (let from = 0; from < toks.length; from++) {
    const t = toks[from]!;
    if (t.k !== 'num' && t.k !== 'lp' && !(t.k === 'op' && t.v === '-')) continue;
    const e = parseTokens(toks, from);
    if (e && e.ops.length > 0) return { text: tokensText(toks.slice(from)), expr: e };
  }
  return null;
}

function tokensText(toks: Tok[]): string {
  return toks
    .map((t) =>
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
                : '?',
    )
    .join('');
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

/** Every `lhs = number` of one step, from annotations and from the text. */
export function computations(stepText: string, step: number): Computation[] {
  return stepComputations(stepText).map((c) => ({ ...c, step }));
}

const stepComputations = memoText((stepText: string): readonly Computation[] => {
  const step = 0;
  const out: Computation[] = [];
  const seen = new Set<string>();
  const push = (lhs: { text: string; expr: Expr }, statedText: string, pct: boolean) => {
    const stated = Number(statedText);
    const candidates = pct ? [stated, stated / 100] : [stated];
    const correct =
      candidates.some((c) => statedMatches(lhs.expr.value, c, statedText)) ||
      (pct && statedMatches(lhs.expr.value * 100, stated, statedText));
    const key = `${lhs.expr.operands.join(',')}|${lhs.expr.ops.join('')}|${stated}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({
      step,
      expr: lhs.text,
      operands: lhs.expr.operands,
      ops: lhs.expr.ops,
      tree: lhs.expr.tree,
      stated,
      actual: lhs.expr.value,
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
  for (const run of text.matchAll(/[\d.()+\-*/^%=\s$]*=[\d.()+\-*/^%=\s$]*/g)) {
    const parts = run[0].split('=');
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
});

/** A number a step states, with where it stands in the step. */
export interface Stated {
  step: number;
  value: number;
  index: number;
}

/** All numbers stated in a step (after annotations are dropped and LaTeX normalised), in reading order. */
export function statedNumbers(stepText: string, step: number): Stated[] {
  return stepNumbers(stepText).map((s) => ({ ...s, step }));
}

const stepNumbers = memoText((stepText: string): readonly Stated[] => {
  const text = normaliseMath(stepText);
  const out: Stated[] = [];
  for (const m of text.matchAll(/(?<![\w.])-?\d+(?:\.\d+)?/g))
    out.push({ step: 0, value: Number(m[0]), index: m.index });
  return out;
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
