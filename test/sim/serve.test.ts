/**
 * `tracepipe sim serve` as users run it: the built CLI in its own process, talked to over HTTP
 * with the real openai client, answering every prompt kind the pipeline sends; its stats at
 * GET /v1/sim/stats and on SIGTERM; a bad --problems file as one line and exit 2.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../shared.ts';
import { checkProposal, decomposeMessages, decomposeSchema } from '../../stages/decompose/decompose.ts';
import { extractorMessages, extractorSchema, parseExtractorReply } from '../../stages/align/extractor.ts';
import { freeMessages, guidedMessages, guidedSchema, parseFree, parseGuided } from '../../stages/lib/prompts.ts';
import { continuationMessages, parseContinuation } from '../../stages/lib/continuation.ts';
import { verifyStep, readPrefix } from '../../sim/continue.ts';
import { synth, writeSynth } from '../../sim/synth.ts';
import { client, problemRow } from './helpers.ts';

const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
  dir = await mkdtemp(join(tmpdir(), 'tp-sim-serve-'));
});

/** Starts `tracepipe sim serve` in a child process and resolves with its URL once it listens. */
async function serve(args: string[]) {
  const child = spawn(process.execPath, [cli, 'sim', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`sim serve exited with ${code} before it listened: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v1$/.exec(line);
      if (m) ok(m[1]!);
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, stderr };
    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exit) as [number | null];
    return { code, stderr };
  };
  return { url, stop };
}

describe('tracepipe sim serve (built CLI, own process)', () => {
  it('answers every prompt kind over HTTP and reports them at /v1/sim/stats and on SIGTERM', async () => {
    const file = join(dir, 'problems.jsonl');
    await writeSynth(file, { n: 3, seed: 5 });
    const own = { problem_id: 'mine-1', domain: 'math', question: 'How many faces does a cube have?' };
    await writeFile(file, `${await readFile(file, 'utf8')}${JSON.stringify(own)}\n`);
    const sim = await serve(['--problems', file, '--rpm', '1000', '--p-error', '0.3', '--latency-ms', '2']);
    try {
      const api = client(sim.url);
      const p = synth({ n: 3, seed: 5 })[1]!;
      const d = await api.chat.completions.create({
        model: 'teacher',
        messages: decomposeMessages(p.input),
        response_format: { type: 'json_schema', json_schema: decomposeSchema() },
      });
      const proposal = checkProposal(problemRow(p), d.choices[0]!.message.content!);
      if (!proposal.ok) throw new Error(proposal.messages.join('; '));
      const ars = proposal.nodes;
      const g = await api.chat.completions.create({
        model: 'm',
        messages: guidedMessages(p.input, ars),
        response_format: { type: 'json_schema', json_schema: guidedSchema(ars) },
        n: 2,
        seed: 1,
      });
      for (const c of g.choices) expect(parseGuided(c.message.content!, ars).ok).toBe(true);
      const original = freeMessages(p.input);
      const f = parseFree(
        (await api.chat.completions.create({ model: 'm', messages: original, seed: 2 })).choices[0]!.message.content!,
      );
      const e = await api.chat.completions.create({
        model: 'x',
        messages: extractorMessages(f.steps, ars),
        response_format: { type: 'json_schema', json_schema: extractorSchema(ars) },
      });
      const aligned = parseExtractorReply(e.choices[0]!.message.content!, ars, f.steps.length);
      if (!aligned.ok) throw new Error(JSON.stringify(aligned.issues));
      expect(aligned.answers.at(-1)!.answer).toBe(f.final_answer);
      const c = await api.chat.completions.create({
        model: 'm',
        messages: continuationMessages(original, f.steps.slice(0, 2)),
        n: 4,
        seed: 3,
      });
      for (const ch of c.choices) {
        const cont = parseContinuation(ch.message.content!);
        expect(cont.steps[0]).toMatch(/^Step 3: /);
        expect(cont.final_answer).not.toBeNull();
      }
      const verified = c.choices.filter((ch) =>
        verifyStep(
          p,
          p.steps[2]!.node_id,
          readPrefix(p, f.steps.slice(0, 2)),
          parseContinuation(ch.message.content!).steps[0]!,
        ),
      );
      expect(verified.length).toBeGreaterThan(0);
      const { data: r, response } = await api.chat.completions
        .create({ model: 'm', messages: freeMessages({ question: own.question, choices: [] }) })
        .withResponse();
      expect(response.headers.get('x-tracepipe-random')).toBe('true');
      expect(r.choices[0]!.message.content).toContain('(SIMULATED random answer)');
      expect(parseFree(r.choices[0]!.message.content!).final_answer).toMatch(/^-?[\d.e+-]+$/);

      const live = (await (await fetch(`${sim.url}/v1/sim/stats`)).json()) as Record<string, unknown>;
      const prompts = { guided: 1, free: 2, decompose: 1, extract: 1, continue: 1, random: 1 };
      expect(live).toMatchObject({
        requests: 6,
        prompts,
        rpm_limit: 1000,
        max_rpm_seen: 6,
        outcomes: { ok: 6, over_rpm: 0 },
      });
      expect(live.prompt_tokens_shared as number).toBeGreaterThan(0);
      const { code, stderr } = await sim.stop();
      expect(code).toBe(0);
      expect(stderr).toMatch(/3 synth problems get formula answers; 1 other problems get RANDOM answers/);
      const line = /tracepipe simulator stopped: (\{.*\})\n/.exec(stderr);
      expect(JSON.parse(line![1]!)).toMatchObject({
        simulation: expect.stringMatching(/^SIMULATION/),
        requests: 6,
        prompts,
      });
    } finally {
      await sim.stop().catch(() => undefined);
    }
  });

  it.each([
    ['not JSON', 'bad.jsonl', '{"problem_id": "a", "question": "Q?"}\n{"problem_id": ', ':2: not JSON ('],
    [
      'no question',
      'noq.jsonl',
      '{"problem_id": "p-9"}',
      ':1: problem p-9: question should be a non-empty string, got undefined',
    ],
    ['missing', 'missing.jsonl', null, ': cannot read the file (ENOENT)'],
  ])('refuses a problems file that is %s in one line naming it, exit 2', async (_, name, content, what) => {
    const f = join(dir, name);
    if (content !== null) await writeFile(f, content);
    const err = (await run(process.execPath, [cli, 'sim', 'serve', '--problems', f]).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
    expect(err.stderr.startsWith(`tracepipe: sim serve --problems ${f}${what}`)).toBe(true);
  });

  it('says in --help that it is a simulation and that other problems get random answers', async () => {
    const { stdout } = await run(process.execPath, [cli, 'sim', 'serve', '--help']);
    expect(stdout).toMatch(/SIMULATION/);
    expect(stdout.replace(/\s+/g, ' ')).toMatch(/EVERY OTHER PROBLEM GETS PLAUSIBLE BUT RANDOM ANSWERS/);
    expect(stdout).toMatch(/--rpm/);
  });
});
