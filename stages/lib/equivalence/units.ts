/**
 * @module stages/lib/equivalence/units
 * Quantities with units: mathjs units plus cal, kcal, M (molar), Da, ppm, Å, µ, Torr, AU, slug,
 * debye; temperature scales with offsets. Compared by dimension first, then by SI value.
 */
import { createRequire } from 'node:module';
import type { MathJsInstance, create as Create, all as All } from 'mathjs';
import { readNumber, numbersEqual, DEFAULT_TOLERANCE, type Num } from './numbers.ts';
import type { Deadline } from './guard.ts';
import { type Verdict, yes, no, unknown } from './types.ts';

/** A unit as an SI multiplier, an offset (temperatures only) and exponents of the 9 mathjs base dimensions. */
export interface UnitInfo {
  factor: number;
  offset: number;
  dims: number[];
}

let math: MathJsInstance | null = null;
/**
 * The mathjs instance, made on the first comparison with a unit. mathjs is loaded from its
 * one-file bundle: the same library, but it loads in about 0.4 s where its module tree takes 4 s,
 * which every command and worker thread would pay at start-up.
 */
function engine(): MathJsInstance {
  if (math) return math;
  const { create, all } = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as {
    create: typeof Create;
    all: typeof All;
  };
  const m = create(all as NonNullable<typeof all>);
  const defs: Record<string, string> = {
    cal: '4.184 J',
    M: '1 mol/L',
    Da: '1.66053906660e-27 kg',
    Torr: '133.322368 Pa',
    AU: '149597870700 m',
    slug: '14.59390294 kg',
    debye: '3.33564e-30 C m',
    yr: '31557600 s',
    gauss: '1e-4 T',
    amu: '1.66053906660e-27 kg',
  };
  for (const [name, def] of Object.entries(defs)) {
    m.createUnit(
      name,
      { definition: def, prefixes: name === 'AU' || name === 'slug' ? 'none' : 'short' },
      { override: true },
    );
  }
  math = m;
  return m;
}

/** Words and signs that count things or scale by a pure number. */
const DIMENSIONLESS: Record<string, number> = {
  '%': 0.01,
  percent: 0.01,
  ppm: 1e-6,
  ppb: 1e-9,
  photon: 1,
  photons: 1,
  electron: 1,
  electrons: 1,
  particle: 1,
  particles: 1,
  atom: 1,
  atoms: 1,
  molecule: 1,
  molecules: 1,
  $: 1,
  dollars: 1,
  e: 1,
  rev: 1,
  cycles: 1,
  // A level in decibels is compared as written: it has no linear conversion.
  dB: 1,
};
const ALIASES: Record<string, string> = {
  Å: 'angstrom',
  Ω: 'ohm',
  D: 'debye',
  years: 'year',
  days: 'day',
  hours: 'hour',
  seconds: 's',
  sec: 's',
  hr: 'h',
  hrs: 'h',
  months: 'month',
  minutes: 'min',
  mins: 'min',
  degC: 'degC',
  degF: 'degF',
  deg: 'deg',
  lbs: 'lb',
  Year: 'year',
};
const tokenCache = new Map<string, UnitInfo | null>();

function single(token: string): UnitInfo | null {
  const hit = tokenCache.get(token);
  if (hit !== undefined) return hit;
  let info: UnitInfo | null = null;
  const dl = DIMENSIONLESS[token];
  if (dl !== undefined) info = { factor: dl, offset: 0, dims: new Array(9).fill(0) };
  else {
    const m = engine();
    const name = ALIASES[token] ?? token;
    // Typed case slips (KJ, kPA) are read with the usual case of prefix and unit.
    const variants = [
      name,
      name.charAt(0).toLowerCase() + name.slice(1),
      name.charAt(0) + name.charAt(1).toUpperCase() + name.slice(2).toLowerCase(),
    ];
    for (const v of variants) {
      try {
        const zero = m.unit(0, v).toSI().toNumber(),
          one = m.unit(1, v).toSI().toNumber();
        info = { factor: one - zero, offset: zero, dims: [...m.unit(1, v).dimensions] };
        break;
      } catch {
        /* try the next spelling */
      }
    }
  }
  if (tokenCache.size > 10_000) tokenCache.clear();
  tokenCache.set(token, info);
  return info;
}

function token(t: string): UnitInfo | null {
  const direct = single(t);
  if (direct) return direct;
  // Run-together units such as `JK` are read as a product of two known units.
  for (let i = 1; i < t.length; i++) {
    const a = single(t.slice(0, i)),
      b = single(t.slice(i));
    if (a && b && a.offset === 0 && b.offset === 0)
      return { factor: a.factor * b.factor, offset: 0, dims: a.dims.map((d, k) => d + (b.dims[k] ?? 0)) };
  }
  return null;
}

/** Plain-text spelling of a LaTeX unit: `\mathrm{~kJ} \mathrm{~mol}^{-1}` → `kJ mol^-1`. */
export function plainUnit(u: string): string {
  return u
    .replace(/\\hat\s*\{[^{}]*\{?[^{}]*\}?\}/g, ' ')
    .replace(/\\(?:mathrm|text|mathit|rm|operatorname|mbox)\s*/g, '')
    .replace(/\\(?:alpha|beta|gamma)\s*\{?\s*-?\s*(particles?)\s*\}?/g, '$1')
    .replace(/\\(?:mu|micro)(?![a-zA-Z])\s*|µ|μ/g, 'u')
    .replace(/\\Omega/g, 'Ω')
    .replace(/\\AA|\\mathring\{A\}/g, 'Å')
    .replace(/\\%/g, '%')
    .replace(/\\\$/g, '$')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\{\s*\\circ\s*\}|\\circ|\\degree/g, '°')
    .replace(/\^\s*\{\s*([-+]?\d+(?:\.\d+)?)\s*\}/g, '^$1')
    .replace(/[{}~$]|\\[,;!: ]/g, ' ')
    .replace(/°\s*([CF])(?![a-zA-Z])/g, 'deg$1')
    .replace(/°/g, 'deg')
    .replace(/\bu\s+(?=[A-Za-zΩ])/g, 'u')
    .replace(/\\(?:cdot|times)|·/g, '*')
    .replace(/([a-zA-Z])-([a-zA-Z])/g, '$1*$2')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*[;,.]$/, '');
}

const unitCache = new Map<string, Readonly<UnitInfo> | null>();

/** SI reading of a unit written in LaTeX or plain text (with an optional `10^{n}` scale); null when a part is unknown. Memoised: the result is shared, never mutate it. */
export function parseUnit(u: string): Readonly<UnitInfo> | null {
  const hit = unitCache.get(u);
  if (hit !== undefined) return hit;
  const info = readUnit(u);
  if (unitCache.size > 10_000) unitCache.clear();
  unitCache.set(u, info);
  return info;
}

function readUnit(u: string): UnitInfo | null {
  const s = plainUnit(u);
  if (s === '') return { factor: 1, offset: 0, dims: new Array(9).fill(0) };
  let factor = 1,
    offset = 0,
    below = false,
    count = 0;
  const dims: number[] = new Array(9).fill(0);
  const re = /\s*(\/|\*)?\s*(10\s*\^\s*[-+]?\d+|\(|\)|[^\s*/^()]+)(?:\s*\^\s*([-+]?\d+(?:\.\d+)?))?/y;
  let lonely: UnitInfo | null = null;
  for (let m = re.exec(s); m && m[0].length; m = re.exec(s)) {
    if (m[1] === '/') below = true;
    const tok = m[2] ?? '';
    if (tok === '(' || tok === ')') continue;
    const exp = Number(m[3] ?? 1) * (below ? -1 : 1);
    if (/^10\s*\^/.test(tok)) {
      factor *= 10 ** (Number(tok.replace(/^10\s*\^/, '')) * (below ? -1 : 1));
      continue;
    }
    const info = token(tok);
    if (!info) return null;
    count++;
    lonely = exp === 1 ? info : null;
    factor *= info.factor ** exp;
    info.dims.forEach((d, k) => {
      dims[k] = (dims[k] ?? 0) + d * exp;
    });
    if (re.lastIndex >= s.length) break;
  }
  if (re.lastIndex < s.length && re.lastIndex !== 0) return null;
  // Offsets (°C, °F) apply to a lone temperature only; inside J/°C they are differences.
  if (count === 1 && lonely) offset = (lonely.offset * factor) / lonely.factor;
  return { factor, offset, dims };
}

const NUM_PART =
  /^\s*([-+−]?\s*(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:\s*(?:\\times|x|×|\\cdot)\s*10\s*\^\s*\{?\s*[-+−]?\d+\s*\}?|[eE][-+]?\d+)?)\s*(.*)$/s;

/** A number followed by a unit (`9.8 m/s^2`, `3.0 \times 10^{8}\,\mathrm{m/s}`); unit is '' when absent; null when unreadable. */
export function readQuantity(s: string): { num: Num; unit: string; info: UnitInfo } | null {
  const m = NUM_PART.exec(
    s
      .replace(/\\\$/g, '$')
      .replace(/^\$+|\$+$/g, '')
      .replace(/\\[,;!]/g, ' '),
  );
  if (!m) return null;
  const num = readNumber(m[1] ?? '');
  const unit = (m[2] ?? '').trim();
  const info = num && parseUnit(unit);
  return num && info ? { num, unit, info } : null;
}

/** True when the string is a number followed by a unit of known, non-trivial dimension. */
export function looksLikeQuantity(s: string): boolean {
  const q = readQuantity(s);
  return q !== null && q.unit !== '' && q.info.dims.some((d) => d !== 0);
}

const DIM_NAMES = ['kg', 'm', 's', 'A', 'K', 'cd', 'mol', 'rad', 'bit'];
const dimText = (d: number[]) =>
  d
    .map((e, k) => (e ? `${DIM_NAMES[k]}${e === 1 ? '' : `^${e}`}` : ''))
    .filter(Boolean)
    .join(' ') || 'dimensionless';

export interface QuantityOptions {
  tolerance: number | null;
  unit: string | null;
  policy: 'strict' | 'assume-gold-unit';
  deadline: Deadline;
  lenient?: boolean;
}

/** Compares two quantities: dimensions first, then values in SI within the relative tolerance. */
export function quantityEqual(gold: string, pred: string, opts: QuantityOptions): Verdict {
  const g = readQuantity(gold),
    p = readQuantity(pred);
  if (!g || !p)
    return unknown(
      `could not read ${!g ? `gold "${gold.slice(0, 40)}"` : `prediction "${pred.slice(0, 40)}"`} as a quantity`,
    );
  let gi = g.info,
    pi = p.info;
  const specUnit = opts.unit ? parseUnit(opts.unit) : null;
  if (g.unit === '' && specUnit) gi = specUnit;
  const gHas = g.unit !== '' || specUnit !== null;
  if (gHas && p.unit === '') {
    if (opts.policy === 'assume-gold-unit' || opts.lenient) pi = gi;
    else return no(`prediction has no unit; gold is in ${g.unit || opts.unit}`);
  } else if (!gHas && p.unit !== '' && pi.dims.some((d) => d !== 0)) gi = pi;
  if (dimText(gi.dims) !== dimText(pi.dims))
    return no(`dimensions differ: gold ${dimText(gi.dims)}, prediction ${dimText(pi.dims)}`);
  if (gi === pi || (gi.factor === pi.factor && gi.offset === pi.offset)) {
    return numbersEqual(g.num, p.num, opts.tolerance)
      ? yes('same unit, equal values')
      : no(`values differ: ${g.num.value} vs ${p.num.value}`);
  }
  const gv = (g.num.percent ? g.num.value / 100 : g.num.value) * gi.factor + gi.offset;
  const pv = (p.num.percent ? p.num.value / 100 : p.num.value) * pi.factor + pi.offset;
  const tol = opts.tolerance ?? DEFAULT_TOLERANCE;
  return Math.abs(gv - pv) <= tol * Math.max(Math.abs(gv), Math.abs(pv))
    ? yes(`equal in SI (${dimText(gi.dims)})`)
    : no(`SI values differ: ${gv} vs ${pv} ${dimText(gi.dims)}`);
}
