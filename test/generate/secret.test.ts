import { describe, it, expect, afterEach } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGenerate } from './helpers.ts';
import { redactModel } from '../../pipeline/io/client/config.ts';
import { paths, rejects } from '../../schemas/index.ts';
import { startFake, type Fake } from './fake.ts';
import { ars, cfgFor, problem, tempStore } from './helpers.ts';

const SECRET = 'sk-tracepipe-SECRET-canary-1234';
let fake: Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

describe('the API key', () => {
  it('reaches the server as the bearer token and nowhere else: no file in the state dir, no log line, no reject', async () => {
    // p2's request fails with a server error that echoes the key, as a careless proxy might.
    fake = await startFake({
      fault: (r) =>
        JSON.stringify(r.body.messages).includes('p2')
          ? {
              status: 401,
              body: JSON.stringify({
                error: { message: `Incorrect API key provided: ${String(r.headers.authorization).slice(7)}` },
              }),
            }
          : null,
      reply: (r, i) => ({
        content:
          i === 0 && JSON.stringify(r.body.messages).includes('p3')
            ? `{"echo": "${SECRET}"`
            : `Step 1: x\nFinal answer: ${i}`,
      }),
    });
    const { dir, store } = await tempStore('tp-secret-');
    const log: string[] = [];
    const cfg = {
      ...cfgFor(fake.url, {
        k: 2,
        max_reasks: 0,
        max_budget: 10,
        prices: { 'fake-model': { input_per_mtok: 1, output_per_mtok: 1 } },
      }),
      model: { base_url: fake.url, model: 'fake-model', api_key_env: 'TP_TEST_KEY' },
    };
    const out = await runGenerate(
      { problems: [problem('p1'), problem('p2'), problem('p3')], nodes: [...ars('p1'), ...ars('p2'), ...ars('p3')] },
      cfg,
      { store, env: { TP_TEST_KEY: SECRET }, log: (l) => log.push(l) },
    );
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${SECRET}`)).toBe(true);
    expect(
      out.rejects.some((r) => r.code === 'http_401' && r.message.includes('Incorrect API key provided: <redacted>')),
    ).toBe(true);
    expect(out.rejects.some((r) => r.raw?.includes('<redacted>'))).toBe(true);
    await store.replace(paths, out.paths);
    await store.replace(rejects, out.rejects);
    store.close();
    expect(log.length).toBeGreaterThan(0);
    for (const line of log) expect(line).not.toContain(SECRET);
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(JSON.stringify(redactModel(cfg.model))).not.toContain(SECRET);
    const files = await filesUnder(dir);
    expect(files.some((f) => f.endsWith('state.duckdb'))).toBe(true);
    for (const f of files) expect((await readFile(f)).includes(SECRET), f).toBe(false);
    // The check itself can fail: the key is findable when it is written.
    expect(Buffer.from(`x${SECRET}x`).includes(SECRET)).toBe(true);
  });
});
