import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenerate } from './helpers.ts';
import { imageParts } from '../../pipeline/io/client/images.ts';
import { describeShared, sharedData } from '../shared.ts';
import { startFake, type Fake } from './fake.ts';
import { cfgFor, problem, tempStore } from './helpers.ts';

let fake: Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});
type Part = { type: string; text?: string; image_url?: { url: string } };

describeShared('generate with MATH-Vision images', () => {
  it('sends each local image as a base64 data URL that arrives intact at the server', async () => {
    const root = sharedData('mathv');
    const rows = readFileSync(join(root, 'testmini.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 5)
      .map((l) => JSON.parse(l) as { id: string; question: string; options: string[]; image: string });
    fake = await startFake();
    const { store } = await tempStore();
    const problems = rows.map((r) =>
      problem(`mathv-${r.id}`, { question: r.question, choices: r.options, images: [join(root, r.image)] }),
    );
    const out = await runGenerate(
      { problems, nodes: [] },
      { ...cfgFor(fake.url, { k: 1, modes: ['free'] }), imageRoot: root },
      { store },
    );
    expect(out.rejects).toEqual([]);
    expect(out.paths).toHaveLength(5);
    for (const r of rows) {
      const req = fake.requests.find((q) =>
        JSON.stringify(q.body.messages).includes(JSON.stringify(r.question).slice(1, 40)),
      )!;
      const parts = req.body.messages[1]!.content as Part[];
      expect(parts[0]!.type).toBe('text');
      const url = parts[1]!.image_url!.url;
      expect(url.startsWith('data:image/jpeg;base64,')).toBe(true);
      expect(
        Buffer.from(url.slice('data:image/jpeg;base64,'.length), 'base64').equals(readFileSync(join(root, r.image))),
      ).toBe(true);
    }
    store.close();
  });
});

describe('images', () => {
  it('passes http(s) URLs through and refuses files outside the root, missing files and other types', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tp-img-'));
    const outside = await mkdtemp(join(tmpdir(), 'tp-out-'));
    await writeFile(join(root, 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await writeFile(join(outside, 'b.png'), 'x');
    await symlink(join(outside, 'b.png'), join(root, 'link.png'));
    await writeFile(join(root, 'c.bmp'), 'x');
    expect(await imageParts(['https://example.org/x.png', 'a.png'], [root])).toEqual({
      ok: true,
      parts: [
        { type: 'image_url', image_url: { url: 'https://example.org/x.png' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw==' } },
      ],
    });
    expect(await imageParts([join(outside, 'b.png')], [root])).toEqual({
      ok: false,
      path: 'images.0',
      message: `image "${join(outside, 'b.png')}" is outside the image root ${root}; refusing to read it`,
    });
    expect(await imageParts(['link.png'], [root])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/is outside the image root/),
    });
    expect(await imageParts(['a.png', '../x.png'], [root])).toEqual({
      ok: false,
      path: 'images.1',
      message: 'image "../x.png" was not found (ENOENT)',
    });
    expect(await imageParts(['c.bmp'], [root])).toEqual({
      ok: false,
      path: 'images.0',
      message: 'image "c.bmp" should be png, jpeg, webp or gif, got extension ".bmp"',
    });
  });

  it('rejects every path of a problem whose image is missing, and sends nothing for it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tp-img-'));
    fake = await startFake();
    const { store } = await tempStore();
    const out = await runGenerate(
      { problems: [problem('p1', { images: [join(root, 'gone.png')] }), problem('p2')], nodes: [] },
      { ...cfgFor(fake.url, { k: 2, modes: ['free'] }), imageRoot: root },
      { store },
    );
    expect(out.paths.map((p) => p.path_id)).toEqual(['p2/free/0', 'p2/free/1']);
    expect(out.rejects.map((r) => [r.item, r.code, r.path, r.message])).toEqual(
      [0, 1].map((i) => [
        `p1/free/${i}`,
        'image',
        'images.0',
        `problem p1: image "${join(root, 'gone.png')}" was not found (ENOENT)`,
      ]),
    );
    expect(fake.requests).toHaveLength(1);
    store.close();
  });
});
