/** @module stages/lib/equivalence/rational  Exact rational arithmetic on BigInt, with a size cap. */

export interface Rat {
  n: bigint;
  d: bigint;
}

/** Largest numerator or denominator kept, in bits; beyond it exact arithmetic gives up (returns null). */
export const MAX_BITS = 20_000;
const LIMIT = 1n << BigInt(MAX_BITS);

const abs = (x: bigint) => (x < 0n ? -x : x);
function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The fraction n/d in lowest terms with a positive denominator; null when d is 0 or a part is too large. */
export function rat(n: bigint, d: bigint = 1n): Rat | null {
  if (d === 0n) return null;
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  if (g > 1n) {
    n /= g;
    d /= g;
  }
  if (abs(n) > LIMIT || d > LIMIT) return null;
  return { n, d };
}

export const add = (a: Rat, b: Rat) => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rat, b: Rat) => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rat, b: Rat) => rat(a.n * b.n, a.d * b.d);
export const div = (a: Rat, b: Rat) => rat(a.n * b.d, a.d * b.n);
export const ratEq = (a: Rat, b: Rat) => a.n === b.n && a.d === b.d;

/** a^k for an integer k, refusing results past the size cap before computing them. */
export function pow(a: Rat, k: bigint): Rat | null {
  if (k === 0n) return { n: 1n, d: 1n };
  const bits = BigInt(Math.max(abs(a.n).toString(2).length, a.d.toString(2).length));
  if (bits * abs(k) > BigInt(MAX_BITS)) return null;
  return k > 0n ? rat(a.n ** k, a.d ** k) : rat(a.d ** -k, a.n ** -k);
}

/** The rational written by a decimal string (`-12.50`) times 10^exp. */
export function fromDecimal(digits: string, exp = 0): Rat | null {
  const neg = digits.startsWith('-');
  const body = digits.replace(/^[+-]/, '');
  const [ip = '', fp = ''] = body.split('.');
  const e = exp - fp.length;
  if (Math.abs(e) > MAX_BITS / 3) return null;
  const m = BigInt(ip + fp || '0') * (neg ? -1n : 1n);
  return e >= 0 ? rat(m * 10n ** BigInt(e)) : rat(m, 10n ** BigInt(-e));
}

/** Nearest double to a rational (0 or ±Infinity outside the double range). */
export function toNumber(r: Rat): number {
  const n = Number(r.n),
    d = Number(r.d);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Scale both by the same power of two so the quotient stays representable.
  const shift = BigInt(Math.max(abs(r.n).toString(2).length, r.d.toString(2).length) - 1000);
  return Number(r.n >> (shift > 0n ? shift : 0n)) / Number(r.d >> (shift > 0n ? shift : 0n));
}

/** True when |a - b| <= tol * max(|a|, |b|), computed exactly so tiny values never collapse to 0. */
export function relClose(a: Rat, b: Rat, tol: number): boolean {
  const scale = 1_000_000_000_000n;
  const t = BigInt(Math.round(tol * 1e12));
  const diff = abs(a.n * b.d - b.n * a.d) * scale;
  const big = abs(a.n * b.d) > abs(b.n * a.d) ? abs(a.n * b.d) : abs(b.n * a.d);
  return diff <= t * big;
}
