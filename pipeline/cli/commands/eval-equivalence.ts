/** @module pipeline/cli/commands/eval-equivalence  Agreement of the equivalence engine with labelled JSONL cases. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { equivalent } from '../../../stages/lib/equivalence/index.ts';
import { ANSWER_KINDS, type AnswerKind } from '../../../schemas/problems.ts';

export interface EvalSummary {
  agreement: number;
  total: number;
  disagree: number;
  unknown: number;
}

/** One labelled case, or the reason its line cannot be used. */
function readCase(
  line: string,
  n: number,
): { gold: string; pred: string; expected: 0 | 1; kind?: AnswerKind } | string {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (e) {
    return `line ${n}: expected JSON, got ${JSON.stringify(line.slice(0, 60))} (${(e as Error).message})`;
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    return `line ${n}: expected a JSON object, got ${JSON.stringify(row)?.slice(0, 60)}`;
  const r = row as Record<string, unknown>;
  // `result` is the name Math-Verify's own tests give the label; accepted as an alias of `expected`.
  const label = r.expected ?? r.result;
  if (typeof r.gold !== 'string' || typeof r.pred !== 'string')
    return `line ${n}: expected string fields gold and pred, got ${typeof r.gold} and ${typeof r.pred}`;
  if (label !== 0 && label !== 1 && label !== true && label !== false)
    return `line ${n}: expected field expected to be 1 or 0, got ${JSON.stringify(label)}`;
  if (r.kind !== undefined && !(ANSWER_KINDS as readonly unknown[]).includes(r.kind))
    return `line ${n}: expected kind to be one of ${ANSWER_KINDS.join(', ')}, got ${JSON.stringify(r.kind)}`;
  const c = { gold: r.gold, pred: r.pred, expected: label === 1 || label === true ? (1 as const) : (0 as const) };
  return r.kind === undefined ? c : { ...c, kind: r.kind as AnswerKind };
}

/**
 * Runs `equivalent` on every JSONL case (`gold`, `pred`, `expected` 1|0, optional `kind`), logs each
 * disagreement with its reason, and returns the summary. "unknown" counts as not equal (as the
 * pipeline reads it) and is also counted apart; a malformed line is logged and counts as a disagreement.
 */
export async function evalEquivalence(opts: {
  cases: string;
  json?: boolean;
  log?: (line: string) => void;
}): Promise<EvalSummary> {
  const log = opts.log ?? ((l: string) => console.log(l));
  let total = 0,
    agree = 0,
    disagree = 0,
    unknown = 0,
    n = 0;
  const lines = createInterface({ input: createReadStream(opts.cases, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    total++;
    const c = readCase(line, n);
    if (typeof c === 'string') {
      disagree++;
      log(opts.json ? JSON.stringify({ line: n, error: c }) : `malformed ${c}`);
      continue;
    }
    const v = equivalent(c.gold, c.pred, c.kind ? { kind: c.kind } : {});
    if (v.equal === 'unknown') unknown++;
    const said = v.equal === true ? 1 : 0;
    if (said === c.expected) {
      agree++;
      continue;
    }
    disagree++;
    const msg = {
      line: n,
      expected: c.expected,
      got: v.equal,
      reason: v.reason,
      gold: c.gold.slice(0, 80),
      pred: c.pred.slice(-80),
    };
    log(
      opts.json
        ? JSON.stringify(msg)
        : `line ${n}: expected ${c.expected}, got ${v.equal} (${v.reason}); gold ${JSON.stringify(msg.gold)} pred …${JSON.stringify(msg.pred)}`,
    );
  }
  return { agreement: total === 0 ? 0 : agree / total, total, disagree, unknown };
}
