/** @module schemas/problems  Problems and their Auxiliary Reasoning Sets (TRACE.md "Objects"). */
import { t, table, type Infer, type Row } from './define.ts';

export const DOMAINS = ['math', 'physics', 'chemistry', 'other'] as const;
export const ANSWER_KINDS = ['number', 'expression', 'choice', 'quantity', 'formula', 'text'] as const;
export type Domain = (typeof DOMAINS)[number];
export type AnswerKind = (typeof ANSWER_KINDS)[number];
/** `data` problems are emitted; `calibration` problems (a config input marked `calibration: true`) only calibrate. */
export const PROBLEM_ROLES = ['data', 'calibration'] as const;
export type ProblemRole = (typeof PROBLEM_ROLES)[number];
/** The formats an input file may have (`auto`: by extension; the adapters are stages/ingest's). */
export const INPUT_FORMATS = [
  'auto',
  'jsonl',
  'parquet',
  'paths-jsonl',
  'paths-parquet',
  'gsm8k-socratic',
  'gsm8k-solutions',
  'processbench',
] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** How an answer is compared: kind, relative tolerance (null = engine default), unit. */
export const answerSpec = t.struct({
  kind: t.enum(ANSWER_KINDS),
  tolerance: t.nullable(t.double()),
  unit: t.nullable(t.string()),
});
export type AnswerSpec = Infer<typeof answerSpec>;

export const defaultSpec = (): AnswerSpec => ({ kind: 'number', tolerance: null, unit: null });

/** The fields a problem has in the input and in the `problems` table. */
const problemFields = {
  problem_id: t.text(),
  domain: t.enum(DOMAINS),
  question: t.text(),
  images: t.withDefault(t.list(t.string()), () => []),
  choices: t.withDefault(t.list(t.string()), () => []),
  answer: t.nullable(t.answer()),
  answer_spec: t.withDefault(answerSpec, defaultSpec),
};

export const problems = table('problems', {
  ...problemFields,
  /** Where the row came from: `file:line` or adapter name. */
  source: t.string(),
  /** Content hash of the problem (question, images, answer, ARS); the shard key. */
  content_hash: t.string(),
  /** `calibration` when the problem's input is marked `calibration: true` (set by ingest); absent or null = `data`. Emit skips calibration problems. */
  role: t.nullable(t.enum(PROBLEM_ROLES)),
});
export type Problem = Row<typeof problems>;

/** One ARS node; the final node `F` (the original question) is stored too, last in order. */
export const arsNodes = table('ars_nodes', {
  problem_id: t.text(),
  node_id: t.text(),
  /** Position in the topological order (ties by declared order); `F` is last. */
  position: t.int(),
  question: t.string(),
  depends_on: t.withDefault(t.list(t.string()), () => []),
  answer: t.nullable(t.answer()),
  answer_spec: t.withDefault(answerSpec, defaultSpec),
  uses_image: t.withDefault(t.bool(), () => false),
  is_final: t.bool(),
});
export type ArsNode = Row<typeof arsNodes>;

/** The project's own input format: a problem with an optional ARS (JSONL line or Parquet row). */
export const problemInput = table('problem_input', {
  ...problemFields,
  ars: t.withDefault(
    t.list(
      t.struct({
        node_id: t.text(),
        question: t.text(),
        depends_on: t.withDefault(t.list(t.string()), () => []),
        answer: t.nullable(t.answer()),
        answer_spec: t.withDefault(answerSpec, defaultSpec),
        uses_image: t.withDefault(t.bool(), () => false),
      }),
    ),
    () => [],
  ),
});
export type ProblemInput = Row<typeof problemInput>;
