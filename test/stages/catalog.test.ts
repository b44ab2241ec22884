import { describe, it, expect } from 'vitest';
import { STAGE_CATALOG } from '../../stages/catalog.ts';
import { STAGES } from '../../stages/index.ts';

describe('stage catalog', () => {
  it("says what the stages' descriptors say, in their order (what --help lists without loading them)", () => {
    const entry = (s: (typeof STAGES)[number]) =>
      s.kind === 'problem'
        ? {
            kind: s.kind,
            name: s.name,
            describe: s.describe,
            ...(s.command !== undefined ? { command: s.command } : {}),
            reads: [...s.reads],
            writes: [...s.writes],
          }
        : {
            kind: s.kind,
            name: s.name,
            describe: s.describe,
            ...(s.command !== undefined ? { command: s.command } : {}),
            needs: [...s.needs],
          };
    expect(STAGE_CATALOG).toEqual(STAGES.map(entry));
  });
});
