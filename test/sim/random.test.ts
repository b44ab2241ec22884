/**
 * `--problems` on any problem file: synth problems keep their formula answers, every other
 * problem gets random but parseable answers to every prompt kind, labelled as such; a bad file is
 * one error naming the file, the line and the problem.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProposal, decomposeMessages, decomposeSchema } from '../../stages/decompose/decompose.ts';
import { extractorMessages, extractorSchema, parseExtractorReply } from '../../stages/align/extractor.ts';
import { freeMessages, guidedMessages, guidedSchema, parseFree, parseGuided } from '../../stages/lib/prompts.ts';
import { continuationMessages, parseContinuation } from '../../stages/lib/continuation.ts';
import { loadProblemsFile } from '../../sim/problems.ts';
import { writeSynth } from '../../sim/synth.ts';
import { ConfigError } from '../../schemas/config.ts';
import type { ArsNode, Problem } from '../../schemas/problems.ts';
import type { Simulator } from '../../sim/server.ts';
import { client, nodes, simulators, withUnit } from './helpers.ts';

const start = simulators();
const LABEL = '(SIMULATED random answer)';

/** A user's own problems: one with an ARS and units, one multiple choice, one bare. */
const mine = [
  {
    problem_id: 'kin-1',
    domain: 'physics',
    question: 'A cyclist rides 12 km in 40 minutes. What is her average speed in km/h?',
    answer: '18',
    answer_spec: { kind: 'quantity', unit: 'km/h', tolerance: 0.001 },
    ars: [
      { node_id: 'Q1', question: 'How many hours is 40 minutes?', answer: '0.6667', answer_spec: { unit: 'h' } },
      { node_id: 'Q2', question: 'What is 12 km divided by that time?', depends_on: ['Q1'] },
    ],
  },
  {
    problem_id: 'chem-7',
    domain: 'chemistry',
    question: 'Which gas is produced when zinc reacts with hydrochloric acid?',
    choices: ['oxygen', 'hydrogen', 'chlorine'],
  },
  { problem_id: 'misc-3', domain: 'other', question: 'How many edges does a cube have?' },
];
const row = (r: (typeof mine)[number]): Problem =>
  ({
    role: 'data',
    images: [],
    choices: [],
    answer: null,
    answer_spec: { kind: 'number', tolerance: null, unit: null },
    source: 't',
    content_hash: 'h',
    ...r,
  }) as Problem;
/** ARS rows of a user's problem as ingest would store them. */
const arsOf = (r: (typeof mine)[number]): ArsNode[] => {
  const mid = (r.ars ?? []).map((a, i) => ({
    problem_id: r.problem_id,
    node_id: a.node_id,
    position: i,
    question: a.question,
    depends_on: a.depends_on ?? [],
    answer: null,
    answer_spec: { kind: 'number' as const, tolerance: null, unit: a.answer_spec?.unit ?? null },
    uses_image: false,
    is_final: false,
  }));
  return [
    ...mid,
    { ...mid[0]!, node_id: 'F', position: mid.length, question: r.question, depends_on: [], is_final: true },
  ];
};

let dir: string;
let file: string;
let s: Simulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-sim-random-'));
  await writeSynth(join(dir, 'synth.jsonl'), { n: 3, seed: 4 });
  const synthLines = (await readFile(join(dir, 'synth.jsonl'), 'utf8')).trim().split('\n');
  const edited = { ...JSON.parse(synthLines[2]!), question: 'An edited synth question: what is 6 times 7?' };
  file = join(dir, 'mine.jsonl');
  await writeFile(
    file,
    [...mine.map((r) => JSON.stringify(r)), synthLines[0], synthLines[1], '', JSON.stringify(edited)].join('\n'),
  );
  s = await start({ problemsFile: file, pError: 0, pSilent: 0, pLastStep: 0 });
});

describe('sim serve --problems on any problem file', () => {
  it('knows the synth problems of the file by id and question, and treats every other one as random', () => {
    expect(s.bank.map((p) => p.input.problem_id)).toEqual(['synth-4-0000', 'synth-4-0001']);
    expect(s.others.map((p) => [p.problem_id, p.unit, p.choices.length, p.nodeUnits])).toEqual([
      ['kin-1', 'km/h', 0, { Q1: 'h' }],
      ['chem-7', null, 3, {}],
      ['misc-3', null, 0, {}],
      // a synth id whose question was edited: random, with the units its row gives
      ['synth-4-0002', 'kPa', 0, { Q1: 'K', Q2: 'm^3', Q3: 'Pa' }],
    ]);
  });

  it('answers guided and free prompts of its own problems at random, parseable, labelled, and seeded', async () => {
    const [kin, chem, misc] = mine;
    const ars = arsOf(kin!);
    const ask = (seed: number) =>
      client(s)
        .chat.completions.create({
          model: 'm',
          messages: guidedMessages(row(kin!), ars),
          response_format: { type: 'json_schema', json_schema: guidedSchema(ars) },
          n: 3,
          seed,
        })
        .withResponse();
    const { data: g, response } = await ask(1);
    expect([response.headers.get('x-tracepipe-random'), response.headers.get('x-tracepipe-simulated')]).toEqual([
      'true',
      'true',
    ]);
    expect((await ask(1)).data.choices.map((c) => c.message.content)).toEqual(g.choices.map((c) => c.message.content));
    for (const c of g.choices) {
      const parsed = parseGuided(c.message.content!, ars);
      if (!parsed.ok) throw new Error(parsed.message);
      expect(parsed.value.steps[0]).toContain(LABEL);
      expect(parsed.value.node_answers[0]!.answer).toMatch(/^-?[\d.]+ h$/);
      expect(parsed.value.final_answer).toMatch(/^-?[\d.e+-]+ km\/h$/);
    }
    for (const p of [chem!, misc!]) {
      const f = await client(s).chat.completions.create({ model: 'm', messages: freeMessages(row(p)), n: 4, seed: 2 });
      for (const c of f.choices) {
        const parsed = parseFree(c.message.content!);
        expect(parsed.steps.length).toBeGreaterThanOrEqual(3);
        expect(parsed.steps[0]).toMatch(new RegExp(`^Step 1: \\(SIMULATED random answer\\)`));
        expect(parsed.final_answer).toMatch(p === chem ? /^[ABC]$/ : /^-?[\d.e+-]+$/);
      }
    }
  });

  it('answers decomposition, extractor and continuation prompts of its own problems in the forms the pipeline reads', async () => {
    const misc = mine[2]!;
    const d = await client(s).chat.completions.create({
      model: 't',
      messages: decomposeMessages(row(misc)),
      response_format: { type: 'json_schema', json_schema: decomposeSchema() },
    });
    const proposal = checkProposal(row(misc), d.choices[0]!.message.content!);
    if (!proposal.ok) throw new Error(proposal.messages.join('; '));
    expect(proposal.nodes.length).toBeGreaterThanOrEqual(3);
    expect(proposal.nodes[0]!.question).toContain(LABEL);
    const original = freeMessages(row(misc));
    const path = parseFree(
      (await client(s).chat.completions.create({ model: 'm', messages: original })).choices[0]!.message.content!,
    );
    const e = await client(s).chat.completions.create({
      model: 'x',
      messages: extractorMessages(path.steps, proposal.nodes),
      response_format: { type: 'json_schema', json_schema: extractorSchema(proposal.nodes) },
    });
    const aligned = parseExtractorReply(e.choices[0]!.message.content!, proposal.nodes, path.steps.length);
    if (!aligned.ok) throw new Error(JSON.stringify(aligned.issues));
    expect(aligned.answers.at(-1)).toEqual({ node_id: 'F', answer: path.final_answer, step: path.steps.length - 1 });
    expect(aligned.answers[0]!.step).toBe(0);
    const c = await client(s).chat.completions.create({
      model: 'm',
      messages: continuationMessages(original, path.steps.slice(0, 1)),
    });
    const cont = parseContinuation(c.choices[0]!.message.content!);
    expect(cont.steps[0]).toMatch(/^Step 2: \(SIMULATED random answer\)/);
    expect(cont.final_answer).not.toBeNull();
    expect(s.stats().prompts).toMatchObject({ decompose: 1, extract: 1, continue: 1 });
    expect(s.stats().prompts.random).toBeGreaterThanOrEqual(5);
  });

  it("keeps formula answers for the file's synth problems, without the random label", async () => {
    const p = s.bank[1]!;
    const { data, response } = await client(s)
      .chat.completions.create({ model: 'm', messages: freeMessages(p.input) })
      .withResponse();
    expect(response.headers.get('x-tracepipe-random')).toBeNull();
    expect(data.choices[0]!.message.content).not.toContain('SIMULATED');
    expect(parseFree(data.choices[0]!.message.content!).final_answer).toBe(
      withUnit(p.input.answer!, p.input.answer_spec.unit),
    );
    expect(nodes(p)).toHaveLength(p.input.ars.length + 1);
  });

  it('still answers a problem that is in no file with HTTP 400', async () => {
    const err = (await client(s)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Problem:\nWhat is 2 + 2?' }] })
      .catch((e: unknown) => e)) as { status: number; code: string };
    expect([err.status, err.code]).toEqual([400, 'unknown_problem']);
  });
});

describe('loadProblemsFile errors', () => {
  it.each([
    ['missing.jsonl', null, (f: string) => `sim serve --problems ${f}: cannot read the file (ENOENT)`],
    [
      'bad.jsonl',
      '{"problem_id": "a", "question": "Q?"}\n{"problem_id": "b", ',
      (f: string) => `sim serve --problems ${f}:2: not JSON (`,
    ],
    [
      'list.jsonl',
      '[1, 2]',
      (f: string) => `sim serve --problems ${f}:1: expected a JSON object (one problem), got [1,2]`,
    ],
    [
      'noid.jsonl',
      '\n{"question": "Q?"}',
      (f: string) => `sim serve --problems ${f}:2: problem_id should be a non-empty string, got undefined`,
    ],
    [
      'noq.jsonl',
      '{"problem_id": "p-9", "question": 42}',
      (f: string) => `sim serve --problems ${f}:1: problem p-9: question should be a non-empty string, got 42`,
    ],
  ])('%s', async (name, content, message) => {
    const f = join(dir, name);
    if (content !== null) await writeFile(f, content);
    const err = (await loadProblemsFile(f).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message.startsWith(message(f))).toBe(true);
    expect(err.message).not.toContain('\n');
  });
});
