/** @module stages/lib/equivalence/extract  Finding the final answer inside a model's text. */
import { matchBrace } from './normalize.ts';

/** Longest text scanned; longer texts are scanned from their end. Bounds time on runaway outputs. */
export const MAX_SCAN = 200_000;
/** Boxed answers separated by at most this many words are read as one answer with several parts. */
const MAX_GAP_WORDS = 4;
const CONNECTOR = /^(?:and|or|,|;|&)$/i;
const NUMBER = /(?<![A-Za-z\d.,])[-+−]?[$€£]?\s?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:[.,]\d+)?(?:\s*\/\s*\d+)?(?:\s?%)?/g;

interface Span {
  start: number;
  end: number;
  body: string;
}

function boxes(t: string): Span[] {
  const out: Span[] = [];
  const re = /\\(?:boxed|fbox)\s*/g;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const open = m.index + m[0].length;
    if (t[open] !== '{') continue;
    const end = matchBrace(t, open);
    const stop = end < 0 ? t.length : end;
    out.push({ start: m.index, end: stop, body: t.slice(open + 1, end < 0 ? t.length : end - 1) });
    re.lastIndex = stop;
  }
  return out;
}

const gapWords = (gap: string) =>
  gap
    .replace(/\\[a-zA-Z]+/g, ' ')
    .replace(/[${}\\[\]().,;:!+\-*=]/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !CONNECTOR.test(w)).length;

/** Joins trailing spans whose gaps hold few words into one answer; a lone span is returned as is. */
function lastGroup(t: string, spans: Span[], maxWords: number, asSet: boolean): string {
  const last = spans[spans.length - 1] as Span;
  const group = [last.body];
  for (let i = spans.length - 2; i >= 0; i--) {
    const a = spans[i] as Span,
      b = spans[i + 1] as Span;
    if (gapWords(t.slice(a.end, b.start)) > maxWords) break;
    group.unshift(a.body);
  }
  const parts = group.map((g) => g.replace(/\$/g, ' ').trim());
  if (parts.length === 1) return parts[0] as string;
  return asSet ? `\\{${parts.join(', ')}\\}` : parts.join(', ');
}

function mathSpans(t: string): Span[] {
  const out: Span[] = [];
  const re = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|(?<!\\)\$((?:\\\$|[^$])+?)(?<!\\)\$/g;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const inline = m[4];
    // Inline `$...$` never spans a line break: a lone `$` is then a currency sign.
    if (inline !== undefined && inline.includes('\n')) {
      re.lastIndex = m.index + 1;
      continue;
    }
    const body = (m[1] ?? m[2] ?? m[3] ?? inline ?? '').trim();
    if (body) out.push({ start: m.index, end: m.index + m[0].length, body });
  }
  return out;
}

function lastNumber(t: string): string | null {
  let last: string | null = null;
  for (const m of t.matchAll(NUMBER)) last = m[0];
  return last === null ? null : last.trim().replace(/^([-+−]?)[$€£]\s?/, '$1');
}

const ANSWER_IS = /(?:final answer|the answer|answer)\s*(?:is|:)\s*(?:[:=]\s*)?/gi;

function afterAnswerPhrase(t: string, notBefore: number): string | null {
  let at = -1;
  for (const m of t.matchAll(ANSWER_IS)) at = m.index + m[0].length;
  if (at < 0 || at < notBefore) return null;
  let seg = t.slice(at);
  const stop = seg.search(/\.(?:\s|$)(?![^$]*\$[^$]*$)|\n|I hope/);
  if (stop >= 0) seg = seg.slice(0, stop);
  seg = seg.trim();
  if (!seg) return null;
  // "The largest $n$ is 34": the answer follows the last "is".
  const is = /^.*\b(?:is|are|be|equals)\s+(.+)$/s.exec(seg);
  const tail = is?.[1] && /\d|\$|\\\(/.test(is[1]) ? is[1].trim() : seg;
  const spans = mathSpans(tail);
  if (spans.length) return lastGroup(tail, spans, 0, false);
  if (/[a-zA-Z]{3,}/.test(tail.replace(/\\[a-zA-Z]+/g, '')) && /\d/.test(tail)) return lastNumber(tail);
  return tail;
}

/**
 * The final answer in a model's text: the last `\boxed{}` (nested braces; adjacent boxes joined),
 * else what follows "final answer is" / "the answer is", else the last math span, else the last
 * plain number; null when there is none. Scans at most `MAX_SCAN` characters from the end.
 */
export function extractAnswer(text: string): string | null {
  let t = text.length > MAX_SCAN ? text.slice(-MAX_SCAN) : text;
  if (t.includes('\\\\'))
    t = t.replace(/\\\\(boxed|fbox|frac|left|right|text|sqrt|le|ge|pi|in|cup|cdot|times)(?![a-zA-Z])/g, '\\$1');
  const bx = boxes(t);
  const lastBox = bx.length ? (bx[bx.length - 1] as Span).start : -1;
  // A "final answer is" written after the last box restates the answer: it wins.
  const phrase = afterAnswerPhrase(t, lastBox);
  if (phrase) return phrase;
  if (bx.length) return lastGroup(t, bx, MAX_GAP_WORDS, true) || null;
  const spans = mathSpans(t);
  if (spans.length) {
    // A number in the prose after the last math span is the later, final statement.
    const after = lastNumber(t.slice((spans[spans.length - 1] as Span).end));
    return after ?? lastGroup(t, spans, 0, false);
  }
  return lastNumber(t);
}

/** True when a string reads as prose around an answer rather than as an answer itself. */
export function isProse(s: string): boolean {
  if (/\\boxed|\\fbox|answer\s*(?:is|:)/i.test(s)) return true;
  if (mathSpans(s).length > 0) return true;
  const words = s
    .replace(/\\[a-zA-Z]+/g, ' ')
    .split(/\s+/)
    .filter((w) => /^[A-Za-z]{3,}[.,:;!?]?$/.test(w) && !/^(?:and|or)$/i.test(w));
  const loneDollar = (s.match(/(?<!\\)\$/g) ?? []).length % 2 === 1;
  return (
    (words.length >= 2 || (words.length === 1 && loneDollar)) &&
    /\d/.test(s) &&
    !/^\s*\$?\s*-?[\d.,\s]+(?:%|\\%)?\s*\$?\s*(?:percent(?:age)?|pct)?\s*$/.test(s)
  );
}
