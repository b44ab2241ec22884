/**
 * @module stages/report/sections
 * The report's chart sections (a)-(f): each a Vega-Lite spec (or the words for why there is
 * none), a note, and the tables beside it, all from the summary and the run's data.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { DomainCalibration } from '../calibrate/calibrate.ts';
import type { ReportData } from './data.ts';
import {
  depthOrder,
  domainsOf,
  ffsByDepth,
  ffsBySteps,
  grading,
  modeAccuracy,
  planeCells,
  regionPrecision,
  regionTable,
  silentFailures,
  silentTable,
} from './aggregate.ts';
import { precisionCoverage } from './frontier.ts';
import { ffsSpec, flowSpec, frontierSpec, modeSpec, planeSpec, silentSpec } from './charts.ts';
import { labelledFlow } from './palette.ts';
import { ci, num, pct, table, value } from './format.ts';

export interface Section {
  id: string;
  title: string;
  note: string;
  spec: TopLevelSpec | null;
  empty: string;
  tables: string;
}

// Fields of a calibration entry that have their own columns; any other field calibrate records is listed as it comes.
const KNOWN = new Set([
  ...['tau_pc', 'tau_gc', 'tau_fa', 'precision', 'precision_ci', 'coverage', 'coverage_ci', 'n_labeled', 'n_correct'],
  ...['n_reliable', 'auroc_pc', 'auroc_gc', 'auroc_fa', 'auroc_mean', 'source', 'met_target'],
]);
const KNOWN_TOP = new Set(['enabled', 'target_precision', 'global', 'domains', 'notes']);

/** The calibration's fields beyond the known ones (e.g. the labels that calibrated and their counts), as rows. */
function calibrationExtras(cal: ReportData['calibration']): string[][] {
  if (!cal) return [];
  const entries: [string, DomainCalibration][] = [['all', cal.global], ...Object.entries(cal.domains)];
  return [
    ...Object.entries(cal)
      .filter(([k]) => !KNOWN_TOP.has(k))
      .map(([k, v]) => ['run', k, value(v)]),
    ...entries.flatMap(([d, e]) =>
      Object.entries(e)
        .filter(([k]) => !KNOWN.has(k))
        .map(([k, v]) => [d, k, value(v)]),
    ),
  ];
}

/** The six sections (a)-(f); a section whose data is empty says so instead of drawing an empty chart. */
export function sections(d: ReportData): Section[] {
  const s = d.summary;
  const domains = domainsOf(s);
  const th = d.thresholds;
  const thOf = (x: string) => (x === 'all' ? th.global : (th.domains[x] ?? th.global));
  const g = grading(s);
  const plane = planeCells(s, th);
  const tauFas = new Set([th.global, ...domains.map(thOf)].map((t) => t.tau_fa));
  const tauFa = tauFas.size === 1 ? th.global.tau_fa : null;
  const hasFa = plane.cells.some((c) => c.fa !== 'none');
  const frontier = precisionCoverage(s, th, g);
  const operating = ['all', ...domains].map((domain) => ({
    domain,
    ...thOf(domain),
    ...regionPrecision(s, domain, g),
  }));
  const cal = d.calibration;
  const calRow = (domain: string) => (domain === 'all' ? cal?.global : cal?.domains[domain]);
  const ffs = ffsByDepth(s);
  const ffsDepths = depthOrder(ffs.map((r) => r.depth));
  const steps = ffsBySteps(s);
  const stepModes = [...new Set(steps.map((r) => r.mode))].sort();
  const silent = silentFailures(s);
  const modes = modeAccuracy(s, g);
  const flow = labelledFlow(d.flow);
  const graded =
    g === 'consensus'
      ? 'No path has a gold or given label, so precision is graded against the final consensus: it measures agreement with the majority, not correctness.'
      : 'Graded by gold or given labels only (consensus labels would grade the consensus by itself).';
  const extras = calibrationExtras(cal);
  const tauWords = tauFa === null ? 'τ_fa of its domain' : String(tauFa);
  const faAxis = { pass: `FA ≥ ${tauWords}`, fail: `FA < ${tauWords}`, none: 'no FA (K = 1)' };
  return [
    {
      id: 'plane',
      title: '(a) The PC–GC plane, split by final agreement FA',
      spec: plane.cells.length ? planeSpec(plane.cells, th.global, tauFa) : null,
      empty: 'No path has both PC and GC.',
      note: `Each circle is a 0.05 × 0.05 bin of paths (area = count), drawn inside its square and coloured by final-answer correctness. ${
        hasFa
          ? `A path is reliable only with FA ≥ τ_fa (${tauFa === null ? 'τ_fa differs by domain, see the table; each path is placed by its own domain' : `τ_fa = ${tauFa}`}): the left panel holds the paths that pass that gate (or have no FA), the right one those that do not, which are never reliable.`
          : `No path of this run has a final agreement FA (not computed, or K = 1), so the FA ≥ τ_fa gate (τ_fa = ${th.global.tau_fa}) is left out, as TRACE.md says for a null coordinate.`
      } Shading and lines: the regions in force for the whole run${plane.missing ? `; ${plane.missing} ${plane.missing === 1 ? 'path' : 'paths'} without PC or GC ${plane.missing === 1 ? 'is' : 'are'} not drawn` : ''}.`,
      tables:
        table(
          ['region', 'correct', 'incorrect', 'unlabeled'],
          regionTable(s).map((r) => [r.region, r.correct, r.incorrect, r.unlabeled]),
        ) +
        table(
          ['final agreement', 'correct', 'incorrect', 'unlabeled'],
          (['pass', 'fail', 'none'] as const).map((f) => [
            faAxis[f],
            plane.fa[f].correct,
            plane.fa[f].incorrect,
            plane.fa[f].unlabeled,
          ]),
        ) +
        table(
          ['domain', 'τ_pc', 'τ_gc', 'τ_fa', 'τ_pc low', 'τ_gc low'],
          ['all', ...domains].map((x) => {
            const t = thOf(x);
            return [x, t.tau_pc, t.tau_gc, t.tau_fa, t.tau_pc_low, t.tau_gc_low];
          }),
        ),
    },
    {
      id: 'frontier',
      title: '(b) Precision against coverage',
      spec: frontier.length
        ? frontierSpec(
            frontier,
            operating.flatMap((o) =>
              o.coverage !== null && o.precision !== null
                ? [{ domain: o.domain, coverage: o.coverage, precision: o.precision }]
                : [],
            ),
            cal?.target_precision ?? null,
          )
        : null,
      empty: g === null ? 'No labeled path.' : 'No labeled path falls in a reliable region at any threshold.',
      note: `For every (τ_pc, τ_gc, τ_fa) on a 0.05 grid: precision of "reliable" (share of correct answers) against coverage (share of all correct paths that are reliable), Pareto frontier per domain, with each domain's low thresholds as calibrate and filter apply them. ${graded} Diamonds: the regions the filter assigned${cal?.target_precision ? `; dashed line: the target precision ${cal.target_precision}` : ''}.`,
      tables:
        table(
          [
            'domain',
            'labeled',
            'τ_pc',
            'τ_gc',
            'τ_fa',
            'precision in force [95% CI]',
            'coverage in force [95% CI]',
            'AUROC PC / GC / FA / mean',
            'calibration',
          ],
          operating.map((o) => {
            const c = calRow(o.domain);
            return [
              o.domain,
              o.n_labeled,
              o.tau_pc,
              o.tau_gc,
              o.tau_fa,
              { html: pct(o.precision) + ci(o.precision_ci) },
              { html: pct(o.coverage) + ci(o.coverage_ci) },
              c
                ? `${num(c.auroc_pc)} / ${num(c.auroc_gc)} / ${num((c as { auroc_fa?: number | null }).auroc_fa)} / ${num(c.auroc_mean)}`
                : '–',
              c ? `${c.source}${c.met_target ? '' : ', target not met'}` : 'none',
            ];
          }),
        ) +
        (extras.length ? table(['calibration of', 'field', 'value'], extras) : '') +
        (cal?.notes?.length
          ? table(
              ['calibration notes'],
              cal.notes.map((n) => [n]),
            )
          : ''),
    },
    {
      id: 'ffs',
      title: '(c) First Failure Step by node depth and domain',
      spec: ffs.length ? ffsSpec(ffs, ffsDepths) : null,
      empty: 'No path has a First Failure Step.',
      note: 'Depth of the FFS node in the ARS: 0 for a node with no parents, else one more than its deepest parent; F is the final question (the error is in the last step). The second table counts the step index (ffs_step, 0-based) per mode.',
      tables:
        table(
          ['depth', ...domains, 'total'],
          ffsDepths.map((dep) => {
            const r = domains.map((x) => ffs.find((f) => f.depth === dep && f.domain === x)?.paths ?? 0);
            return [dep, ...r, r.reduce((a, b) => a + b, 0)];
          }),
        ) +
        (steps.length
          ? table(
              ['ffs_step', ...stepModes],
              [...new Set(steps.map((r) => r.step))].map((st) => [
                st,
                ...stepModes.map((m) => steps.find((r) => r.step === st && r.mode === m)?.paths ?? 0),
              ]),
            )
          : ''),
    },
    {
      id: 'silent',
      title: '(d) Silent failures',
      spec: silent.length ? silentSpec(silent, depthOrder(silent.map((r) => r.depth))) : null,
      empty: 'No silent failure: no correct path has a wrong or missing intermediate node.',
      note: 'Paths whose final answer is right while an intermediate node is wrong or missing, by domain and the depth of the earliest such node.',
      tables: table(
        ['domain', 'correct paths', 'silent failures', 'share', 'most frequent node'],
        silentTable(s).map((r) => [r.domain, r.correct, r.silent, pct(r.rate), r.top_node ?? '–']),
      ),
    },
    {
      id: 'modes',
      title: '(e) ARS-guided against free accuracy',
      spec: modes.length ? modeSpec(modes) : null,
      empty: 'No labeled path.',
      note: `Final-answer accuracy of paths that answered every ARS node first (ars-guided) and of plain solutions (free), with 95% Wilson intervals. ${graded}`,
      tables: table(
        ['domain', 'mode', 'labeled', 'correct', 'accuracy [95% CI]'],
        modes.map((m) => [m.domain, m.mode, m.labeled, m.correct, { html: pct(m.accuracy) + ci([m.lo, m.hi]) }]),
      ),
    },
    {
      id: 'flow',
      title: '(f) Rows kept and dropped per stage',
      spec: flow.length ? flowSpec(flow) : null,
      empty: 'The manifest has no stage counts yet.',
      note: 'Share of each stage’s candidates kept, and why the rest were dropped: ingest and generate rejects by code, filter by category (only reliable-correct paths feed SFT), emit by the builders’ reasons (a path category stands for “dropped for being in it”, in the same colour as at the filter).',
      tables: table(
        ['stage', 'kept or reason', 'rows'],
        flow.map((r) => [r.step, r.outcome, r.rows]),
      ),
    },
  ];
}
