/**
 * @module pipeline/io/client/fetch
 * A lean `fetch` for the SDK over node:http(s) with keep-alive agents. Node's built-in fetch
 * (undici) costs about a millisecond of CPU per request, which at 600+ requests/s keeps the event
 * loop busy enough to delay replies; this reads each reply whole (they are small JSON documents)
 * and hands the SDK a standard `Response`. Bodies other than strings and bytes go to the global fetch.
 */
import http from 'node:http';
import https from 'node:https';

export interface LeanFetch {
  fetch: typeof globalThis.fetch;
  close(): void;
}

const abortError = (signal: AbortSignal): unknown =>
  signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');

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
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      let settled = false;
      const fail = (e: unknown) => {
        if (!settled) {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        }
      };
      const req = (url.protocol === 'https:' ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(new TypeError('fetch failed', { cause: e })));
          res.on('aborted', () =>
            fail(new TypeError('fetch failed: the response was cut', { cause: new Error('aborted') })),
          );
          res.on('end', () => {
            if (settled) return;
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            const h = new Headers();
            for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
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
      req.on('error', (e) => fail(new TypeError('fetch failed', { cause: e })));
      req.end(body ?? undefined);
    });
  };
  return {
    fetch: f as typeof globalThis.fetch,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
