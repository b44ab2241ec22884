/** @module bench/shared  Files of ../shared/data (beside the repository) that benchmarks read; never copied into the repo. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of a file under ../shared/data, or null when it is not there (a clone without the shared data). */
export function sharedDataPath(...parts: string[]): string | null {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const file = resolve(root, '..', 'shared', 'data', ...parts);
  return existsSync(file) ? file : null;
}
