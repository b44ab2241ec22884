/**
 * @module stages/report/format
 * Number, interval and table formatting for the report page (all text escaped).
 */

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
export const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '–' : x.toFixed(d));
export const ci = (c: readonly [number, number] | undefined) =>
  c ? ` <span class="ci">[${pct(c[0])}, ${pct(c[1])}]</span>` : '';

/** Any JSON value in words: numbers and strings as they are, lists joined, records as `key value` pairs. */
export function value(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (Array.isArray(v)) return v.map(value).join(', ');
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${value(x)}`)
      .join(', ');
  return String(v);
}

/** An HTML table from literal header cells and rows of cells (cells are escaped unless they are `{ html }`). */
export function table(
  head: readonly string[],
  rows: readonly (readonly (string | number | { html: string })[])[],
): string {
  const cell = (c: string | number | { html: string }) => (typeof c === 'object' ? c.html : escapeHtml(String(c)));
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}
