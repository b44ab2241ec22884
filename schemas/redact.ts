/**
 * @module schemas/redact
 * What every echoed or persisted copy of a setting goes through: secret-named values and the
 * secret parts of URLs (userinfo, query values, fragment) are replaced by `<redacted>`.
 */

export const REDACTED = '<redacted>';
const SECRET_KEY = /(api[_-]?key|token|secret|password|authorization)$/i;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `https://user:key@host/v1?key=k&x=1#t` → `https://host/v1?key=<redacted>&x=<redacted>#<redacted>`. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not parseable: cut the same parts by pattern, so a malformed URL in an error message leaks nothing either.
    return url
      .replace(/\/\/[^/?#]*@/, '//')
      .replace(/[?&][^&#]*/g, (part) => `${part[0]}${redactParam(part.slice(1))}`)
      .replace(/#.*$/, `#${REDACTED}`);
  }
  const query = u.search.slice(1);
  const hash = u.hash !== '';
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  // `new URL('http://h')` prints `http://h/`: keep the text as it was written.
  const written = url.split(/[?#]/)[0]!;
  const base = u.pathname === '/' && !written.endsWith('/') ? u.toString().slice(0, -1) : u.toString();
  const q = query === '' ? '' : `?${query.split('&').map(redactParam).join('&')}`;
  return `${base}${q}${hash ? `#${REDACTED}` : ''}`;
}

/** `key=value` → `key=<redacted>`; a bare part (no `=`) may itself be the secret. */
const redactParam = (part: string) => {
  const eq = part.indexOf('=');
  return eq < 0 ? (part === '' ? '' : REDACTED) : `${part.slice(0, eq + 1)}${REDACTED}`;
};

/**
 * A deep copy with secret-named values (`api_key`, `token`, ...) replaced and every URL-valued
 * string redacted. Keys named `*_env` hold variable names, not secrets, and are kept.
 */
export function redact<T>(v: T): T {
  if (typeof v === 'string') return (URL_LIKE.test(v) ? redactUrl(v) : v) as T;
  if (Array.isArray(v)) return v.map(redact) as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && typeof x === 'string' ? REDACTED : redact(x)]),
    ) as T;
  }
  return v;
}
