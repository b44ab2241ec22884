import { readFileSync } from 'node:fs';
import { extractAnswer } from './pipeline/equivalence/extract.ts';
const lines = readFileSync('/work/shared/data/answer-equivalence/math_verify_cases.jsonl','utf8').split('\n');
for (const n of process.argv.slice(2).map(Number)) { const r = JSON.parse(lines[n-1]!); console.log(n, JSON.stringify(extractAnswer(r.gold)), JSON.stringify(extractAnswer(r.pred)), JSON.stringify(r.pred.slice(-300))); }
