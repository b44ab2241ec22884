/**
 * @module pipeline/io/lines
 * JSON lines as bytes. Joining lines into one string and encoding that costs twice: a single line
 * with a character beyond Latin-1 (a curly quote in a GSM8K question) makes the whole joined
 * string two-byte, and encoding a two-byte string to UTF-8 is about three times slower than a
 * one-byte one. Encoding each line into one buffer keeps the fast path for every one-byte line
 * and skips the joined copy (measured on 1,500 rows of 330 bytes, a tenth with one curly quote:
 * 5.4 ms joined and written against 2.9 ms).
 */

/** The bytes of `lines`, each followed by a newline: the same bytes as `lines.join('\n') + '\n'` (empty for no lines). */
export function linesBuffer(lines: readonly string[]): Buffer {
  let size = 0;
  for (const l of lines) size += Buffer.byteLength(l, 'utf8') + 1;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const l of lines) {
    at += buf.write(l, at, 'utf8');
    buf[at++] = 0x0a;
  }
  return buf;
}
