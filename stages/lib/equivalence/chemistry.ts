/**
 * @module stages/lib/equivalence/chemistry
 * Chemical formulas compared by element counts and charge (H2O = OH2, CuSO4·5H2O), and equations
 * as multisets of species with coefficients per side, optionally up to a common factor.
 */
import { type Verdict, yes, no, unknown } from './types.ts';

const ELEMENTS = new Set(
  (
    'H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr ' +
    'Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg ' +
    'Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og D'
  ).split(' '),
);

/** Element counts and net charge of one species. */
export interface Species {
  counts: Map<string, number>;
  charge: number;
}

/** Plain spelling of a formula: no `\ce{}`, `\mathrm{}`, braces, subscripts marks or state marks. */
function plain(s: string): string {
  return s
    .replace(/\\ce\s*\{([\s\S]*)\}/g, '$1')
    .replace(/\\(?:mathrm|text|rm)\s*/g, '')
    .replace(/\$/g, '')
    .replace(/_\{?(\d+)\}?/g, '$1')
    .replace(/\((?:aq|s|l|g|sol)\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function chargeOf(s: string): { body: string; charge: number } {
  // Without a caret only the sign is read (NH4+ is NH4 with charge +1).
  const m = /\^\s*\{?\s*(\d*)\s*([+-])\s*\}?$|\^\s*\{?\s*([+-])\s*(\d*)\s*\}?$|([+-])$/.exec(s);
  if (!m) return { body: s, charge: 0 };
  const n = Number(m[1] || m[4] || 1),
    sign = (m[2] ?? m[3] ?? m[5]) === '-' ? -1 : 1;
  return { body: s.slice(0, m.index), charge: sign * n };
}

/** Element counts and charge of a formula such as `CuSO4·5H2O`, `Ca(OH)2`, `SO4^{2-}`; null when it is not one. */
export function parseFormula(input: string): Species | null {
  const { body, charge } = chargeOf(plain(input).replace(/\s+/g, ''));
  if (!body || body.length > 200) return null;
  const counts = new Map<string, number>();
  for (const part of body.split(/[·•*.]|\\cdot/)) {
    const m = /^(\d*)(.*)$/.exec(part);
    const mult = Number(m?.[1] || 1);
    const c = group(m?.[2] ?? '');
    if (!c || c.size === 0) return null;
    for (const [el, k] of c) counts.set(el, (counts.get(el) ?? 0) + k * mult);
  }
  return { counts, charge };
}

function group(s: string): Map<string, number> | null {
  const stack: Map<string, number>[] = [new Map()];
  const re = /([A-Z][a-z]?)(\d*)|([([])|([)\]])(\d*)/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return null;
    i = re.lastIndex;
    const top = stack[stack.length - 1] as Map<string, number>;
    if (m[1]) {
      if (!ELEMENTS.has(m[1])) return null;
      top.set(m[1], (top.get(m[1]) ?? 0) + Number(m[2] || 1));
    } else if (m[3]) stack.push(new Map());
    else {
      const inner = stack.pop();
      const outer = stack[stack.length - 1];
      if (!inner || !outer) return null;
      for (const [el, k] of inner) outer.set(el, (outer.get(el) ?? 0) + k * Number(m[5] || 1));
    }
  }
  return stack.length === 1 ? (stack[0] as Map<string, number>) : null;
}

/** Canonical text of a species: elements in alphabetical order with counts, then the charge. */
export function speciesKey(sp: Species): string {
  return (
    [...sp.counts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([el, k]) => `${el}${k}`)
      .join('') + (sp.charge ? `^${sp.charge}` : '')
  );
}

const ARROW = /\s*(?:->|→|⟶|\\rightarrow|\\longrightarrow|\\to|<=>|⇌|\\rightleftharpoons|\\leftrightarrow|=)\s*/;

function side(s: string): Map<string, number> | null {
  const out = new Map<string, number>();
  for (const term of s.split(/\s+\+\s+|(?<![\^{+])\+(?=\s*\d*\s*[A-Z([])/)) {
    const m = /^\s*(\d+(?:\.\d+)?|\d+\/\d+)?\s*(.+?)\s*$/.exec(term);
    const sp = m?.[2] ? parseFormula(m[2]) : null;
    if (!sp) return null;
    const coef = m?.[1]
      ? m[1].includes('/')
        ? Number(m[1].split('/')[0]) / Number(m[1].split('/')[1])
        : Number(m[1])
      : 1;
    const key = speciesKey(sp);
    out.set(key, (out.get(key) ?? 0) + coef);
  }
  return out;
}

/** Reactant and product multisets of an equation, or null when it is not one. */
export function parseEquation(s: string): [Map<string, number>, Map<string, number>] | null {
  const parts = plain(s).split(ARROW);
  if (parts.length !== 2) return null;
  const l = side(parts[0] ?? ''),
    r = side(parts[1] ?? '');
  return l && r ? [l, r] : null;
}

/** True when the string reads as a chemical formula or equation (`\ce{}`, or element symbols with counts). */
export function looksLikeChemistry(s: string): boolean {
  if (/\\ce\s*\{/.test(s)) return true;
  const p = plain(s);
  if (!/^[A-Z][A-Za-z0-9()[\]·•*.+\-^{}\s>→⟶=\\]*$/.test(p)) return false;
  if (parseEquation(s)) return true;
  const f = parseFormula(s);
  return f !== null && (/\d/.test(p) || f.counts.size >= 2 || f.charge !== 0);
}

function sameUpToFactor(
  a: Map<string, number>,
  b: Map<string, number>,
  scaled: boolean,
  ratio: { k: number | null },
): boolean {
  if (a.size !== b.size) return false;
  for (const [key, x] of a) {
    const y = b.get(key);
    if (y === undefined) return false;
    const k = y / x;
    if (!scaled && Math.abs(k - 1) > 1e-9) return false;
    if (ratio.k === null) ratio.k = k;
    else if (Math.abs(ratio.k - k) > 1e-9 * Math.abs(k)) return false;
  }
  return true;
}

/** Compares two formulas, or two equations (coefficients exactly, or up to a common factor when `scaled`). */
export function formulaEqual(gold: string, pred: string, scaled = false): Verdict {
  const ge = parseEquation(gold),
    pe = parseEquation(pred);
  if (ge || pe) {
    if (!ge || !pe) return no('an equation and a single formula');
    const ratio = { k: null as number | null };
    const ok = sameUpToFactor(ge[0], pe[0], scaled, ratio) && sameUpToFactor(ge[1], pe[1], scaled, ratio);
    return ok
      ? yes(scaled ? 'same reaction up to a common factor' : 'same species and coefficients on each side')
      : no('equations differ in species or coefficients');
  }
  const g = parseFormula(gold),
    p = parseFormula(pred);
  if (!g) return unknown(`gold "${gold.slice(0, 40)}" is not a chemical formula`);
  if (!p) return no(`prediction "${pred.slice(0, 40)}" is not a chemical formula`);
  const gk = speciesKey(g),
    pk = speciesKey(p);
  return gk === pk
    ? yes(`same element counts and charge (${gk})`)
    : no(`element counts or charge differ: ${gk} vs ${pk}`);
}
