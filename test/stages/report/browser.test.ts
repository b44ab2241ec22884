/**
 * The report in a real browser: headless Chromium from Debian's packages (driven by
 * playwright-core) opens report/index.html, every chart must have drawn marks, the console must
 * stay free of errors, nothing may be fetched, and a screenshot lands in report/screenshot.png.
 * The run is the report fixture, or any finished run given as TRACEPIPE_REPORT_RUN=runs/<name>.
 * Without /usr/bin/chromium the test skips, loudly; TRACEPIPE_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { Store } from '../../../pipeline/io/store.ts';
import { report } from './load.ts';
import { repoRoot } from '../../shared.ts';
import { writeFixtureRun } from './fixture.ts';

// TRACEPIPE_CHROMIUM points elsewhere (e.g. to check the skip); Debian's /usr/bin/chromium by default.
const CHROMIUM = process.env.TRACEPIPE_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const msg = `${CHROMIUM} not found: the browser test of the report is SKIPPED (install it with: apt-get update && apt-get install -y chromium)`;
  if (process.env.TRACEPIPE_REQUIRE_BROWSER === '1')
    throw new Error(`${msg} (TRACEPIPE_REQUIRE_BROWSER=1 makes this a failure)`);
  console.warn(`\n*** ${msg} ***\n`);
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const given = process.env.TRACEPIPE_REPORT_RUN;
const runDir = given ? resolve(given) : join(repoRoot, 'build', 'test-runs', 'report-browser');

describe.skipIf(!hasChromium)('report in headless Chromium', () => {
  let browser: BrowserContext | undefined;
  let profile = '';
  let charts = 0;

  beforeAll(async () => {
    const store = given ? await Store.open(join(runDir, 'state.duckdb')) : await writeFixtureRun(runDir);
    try {
      charts = (await report(store, runDir)).charts;
    } finally {
      store.close();
    }
    profile = await mkdtemp(join(tmpdir(), 'tracepipe-chromium-'));
    // A fresh profile each time (playwright takes it as the persistent context's folder, not as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('draws marks in every chart, logs no error, fetches nothing, and leaves a screenshot', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(join(runDir, 'report', 'index.html')).href;
    await page.goto(url, { waitUntil: 'load' });

    const figures = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => {
        const box = f.querySelector('svg')!.getBoundingClientRect();
        return {
          chart: f.getAttribute('data-chart'),
          marks: f.querySelectorAll(
            'g.role-mark > path, g.role-mark > rect, g.role-mark > circle, g.role-mark > line, g.role-mark > symbol',
          ).length,
          width: Math.round(box.width),
          height: Math.round(box.height),
        };
      }),
    );
    expect(figures.length).toBe(charts);
    expect(figures.length).toBeGreaterThanOrEqual(5);
    for (const f of figures) {
      expect(f.marks, `chart ${f.chart} drew no marks`).toBeGreaterThan(0);
      expect(f.width, `chart ${f.chart} has no width`).toBeGreaterThan(200);
      expect(f.height, `chart ${f.chart} has no height`).toBeGreaterThan(100);
    }
    // Each chart has its table beside it, on the same row.
    const besides = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => {
        const t = f.nextElementSibling?.querySelector('table');
        return (
          t !== null && t !== undefined && Math.abs(t.getBoundingClientRect().top - f.getBoundingClientRect().top) < 40
        );
      }),
    );
    expect(besides).toEqual(figures.map(() => true));
    if (!given) expect(await page.isVisible('#simulation')).toBe(true);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);

    const shot = join(runDir, 'report', 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(20_000);
    console.log(`report: ${figures.map((f) => `${f.chart} ${f.marks} marks`).join(', ')}; screenshot ${shot}`);
  });
});
