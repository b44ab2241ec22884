/**
 * @module pipeline/io/client/fetch
 * A lean `fetch` for the SDK over node:http(s) with keep-alive agents. Node's built-in fetch
 * (undici) costs about a millisecond of CPU per request, which at 600+ requests/s keeps the event
 * loop busy enough to delay replies; this reads each reply whole (they are small JSON documents)
 * and hands the SDK a standard `Response`. Bodies other than strings and bytes go to the global fetch.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';

// Taken as CommonJS modules: an ESM `import` of node:http builds its ESM facade by reading every
// export, and one of them (a lazy getter) loads Node's undici at once, about 100 ms on the main thread.
const http = process.getBuiltinModule('node:http') as typeof Http;
const https = process.getBuiltinModule('node:https') as typeof Https;

export interface LeanFetch {
  fetch: typeof globalThis.fetch;
  close(): void;
}

const abortError = (signal: AbortSignal): unknown =>
  signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');

/** Errors of a kept-alive socket found dead when it is reused. */
const STALE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** A fetch with its own keep-alive connection pools; `close` drops idle sockets. */
export function leanFetch(): LeanFetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity }),
  };
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)))
      return globalThis.fetch(input, init);
    const url = new URL(input);
    const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : null;
    if (!agent) return globalThis.fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const signal = init.signal ?? undefined;
    const send = (fresh: boolean) =>
      new Promise<Response>((resolve, reject) => {
        if (signal?.aborted) return reject(abortError(signal));
        let settled = false;
        const done = () => {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
        };
        const fail = (e: unknown) => {
          if (!settled) {
            done();
            reject(e);
          }
        };
        const req = (url.protocol === 'https:' ? https : http).request(
          url,
          { method: init.method ?? 'GET', headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (e) => fail(new TypeError('fetch failed: the response was cut', { cause: e })));
            // A socket closed before the body's end: the reply is cut, whether or not an error came with it.
            res.on('close', () => {
              if (!res.complete)
                fail(new TypeError('fetch failed: the response was cut', { cause: new Error('aborted') }));
            });
            res.on('end', () => {
              if (settled) return;
              done();
              const h = new Headers();
              for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
                h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
              const status = res.statusCode ?? 502;
              const nullBody = status === 204 || status === 205 || status === 304;
              try {
                resolve(
                  new Response(nullBody ? null : Buffer.concat(chunks), {
                    status,
                    statusText: res.statusMessage ?? '',
                    headers: h,
                  }),
                );
              } catch (e) {
                reject(new TypeError(`fetch failed: unusable response status ${status}`, { cause: e }));
              }
            });
          },
        );
        function onAbort() {
          req.destroy();
          fail(abortError(signal!));
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        req.on('error', (e: NodeJS.ErrnoException) => {
          // A kept-alive socket that the server (or a proxy) dropped while it was idle fails on first use,
          // before any reply: the request goes once more on a new socket, as Node's http docs advise.
          if (!settled && !fresh && req.reusedSocket && STALE.has(e.code ?? '')) {
            done();
            resolve(send(true));
          } else fail(new TypeError('fetch failed', { cause: e }));
        });
        req.end(body ?? undefined);
      });
    return send(false);
  };
  return {
    fetch: f as typeof globalThis.fetch,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
