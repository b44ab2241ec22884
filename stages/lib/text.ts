/** @module stages/lib/text  Small text helpers shared by stages. */

/** Cuts text to at most 4096 bytes of UTF-8 without splitting a character (for raw replies kept in rejects). */
export function cut4k(s: string): string {
  if (Buffer.byteLength(s) <= 4096) return s;
  let out = Buffer.from(s).subarray(0, 4096).toString('utf8');
  if (out.endsWith('\uFFFD')) out = out.slice(0, -1);
  return out;
}
