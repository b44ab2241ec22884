/**
 * The prompt kinds beyond guided and free paths, over HTTP with the real openai client: the
 * teacher's decomposition, the extractor's alignment and continuations from a prefix, each
 * answered in the form the pipeline's own parsers accept.
 */
import { describe, it, expect } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { checkProposal, decomposeMessages, decomposeSchema } from '../../stages/decompose/decompose.ts';
import { extractorMessages, extractorSchema, parseExtractorReply } from '../../stages/align/extractor.ts';
import { freeMessages, guidedMessages, guidedSchema, parseFree, parseGuided } from '../../stages/lib/prompts.ts';
import { continuationMessages, parseContinuation } from '../../stages/lib/continuation.ts';
import { readPrefix, verifyStep } from '../../sim/continue.ts';
import { evalStep, type SynthProblem } from '../../sim/synth.ts';
import { fmt } from '../../sim/rng.ts';
import type { ArsNode } from '../../schemas/problems.ts';
import type { Simulator } from '../../sim/server.ts';
import { client, nodes, problemRow, simulators, withUnit } from './helpers.ts';

const start = simulators();
const exact = { pError: 0, pSilent: 0, pLastStep: 0 };

const decompose = (s: Simulator, p: SynthProblem, seed = 7) =>
  client(s).chat.completions.create({
    model: 'teacher',
    messages: decomposeMessages(p.input),
    seed,
    response_format: { type: 'json_schema', json_schema: decomposeSchema() },
  });
const free = async (s: Simulator, p: SynthProblem, n: number, seed = 3) =>
  (await client(s).chat.completions.create({ model: 'm', messages: freeMessages(p.input), n, seed })).choices.map((c) =>
    parseFree(c.message.content!),
  );
const extract = async (s: Simulator, steps: string[], ars: ArsNode[]) => {
  const r = await client(s).chat.completions.create({
    model: 'extractor',
    messages: extractorMessages(steps, ars),
    response_format: { type: 'json_schema', json_schema: extractorSchema(ars) },
  });
  return parseExtractorReply(r.choices[0]!.message.content!, ars, steps.length);
};

describe('simulator, decomposition prompts', () => {
  it("replies with the synth ARS, which checkProposal accepts as the problem's own", async () => {
    const s = await start({});
    for (const p of s.bank.slice(0, 30)) {
      const r = await decompose(s, p);
      const checked = checkProposal(problemRow(p), r.choices[0]!.message.content!);
      if (!checked.ok) throw new Error(`${p.input.problem_id}: ${checked.messages.join('; ')}`);
      const mid = (ns: ArsNode[]) => ns.filter((n) => !n.is_final).map((n) => [n.node_id, n.question, n.depends_on]);
      expect(mid(checked.nodes)).toEqual(mid(nodes(p)));
    }
    expect(s.stats().prompts).toMatchObject({ decompose: 30, guided: 0, free: 0 });
  });

  it('drops or merges one node at the teacher error rate; the proposal stays valid and guided prompts on it parse', async () => {
    const s = await start({ pDecomposeError: 0.5, ...exact });
    let fewer = 0;
    let total = 0;
    for (const p of s.bank.slice(0, 40)) {
      for (const seed of [1, 2, 3, 4]) {
        const ch = (await decompose(s, p, seed)).choices[0]!;
        const checked = checkProposal(problemRow(p), ch.message.content!);
        if (!checked.ok) throw new Error(`${p.input.problem_id}: ${checked.messages.join('; ')}`);
        const got = checked.nodes.length;
        expect([p.input.ars.length + 1, p.input.ars.length]).toContain(got);
        total++;
        if (got === p.input.ars.length) {
          fewer++;
          const ars = checked.nodes;
          const g = await client(s).chat.completions.create({
            model: 'm',
            messages: guidedMessages(p.input, ars),
            response_format: { type: 'json_schema', json_schema: guidedSchema(ars) },
          });
          const parsed = parseGuided(g.choices[0]!.message.content!, ars);
          if (!parsed.ok) throw new Error(parsed.message);
          expect(parsed.value.final_answer).toBe(withUnit(p.input.answer!, p.input.answer_spec.unit));
        }
      }
    }
    expect(Math.abs(fewer / total - 0.5)).toBeLessThan(0.13);
  });
});

describe('simulator, extractor prompts', () => {
  it('maps every node of its own free paths to the step that answers it and the value stated there, wrong or not', async () => {
    const s = await start({ pError: 0.3 });
    let wrongSteps = 0;
    for (const p of s.bank.slice(0, 20)) {
      const ars = nodes(p);
      for (const path of await free(s, p, 4)) {
        const r = await extract(s, path.steps, ars);
        if (!r.ok) throw new Error(JSON.stringify(r.issues));
        for (const [k, a] of r.answers.entries()) {
          if (a.node_id === 'F') {
            expect([a.step, a.answer]).toEqual([path.steps.length - 1, path.final_answer]);
            continue;
          }
          expect(a.step).toBe(k);
          // the answer is the value written at the end of that step
          expect(path.steps[k]).toMatch(
            new RegExp(`(= |which gives )${a.answer!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.$`),
          );
          if (a.answer !== withUnit(p.input.ars[k]!.answer!, p.input.ars[k]!.answer_spec.unit)) wrongSteps++;
        }
      }
    }
    expect(wrongSteps).toBeGreaterThan(10); // wrong values are copied as they are
    expect(s.stats().prompts).toMatchObject({ free: 20, extract: 80 });
  });

  it('answers only the nodes the ARS asks for, and errs at the extractor error rate', async () => {
    const s = await start({ ...exact, pExtractError: 0.4 });
    let off = 0;
    let count = 0;
    for (const p of s.bank.slice(0, 30)) {
      const ars = nodes(p).filter((n) => n.node_id !== 'Q1');
      const [path] = await free(s, p, 1);
      const r = await extract(s, path!.steps, ars);
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      expect(r.answers.map((a) => a.node_id)).toEqual(ars.map((n) => n.node_id));
      for (const a of r.answers.slice(0, -1)) {
        count++;
        const k = Number(a.node_id.slice(1)) - 1;
        if (a.step !== k || a.answer !== withUnit(p.input.ars[k]!.answer!, p.input.ars[k]!.answer_spec.unit)) off++;
      }
    }
    expect(Math.abs(off / count - 0.4)).toBeLessThan(0.12);
  });
});

describe('simulator, continuations', () => {
  const first = (content: string) => parseContinuation(content).steps[0]!;

  it('continues a free prefix from its stated values: an error in the prefix flows into the continuation', async () => {
    const wrong = await start({ pError: 1, pSilent: 0, pLastStep: 0 });
    const right = await start(exact);
    for (const p of wrong.bank.slice(0, 12)) {
      const [path] = await free(wrong, p, 1);
      const cut = p.steps.length - 1; // the prefix states every node but the last, all of them wrong
      const messages = continuationMessages(freeMessages(p.input), path!.steps.slice(0, cut));
      const r = await client(right).chat.completions.create({ model: 'm', messages });
      const cont = parseContinuation(r.choices[0]!.message.content!);
      expect(cont.steps[0]).toMatch(new RegExp(`^Step ${cut + 1}: `));
      const stated = readPrefix(p, path!.steps.slice(0, cut));
      const last = p.steps[cut]!;
      const values = { ...stated, [last.node_id]: evalStep(last, p.givens, stated) };
      expect(verifyStep(p, last.node_id, stated, cont.steps[0]!)).toBe(true);
      expect(cont.final_answer).toBe(withUnit(fmt(evalStep(p.final, p.givens, values)), p.final.unit));
    }
    expect(right.stats().prompts).toMatchObject({ continue: 12, free: 0 });
  });

  it('continues a guided prefix over the remaining nodes of its ARS, and from zero steps solves it all', async () => {
    const s = await start(exact);
    const p = s.bank[5]!;
    const ars = nodes(p);
    const original = guidedMessages(p.input, ars);
    const g = await client(s).chat.completions.create({
      model: 'm',
      messages: original,
      response_format: { type: 'json_schema', json_schema: guidedSchema(ars) },
    });
    const parsed = parseGuided(g.choices[0]!.message.content!, ars);
    if (!parsed.ok) throw new Error(parsed.message);
    const prefix = parsed.value.steps.slice(0, 2);
    const ask = async (m: ChatCompletionMessageParam[]) =>
      (await client(s).chat.completions.create({ model: 'm', messages: m, n: 2, seed: 1 })).choices.map(
        (c) => c.message.content!,
      );
    const [a] = await ask(continuationMessages(original, prefix));
    const cont = parseContinuation(a!);
    expect(cont.steps).toHaveLength(p.steps.length - 2 + 2);
    expect(first(a!)).toMatch(/^Step 3: /);
    expect(verifyStep(p, 'Q3', readPrefix(p, prefix), first(a!))).toBe(true);
    expect(cont.final_answer).toBe(withUnit(p.input.answer!, p.input.answer_spec.unit));
    const [z] = await ask(continuationMessages(original, []));
    expect(parseContinuation(z!).steps).toHaveLength(p.steps.length + 2);
    expect(first(z!)).toMatch(/^Step 1: /);
    // a continuation starts with the bytes of its original prompt, which the simulator counts as shared
    const st = s.stats();
    expect(st.prompts).toMatchObject({ guided: 1, continue: 2 });
    const originalTokens = Math.floor(original.reduce((n, m) => n + m.content.length, 0) / 4);
    expect(st.promptTokensShared).toBeGreaterThanOrEqual(2 * originalTokens);
    expect(st.promptTokensShared).toBeLessThan(st.promptTokens);
  });

  it('continues at the same error rate as a fresh free path at the same node', async () => {
    const s = await start({ pError: 0.25, difficultySpread: 0, pSilent: 0, pLastStep: 0, freeErrorScale: 1 });
    const right = await start(exact);
    let contWrong = 0;
    let freshWrong = 0;
    let total = 0;
    for (const p of s.bank.slice(0, 25)) {
      const fresh = await free(s, p, 16, 11);
      const prefix = (await free(right, p, 1))[0]!.steps.slice(0, 1);
      const messages = continuationMessages(freeMessages(p.input), prefix);
      const r = await client(s).chat.completions.create({ model: 'm', messages, n: 16, seed: 11 });
      const values = readPrefix(p, prefix);
      const node = p.steps[1]!.node_id;
      for (const c of r.choices) if (!verifyStep(p, node, values, first(c.message.content!))) contWrong++;
      // a fresh path's step is judged from the values its own first step states
      for (const f of fresh) if (!verifyStep(p, node, readPrefix(p, f.steps.slice(0, 1)), f.steps[1]!)) freshWrong++;
      total += 16;
    }
    expect(contWrong / total).toBeGreaterThan(0.1);
    expect(Math.abs(contWrong - freshWrong) / total).toBeLessThan(0.1);
  });
});
