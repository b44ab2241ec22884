/**
 * @module pipeline/engine/queue/url
 * The `--queue` value's check, free of Redis imports so that the CLI runs it before loading any.
 */
import { ConfigError } from '../../../schemas/errors.ts';
import { redactUrl } from '../../../schemas/redact.ts';

/** Checks a `--queue` value: a redis:// or rediss:// URL with a host. */
export function checkQueueUrl(url: string): string {
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname)
    throw new ConfigError(
      `--queue should be a Redis URL such as redis://HOST:6379 (or rediss:// for TLS), got ${JSON.stringify(redactUrl(url))}`,
    );
  return url;
}
