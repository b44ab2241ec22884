/** @module sim/rng  Seeded randomness and number formatting shared by the synth bank and the simulator. */

/** A seeded random source: `next()` is uniform in [0, 1). */
export interface Rng {
  next(): number;
  /** Integer uniform in [lo, hi], both ends included. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

/** mulberry32: a tiny, fast 32-bit generator; good enough for simulation, not for cryptography. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick<T>(xs: readonly T[]): T {
      const x = xs[Math.floor(next() * xs.length)];
      if (x === undefined) throw new Error('rng.pick expected a non-empty list, got an empty one');
      return x;
    },
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

/** A 32-bit hash of strings and numbers (FNV-1a over their text), for deriving seeds. */
export function hash(...parts: ReadonlyArray<string | number>): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = `${p}\u0001`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/** Rounds to 4 significant digits, keeping integers exact (a student's rounding). */
export function round4(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  if (Math.abs(x - r) < 1e-9 * Math.max(1, Math.abs(x))) return r === 0 ? 0 : r;
  const y = Number(x.toPrecision(4));
  return y === 0 ? 0 : y;
}

/** The decimal text of a number after `round4`. */
export const fmt = (x: number): string => String(round4(x));

/** Tagged template that writes interpolated numbers with `fmt`. */
export function s(strings: TemplateStringsArray, ...xs: Array<number | string>): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    out += (typeof x === 'number' ? fmt(x) : (x ?? '')) + (strings[i + 1] ?? '');
  }
  return out;
}
