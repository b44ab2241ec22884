import { evalEquivalence } from './pipeline/commands/eval-equivalence.ts';
for (const f of ['hendrycks_math_cases.jsonl', 'math_verify_cases.jsonl']) {
  const s = await evalEquivalence({ cases: '/work/shared/data/answer-equivalence/' + f });
  console.log(JSON.stringify(s));
}
