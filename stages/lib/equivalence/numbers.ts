/** @module stages/lib/equivalence/numbers  Reading written numbers and comparing them, exactly or within a relative tolerance. */
import { cleanLatex } from './normalize.ts';
import { type Rat, fromDecimal, div, add, relClose, ratEq, toNumber, rat } from './rational.ts';
import { memoText } from '../memo.ts';

/** A number as written: its value, exact rational when known, and how it was written. */
export interface Num {
  /** Value as written, before any percent scaling. */
  value: number;
  exact: Rat | null;
  percent: boolean;
  /** Written as an integer, a fraction or a power of ten: compared exactly. */
  exactForm: boolean;
  /** Digits after the decimal point when written as a decimal, else 0. */
  decimals: number;
  /** Significant digits written. */
  sig: number;
}

export const DEFAULT_TOLERANCE = 1e-6;
const INT = String.raw`(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,2}(?: \d{3})+|\d+)`;
const EXP = String.raw`(?:[eE]([+-]?\d+)|\s*(?:x|X|\*|\\times|\\cdot)\s*10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d+)))`;
const DECIMAL = new RegExp(String.raw`^([+-])?\s*(${INT}(?:\.\d*)?|\.\d+)${EXP}?$`);
const DECIMAL_COMMA = /^([+-])?\s*(\d+),(\d+)$/;
const POW10 = /^([+-])?\s*10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d+))$/;
const ARG = String.raw`(?:\{\s*([+-]?\d+)\s*\}|(\d))`;
const FRAC = new RegExp(String.raw`^([+-])?\s*(?:(\d+)\s*)?\\frac\s*${ARG}\s*${ARG}$`);
const SLASH = /^([+-])?\s*(?:(\d+)\s+)?(\d+)\s*\/\s*(\d+)$/;
const PERCENT = /\s*(?:%|\\%|percent(?:age)?|pct)$/;
const CURRENCY = /^(?:\\\$|\$|€|£|¥|₹|USD|EUR)\s*|\s*(?:\\\$|\$|€|£|¥|₹)$|\s+(?:dollars?|cents?|euros?|yuan)$/g;

const sigDigits = (digits: string) => digits.replace(/[^\d]/g, '').replace(/^0+/, '').length || 1;

function fromParts(sign: string | undefined, body: string, exp: string | undefined, percent: boolean): Num | null {
  const plain = body.replace(/[, ]/g, '');
  const e = exp === undefined ? 0 : Number(exp);
  const exact = fromDecimal((sign === '-' ? '-' : '') + plain, e);
  const value = Number((sign === '-' ? '-' : '') + plain + (exp === undefined ? '' : `e${exp}`));
  if (!Number.isFinite(value) && exact === null) return null;
  const dot = plain.indexOf('.');
  const decimals = dot < 0 ? 0 : plain.length - dot - 1;
  return {
    value,
    exact,
    percent,
    exactForm: dot < 0 && e >= 0,
    decimals: exp === undefined ? decimals : 0,
    sig: sigDigits(plain),
  };
}

function fraction(
  sign: string | undefined,
  whole: string | undefined,
  n: string,
  d: string,
  percent: boolean,
): Num | null {
  const q = rat(BigInt(n), BigInt(d));
  if (q === null) return null;
  let r: Rat | null = q;
  if (whole !== undefined) r = add(rat(BigInt(whole)) ?? q, q);
  if (r === null) return null;
  if (sign === '-') r = { n: -r.n, d: r.d };
  return { value: toNumber(r), exact: r, percent, exactForm: true, decimals: 0, sig: 0 };
}

/**
 * Reads a number as written (see `parseNumber`), keeping how it was written; null when it is not
 * one. Cached for the shard (the same answers are read again and again): the result is shared,
 * never change it.
 */
export function readNumber(input: string): Num | null {
  return input.length > 400 ? readNumberOnce(input) : readCached(input);
}

const readCached = memoText(readNumberOnce, 50_000);

function readNumberOnce(input: string): Num | null {
  let s = input.trim();
  if (s.length > 200) return null;
  if (/[\\{]|[^\x20-\x7e]/.test(s)) s = cleanLatex(s);
  s = s.replace(/^\$+|\$+$/g, '').trim();
  s = s.replace(CURRENCY, '').replace(/\.$/, '').trim();
  let percent = false;
  if (PERCENT.test(s)) {
    percent = true;
    s = s.replace(PERCENT, '').trim();
  }
  s = s
    .replace(/^\{(.*)\}$/, '$1')
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  let m = DECIMAL.exec(s);
  if (m) return fromParts(m[1], m[2] ?? '', m[3] ?? m[4] ?? m[5], percent);
  m = DECIMAL_COMMA.exec(s);
  if (m) return fromParts(m[1], `${m[2]}.${m[3]}`, undefined, percent);
  m = POW10.exec(s);
  if (m) return fromParts(m[1], '1', m[2] ?? m[3], percent);
  m = FRAC.exec(s);
  if (m) {
    const num = m[3] ?? m[4] ?? '';
    const neg = (m[1] === '-') !== num.startsWith('-');
    return fraction(neg ? '-' : '+', m[2], num.replace(/^[+-]/, ''), m[5] ?? m[6] ?? '', percent);
  }
  m = SLASH.exec(s);
  if (m) return fraction(m[1], m[2], m[3] ?? '', m[4] ?? '', percent);
  return null;
}

/**
 * The value of a written number: "1,234", "$5", "3.0 x 10^8", "3\\times10^{8}", "3e8", "50%" (0.5),
 * "1 1/2", "\\frac{3}{4}", "1,5" (decimal comma); null when the string is not a single number.
 */
export function parseNumber(s: string): number | null {
  const n = readNumber(s);
  if (n === null) return null;
  return n.percent ? n.value / 100 : n.value;
}

function scaled(n: Num, by100: boolean): Num {
  if (!by100) return n;
  const exact = n.exact && div(n.exact, { n: 100n, d: 1n });
  return { ...n, value: n.value / 100, exact, exactForm: n.exactForm };
}

function close(a: Num, b: Num, tol: number | null): boolean {
  if (tol === null && a.exactForm && b.exactForm && a.exact && b.exact) return ratEq(a.exact, b.exact);
  const t = tol ?? DEFAULT_TOLERANCE;
  if (a.exact && b.exact) {
    if (relClose(a.exact, b.exact, t)) return true;
  } else if (Math.abs(a.value - b.value) <= t * Math.max(Math.abs(a.value), Math.abs(b.value))) return true;
  return tol === null && (roundsTo(a, b) || roundsTo(b, a));
}

/** An exact value (1/3) matches a decimal that rounds it (0.33, 2.6667) when the decimal has 2+ places or 3+ digits. */
function roundsTo(exact: Num, approx: Num): boolean {
  if (!exact.exactForm || approx.exactForm || approx.decimals === 0) return false;
  if (approx.decimals < 2 && approx.sig < 3) return false;
  const half = 0.5 * 10 ** -approx.decimals;
  return Math.abs(exact.value - approx.value) <= half * (1 + 1e-9);
}

/** Whether two written numbers are equal: exact for integers and fractions, else within a relative tolerance. */
export function numbersEqual(a: Num, b: Num, tol: number | null): boolean {
  if (a.percent === b.percent) return close(a, b, tol);
  // "28%" is read both as 28 and as 0.28 when the other side has no percent sign.
  return close(a, b, tol) || close(scaled(a, a.percent), scaled(b, b.percent), tol);
}

/** Rounded text of a value to 6 significant digits, for grouping keys. */
export function numberKey(x: number): string {
  if (x === 0) return '0';
  return String(Number(x.toPrecision(6)));
}
