/**
 * Config and flag errors through the built CLI, as a user meets them: exit 2, one line per problem,
 * no stack, nothing written; and a key written into a URL never reaches the manifest.
 */
import { beforeAll, describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';

const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const exec = promisify(execFile);
const model = { base_url: 'http://127.0.0.1:9/v1', model: 'm' };

/** Runs the CLI; resolves with its exit code and output whatever the code. */
async function tracepipe(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** Every file under `dir`, relative to it. */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

let dir: string;
/** Writes a config beside a one-problem input and returns its path. */
async function configFile(over: object): Promise<string> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ name: 'ok', runs_dir: 'runs', inputs: [{ path: 'p.jsonl' }], ...over }));
  return file;
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
  dir = await mkdtemp(join(tmpdir(), 'tp-config-cli-'));
  await writeFile(
    join(dir, 'p.jsonl'),
    `${JSON.stringify({ problem_id: 'p1', domain: 'math', question: 'What is 2 + 2?', answer: '4', answer_spec: { kind: 'number' } })}\n`,
  );
});

describe('tracepipe run refuses a bad config or flag: exit 2, one line each, no stack', () => {
  it.each<[string, object, string[], (f: string) => string[]]>([
    [
      'an unknown key',
      { model, generat: { k: 2 } },
      [],
      (f) => [`tracepipe: config ${f}: generat is not a known key: did you mean generate?`],
    ],
    [
      'a key in the config',
      { model: { ...model, api_key: 'sk-CANARY-1' } },
      [],
      (f) => [
        `tracepipe: config ${f}: model.api_key is not allowed: keys are read from the environment: set model.api_key_env to the NAME of a variable`,
      ],
    ],
    [
      'values out of range',
      { model, generate: { k: -3, timeout_ms: -1 }, thresholds: { tau_pc_low: 0.9 } },
      [],
      (f) => [
        `tracepipe: config ${f}: generate.k should be an integer >= 1, got -3`,
        `tracepipe: config ${f}: generate.timeout_ms should be an integer >= 1, got -1`,
        `tracepipe: config ${f}: thresholds.tau_pc_low should be at most thresholds.tau_pc (0.8), got 0.9`,
      ],
    ],
    ['a bad flag', { model }, ['--k', '-3'], () => ['tracepipe: --k should be an integer >= 1, got -3']],
    [
      'several bad flags',
      { model },
      ['--concurrency', '0', '--max-budget', '-1', '--base-url', 'notaurl'],
      () => [
        'tracepipe: --base-url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "notaurl"',
        'tracepipe: --concurrency should be an integer >= 1, got 0',
        'tracepipe: --max-budget should be a number >= 0 (USD), or null for no cap, got -1',
      ],
    ],
    [
      'a flag with nothing to apply to',
      {},
      ['--k', '3'],
      () => [
        'tracepipe: --k has no effect: the config has no model section, so no path is generated (add one, or give --base-url and --model)',
      ],
    ],
  ])('%s', async (_, over, flags, want) => {
    const f = await configFile(over);
    const r = await tracepipe(['run', '--config', f, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      want(f)
        .map((l) => `${l}\n`)
        .join(''),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('a run name that would leave runs_dir: refused, and nothing is written anywhere', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tp-name-'));
    await mkdir(join(root, 'cfg'));
    await writeFile(join(root, 'cfg', 'p.jsonl'), await readFile(join(dir, 'p.jsonl')));
    const f = join(root, 'cfg', 'evil.json');
    await writeFile(f, JSON.stringify({ name: '../../escaped', runs_dir: 'runs', inputs: [{ path: 'p.jsonl' }] }));
    const before = await files(root);
    const r = await tracepipe(['run', '--config', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `tracepipe: config ${f}: name should be a run name of letters A-Z a-z, digits, ".", "_" and "-" (not "." or "..", at most 128 characters), got "../../escaped"\n`,
    );
    expect(await files(root)).toEqual(before);
    expect(existsSync(join(root, 'escaped'))).toBe(false);
  });
  it('tracepipe demo --name checks the name before it writes anything', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tp-demo-name-'));
    const r = await tracepipe(['demo', '--n', '2', '--name', '../outside', '--runs-dir', join(root, 'runs')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'tracepipe: name should be a run name of letters A-Z a-z, digits, ".", "_" and "-" (not "." or "..", at most 128 characters), got "../outside"\n',
    );
    expect(await files(root)).toEqual([]);
    expect(existsSync(join(root, 'outside'))).toBe(false);
  });
});

describe('flags on a config without a generate section', () => {
  it('are applied, not dropped: the manifest records the section they created from its defaults', async () => {
    const f = await configFile({ name: 'flags', runs_dir: 'flag-runs', model });
    const r = await tracepipe(['ingest', '--config', f, '--max-budget', '0.5', '--k', '2', '--concurrency', '3']);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'flag-runs', 'flags', 'manifest.json'), 'utf8'));
    expect(manifest.config.generate).toMatchObject({ max_budget: 0.5, k: 2, concurrency: 3, max_retries: 6 });
  });
});

describe('a key written into a URL', () => {
  it('is in no file of the run: the manifest names the URL with userinfo and query values redacted', async () => {
    const secrets = ['sk-CANARY-userinfo', 'sk-CANARY-query', 'sk-CANARY-apikey'];
    const f = await configFile({
      name: 'keys',
      runs_dir: 'key-runs',
      model: { base_url: `http://user:${secrets[0]}@127.0.0.1:9/v1?key=${secrets[1]}`, model: 'm' },
      decompose: { base_url: `http://127.0.0.1:9/v1?api-key=${secrets[2]}`, model: 't' },
    });
    const r = await tracepipe(['ingest', '--config', f]);
    expect(r.code).toBe(0);
    const runDir = join(dir, 'key-runs', 'keys');
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.model.base_url).toBe('http://127.0.0.1:9/v1?key=<redacted>');
    expect(manifest.config.model.base_url).toBe('http://127.0.0.1:9/v1?key=<redacted>');
    expect(manifest.config.decompose.base_url).toBe('http://127.0.0.1:9/v1?api-key=<redacted>');
    const written = await files(runDir);
    expect(written).toContain('manifest.json');
    for (const file of written) {
      const bytes = await readFile(join(runDir, file));
      for (const s of secrets) expect(bytes.includes(s), `${s} in ${file}`).toBe(false);
    }
    for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
  });
});
