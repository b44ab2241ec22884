/** The override flags: checked by the schema's own columns, one line per problem, and never dropped. */
import { describe, it, expect } from 'vitest';
import { applyOverrides, type Overrides } from '../../../pipeline/cli/flags.ts';
import { ConfigError, generateDefaults, parseConfig } from '../../../schemas/config.ts';
import { teacherSettings } from '../../../pipeline/io/client/config.ts';

const m = { base_url: 'http://127.0.0.1:8000/v1', model: 'm' };
const config = (over: object = {}) => parseConfig({ name: 't', inputs: [{ path: 'p.jsonl' }], ...over }, 'c', '/d');
function lines(over: object, flags: Overrides): readonly string[] {
  try {
    applyOverrides(config(over), flags);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.lines;
  }
}

describe('a bad flag is refused with what was expected and what came', () => {
  it.each<[Overrides, string]>([
    [{ k: -3 }, '--k should be an integer >= 1, got -3'],
    [{ k: 0 }, '--k should be an integer >= 1, got 0'],
    [{ k: 1.5 }, '--k should be an integer, got 1.5'],
    [{ k: NaN }, '--k should be an integer, got NaN'],
    [{ concurrency: 0 }, '--concurrency should be an integer >= 1, got 0'],
    [{ 'max-budget': -1 }, '--max-budget should be a number >= 0 (USD), or null for no cap, got -1'],
    [{ 'base-url': 'notaurl' }, '--base-url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "notaurl"'],
    [{ model: ' ' }, '--model should be a non-empty string, got " "'],
  ])('%j', (flags, message) => {
    expect(lines({ model: m, generate: {} }, flags)).toEqual([message]);
  });

  it('names every bad flag, one line each', () => {
    expect(
      lines({ model: m, generate: {} }, { k: -3, concurrency: 0, 'max-budget': -1, 'base-url': 'notaurl' }),
    ).toEqual([
      '--base-url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "notaurl"',
      '--k should be an integer >= 1, got -3',
      '--concurrency should be an integer >= 1, got 0',
      '--max-budget should be a number >= 0 (USD), or null for no cap, got -1',
    ]);
  });

  it('never echoes a key given in a bad URL', () => {
    expect(lines({ model: m }, { 'base-url': 'ftp://u:sk-SECRET@h/v1' })).toEqual([
      '--base-url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "ftp://h/v1"',
    ]);
  });

  it('checks the rules across settings again: --k below the first adaptive round', () => {
    expect(lines({ model: m, generate: { adaptive: { first_round: 4 } } }, { k: 2 })).toEqual([
      'with the command-line flags: generate.adaptive.first_round should be at most generate.k (2), got 4',
    ]);
  });
});

describe('flags without a generate section', () => {
  it.each<[Overrides, object]>([
    [{ k: 3 }, { k: 3 }],
    [{ concurrency: 4 }, { concurrency: 4 }],
    [{ 'max-budget': 5 }, { max_budget: 5 }],
    [
      { k: 2, concurrency: 1, 'max-budget': 0 },
      { k: 2, concurrency: 1, max_budget: 0 },
    ],
  ])('%j creates the section from its defaults', (flags, set) => {
    const c = applyOverrides(config({ model: m }), flags);
    expect(c.generate).toEqual({ ...generateDefaults(), ...set });
  });

  it('applies the budget when only a teacher is configured, so it reaches the teacher', () => {
    const c = applyOverrides(config({ decompose: m }), { 'max-budget': 5, concurrency: 2 });
    expect(teacherSettings(c)!.generate).toMatchObject({ max_budget: 5, concurrency: 2 });
  });

  it.each<[object, Overrides, string]>([
    [
      {},
      { k: 3 },
      '--k has no effect: the config has no model section, so no path is generated (add one, or give --base-url and --model)',
    ],
    [
      { decompose: m },
      { k: 3 },
      '--k has no effect: the config has no model section, so no path is generated (add one, or give --base-url and --model)',
    ],
    [
      {},
      { 'max-budget': 5 },
      '--max-budget has no effect: the config names no model (model, decompose or align.extractor), so no request is sent',
    ],
    [
      { generate: {} },
      { concurrency: 8 },
      '--concurrency has no effect: the config names no model (model, decompose or align.extractor), so no request is sent',
    ],
  ])('with no model to apply to (%j), %j is refused', (over, flags, message) => {
    expect(lines(over, flags)).toEqual([message]);
  });
});

describe('--base-url and --model', () => {
  it('override the model section and keep the rest', () => {
    const c = applyOverrides(config({ model: { ...m, api_key_env: 'MY_KEY' } }), { 'base-url': 'http://gpu:8000/v1' });
    expect(c.model).toEqual({ base_url: 'http://gpu:8000/v1', model: 'm', api_key_env: 'MY_KEY', simulated: false });
  });

  it('create a model section (with its defaults) only when both are given', () => {
    expect(lines({}, { model: 'x' })).toEqual(['the config has no model section: give both --base-url and --model']);
    const c = applyOverrides(config(), { 'base-url': 'http://h/v1', model: 'x' });
    expect(c.model).toEqual({ base_url: 'http://h/v1', model: 'x', api_key_env: 'OPENAI_API_KEY', simulated: false });
  });

  it('leave the config they were given unchanged', () => {
    const before = config({ model: m, generate: { k: 4 } });
    const copy = structuredClone(before);
    applyOverrides(before, { k: 2, 'base-url': 'http://other/v1' });
    expect(before).toEqual(copy);
  });
});
