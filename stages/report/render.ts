/**
 * @module stages/report/render
 * Renders Vega-Lite specs to static SVG on the server (Vega-Lite -> Vega -> a headless
 * `vega.View` -> SVG), so the report page needs no script at all.
 */
import type { TopLevelSpec } from 'vega-lite';

/** Vega and Vega-Lite, loaded by the first chart (about 0.5 s): worker threads and commands without a report never load them. */
let libs: Promise<[typeof import('vega'), typeof import('vega-lite')]> | null = null;
export const loadCharts = () => (libs ??= Promise.all([import('vega'), import('vega-lite')]));

/** A Vega logger that keeps warnings and errors instead of printing them. */
function collectingLogger(into: string[]) {
  let level = 2;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...a: unknown[]) {
      into.push(`error: ${a.map(String).join(' ')}`);
      return logger;
    },
    warn(...a: unknown[]) {
      into.push(`warning: ${a.map(String).join(' ')}`);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/**
 * Renders a Vega-Lite spec to an SVG string; element ids get `prefix` so several SVGs can share
 * one page. Vega-Lite's and Vega's warnings are returned, not printed.
 */
export async function renderSvg(spec: TopLevelSpec, prefix: string): Promise<{ svg: string; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const [vega, { compile }] = await loadCharts();
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: 'none', logger: logger as never });
  try {
    const svg = await view.toSVG();
    return {
      svg: svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`),
      warnings: warnings.map((w) => `${prefix}: ${w}`),
    };
  } finally {
    view.finalize();
  }
}
