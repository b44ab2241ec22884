/**
 * The lean fetch and the client over a raw socket server that misbehaves the ways real servers
 * and proxies do: a kept-alive socket reset when reused, a body cut mid-way, a body that stops
 * arriving. Each ends as a retried request or a clear failure, never a hang.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { leanFetch } from '../../../../pipeline/io/client/fetch.ts';
import { openModel } from '../../../../pipeline/io/client/open.ts';
import { defaultGenerateConfig } from '../../../../pipeline/io/client/config.ts';
import { tempStore } from '../../../generate/helpers.ts';

/** What the server does with the `n`-th request (1-based) overall and the `k`-th on its connection. */
type Act = (n: number, k: number) => 'ok' | 'reset' | 'cut' | 'stall';

const BODY = JSON.stringify({
  id: 'x',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Final answer: 3' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
});
const head = (len: number) =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\nconnection: keep-alive\r\n\r\n`;

interface Raw {
  url: string;
  requests: number;
  connections: number;
  close(): Promise<void>;
}

/** A keep-alive HTTP/1.1 server on a raw socket that answers each request as `act` says. */
async function rawServer(act: Act): Promise<Raw> {
  const sockets = new Set<net.Socket>();
  const s: Raw = { url: '', requests: 0, connections: 0, close: async () => {} };
  const server = net.createServer((sock) => {
    s.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let k = 0;
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      // One request = headers + a body of content-length bytes.
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        const what = act(++s.requests, ++k);
        if (what === 'ok') sock.write(head(Buffer.byteLength(BODY)) + BODY);
        else if (what === 'reset') sock.resetAndDestroy();
        else if (what === 'cut') {
          sock.write(head(Buffer.byteLength(BODY)) + BODY.slice(0, 30));
          setTimeout(() => sock.destroy(), 20);
        } else sock.write(head(Buffer.byteLength(BODY)) + BODY.slice(0, 30));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  s.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1`;
  s.close = () =>
    new Promise<void>((r) => {
      for (const x of sockets) x.destroy();
      server.close(() => r());
    });
  return s;
}

let raw: Raw | undefined;
afterEach(async () => {
  await raw?.close();
  raw = undefined;
});
const post = (f: ReturnType<typeof leanFetch>, url: string) =>
  f.fetch(`${url}/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });

describe('leanFetch', () => {
  it('a kept-alive socket reset on reuse sends the request again on a new socket, once', async () => {
    // Every connection answers its first request and resets on the second, as a proxy that dropped it idle.
    raw = await rawServer((_n, k) => (k === 1 ? 'ok' : 'reset'));
    const f = leanFetch();
    for (let i = 0; i < 3; i++) expect((await post(f, raw.url)).status).toBe(200);
    expect(raw).toMatchObject({ requests: 5, connections: 3 });
    f.close();
  });

  it('a reset of a fresh socket is not resent: it fails as a connection error', async () => {
    raw = await rawServer(() => 'reset');
    const f = leanFetch();
    await expect(post(f, raw.url)).rejects.toThrow(/^fetch failed$/);
    expect(raw.requests).toBe(1);
    f.close();
  });

  it('a body cut mid-way fails as a cut response', async () => {
    raw = await rawServer(() => 'cut');
    const f = leanFetch();
    await expect(post(f, raw.url)).rejects.toThrow('fetch failed: the response was cut');
    f.close();
  });
});

describe('the client over a misbehaving socket', () => {
  const cfg = { ...defaultGenerateConfig, use_n: false, seed: 1, timeout_ms: 300, max_retries: 3 };
  const req = { messages: [{ role: 'user' as const, content: 'q' }], max_tokens: 20, json_schema: null };

  it.each([
    ['a body cut mid-way', 'cut', 'connection'],
    ['a body that stops arriving (past timeout_ms)', 'stall', 'timeout'],
  ] as const)('%s is retried and the sample lands', async (_what, fault, code) => {
    raw = await rawServer((n) => (n === 1 ? fault : 'ok'));
    const { store } = await tempStore();
    const m = await openModel(store, { base_url: raw.url, model: 'm' }, cfg, { env: {} });
    const [o] = await m.port.sample(req, [0]);
    expect(o).toMatchObject({ ok: true, content: 'Final answer: 3' });
    expect(m.port.counters()).toMatchObject({ requests: 2, retries: 1, by_status: { [code]: 1, 200: 1 } });
    await m.close();
    store.close();
  });

  it('a reused socket reset between requests costs no retry', async () => {
    raw = await rawServer((_n, k) => (k === 1 ? 'ok' : 'reset'));
    const { store } = await tempStore();
    const m = await openModel(store, { base_url: raw.url, model: 'm' }, { ...cfg, max_retries: 0 }, { env: {} });
    for (const i of [0, 1, 2]) expect((await m.port.sample(req, [i]))[0]!.ok).toBe(true);
    expect(m.port.counters()).toMatchObject({ requests: 3, retries: 0, errors: 0 });
    await m.close();
    store.close();
  });
});
