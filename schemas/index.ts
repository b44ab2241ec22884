/** @module schemas  Every table of a run, declared once. */
export * from './define.ts';
export * from './problems.ts';
export * from './paths.ts';
export * from './outputs.ts';
export * from './rejects.ts';
