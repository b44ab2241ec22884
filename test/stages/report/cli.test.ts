/**
 * The report and the cards as a user gets them: the built CLI runs the whole pipeline against
 * `tracepipe sim serve` in its own process over HTTP, then `tracepipe report` re-builds the page.
 * Checks what this work changed: the page is built from the summaries (FA gate stated, one colour
 * per outcome in chart (f)); each dataset card of the snapshot names it and its parent, shows the
 * thresholds in force after calibration and loads the path its YAML declares; the snapshot's
 * repository card has one config per dataset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../shared.ts';
import { thresholdsByDomain, type Calibration } from '../../../stages/report/data.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const DATASETS = ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval'];

describe('report and cards through the built CLI, simulator over HTTP', () => {
  let dir = '';
  let sim: ChildProcess | undefined;
  let runDir = '';

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
    dir = await mkdtemp(join(tmpdir(), 'tp-report-cli-'));
    await run(process.execPath, [cli, 'synth', '--out', join(dir, 'p.jsonl'), '--n', '60', '--seed', '5']);
    sim = spawn(process.execPath, [cli, 'sim', 'serve', '--seed', '5', '--n', '60'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const url = await new Promise<string>((ok) =>
      createInterface({ input: sim!.stdout! }).on('line', (l) => {
        const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
        if (m) ok(m[1]!);
      }),
    );
    const config = join(dir, 'c.json');
    await writeFile(
      config,
      JSON.stringify({
        name: 'rep',
        runs_dir: dir,
        inputs: [{ path: join(dir, 'p.jsonl') }],
        model: { base_url: `${url}/v1`, model: 'sim', simulated: true },
        generate: { k: 4, concurrency: 8, seed: 2 },
        // Few enough paths per domain that calibration runs per domain and moves the thresholds.
        calibrate: { target_precision: 0.9, min_domain_paths: 40 },
      }),
    );
    await run(process.execPath, [cli, 'run', '--config', config], { maxBuffer: 64 << 20 });
    runDir = join(dir, 'rep');
  }, 240_000);
  afterAll(async () => {
    sim?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('each dataset card names its snapshot and parent, shows the thresholds in force after calibration, and loads the path its YAML declares', async () => {
    const cal = JSON.parse(await readFile(join(runDir, 'latest', 'calibration.json'), 'utf8')) as Calibration;
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    const domains = Object.keys(cal.domains).sort();
    const inForce = thresholdsByDomain(manifest.config, cal, domains);
    // The check means something only if calibration moved a domain off the configured thresholds.
    expect(domains.some((d) => cal.domains[d]!.met_target)).toBe(true);
    const snapshot = (await readlink(join(runDir, 'latest'))).split('/').at(-1)!;
    for (const name of DATASETS) {
      const card = await readFile(join(runDir, 'latest', name, 'README.md'), 'utf8');
      expect(card, name).toContain(`- snapshot: \`${snapshot}\`, parent: none (the first snapshot)`);
      for (const [d, t] of [['all', inForce.global] as const, ...Object.entries(inForce.domains)])
        expect(card, `${name} ${d}`).toContain(
          `| ${d} | ${t.tau_pc} | ${t.tau_gc} | ${t.tau_fa} | ${t.tau_pc_low} | ${t.tau_gc_low} |`,
        );
      const yaml = [...card.split('\n---\n')[0]!.matchAll(/^ {4}path: (.+)$/gm)].map((m) => m[1]);
      const snippet = /```python\n[^]*?data_files="([^"]+)"/.exec(card)?.[1];
      expect([name, yaml]).toEqual([name, [snippet]]);
      expect(card).toContain('- run: rep (`');
      expect(card).toContain('> **SIMULATION.**');
    }
    const repo = await readFile(join(runDir, 'latest', 'README.md'), 'utf8');
    expect([...repo.matchAll(/^- config_name: (\w+)\n {2}data_files:/gm)].map((m) => m[1])).toEqual(DATASETS);
    expect(repo).toContain(`# tracepipe outputs of rep, snapshot ${snapshot}`);
  });
  it('the run writes the page from the summaries: six charts, the FA gate stated, every outcome its own colour; tracepipe report writes it again', async () => {
    const html = await readFile(join(runDir, 'report', 'index.html'), 'utf8');
    expect(html.match(/<figure class="chart" data-chart="\w+">/g)?.length).toBe(6);
    const plane = html.slice(html.indexOf('<section id="plane">'), html.indexOf('<section id="frontier">'));
    expect(plane).toMatch(/FA ≥ τ_fa|FA ≥ 0\.\d+/);
    expect(plane).toContain('<th>τ_fa</th>');
    expect(plane).not.toMatch(/class="mark-text role-mark/);
    // Chart (f): one legend symbol per outcome, no two of the same colour, no label cut.
    const flow = html.slice(html.indexOf('<section id="flow">'));
    const legend = flow.slice(flow.indexOf('aria-label="Symbol legend titled'));
    const fills = [...legend.matchAll(/role-legend-symbol[^>]*><path[^>]*fill="([^"]+)"/g)].map((m) => m[1]);
    expect(fills.length).toBeGreaterThan(5);
    expect(new Set(fills).size).toBe(fills.length);
    expect(flow).not.toContain('…');
    expect(html).toContain('<div class="simulation" role="alert" id="simulation">');
    const { stdout } = await run(process.execPath, [cli, 'report', runDir]);
    expect(stdout).toContain(`report: ${join(runDir, 'report', 'index.html')}`);
    const again = await readFile(join(runDir, 'report', 'index.html'), 'utf8');
    expect(again).toContain('<figure class="chart" data-chart="plane">');
    expect(again).toContain('<th>τ_fa</th>');
  });
});
