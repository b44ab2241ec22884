/** @module sim/templates/types  What a synth problem template declares: givens, question, and one formula per ARS node. */
import type { Domain } from '../../schemas/problems.ts';
import type { Rng } from '../rng.ts';

export type NodeId = 'Q1' | 'Q2' | 'Q3' | 'Q4' | 'Q5' | 'Q6';
/** Values a formula reads: the problem's givens and the values of earlier nodes. */
export type Vals<G extends string> = Readonly<Record<G | NodeId, number>>;

/** One step of the solution: a formula over givens and the declared parent nodes. */
export interface StepDef {
  /** Noun phrase naming the quantity, e.g. `the combined rate`. */
  what: string;
  unit: string | null;
  /** Parent nodes; a formula may read only these and the givens. */
  deps: readonly NodeId[];
  fn(v: Readonly<Record<string, number>>): number;
  /** The computation as a person writes it, e.g. `120 / 4`. */
  show(v: Readonly<Record<string, number>>): string;
}

/** A step as a template writes it: `[what, unit, deps, formula, shown computation]`. */
export type StepTuple<G extends string> = readonly [
  what: string,
  unit: string | null,
  deps: readonly NodeId[],
  fn: (v: Vals<G>) => number,
  show: (v: Vals<G>) => string,
];

export interface Template {
  name: string;
  domain: Domain;
  givens(r: Rng): Record<string, number>;
  question(g: Readonly<Record<string, number>>): string;
  /** Intermediate nodes Q1..Qn in a topological order (deps point only to earlier nodes). */
  nodes: readonly StepDef[];
  /** The problem's own question, computed from the sinks (and possibly other nodes). */
  final: StepDef;
}

interface TemplateSource<G extends string> {
  name: string;
  domain: Domain;
  givens(r: Rng): Record<G, number>;
  question(g: Record<G, number>): string;
  nodes: ReadonlyArray<StepTuple<G>>;
  final: StepTuple<G>;
}

const toStep = <G extends string>([what, unit, deps, fn, show]: StepTuple<G>): StepDef => ({
  what,
  unit,
  deps,
  fn: fn as StepDef['fn'],
  show: show as StepDef['show'],
});

/** Declares a template; the given names type the formulas. */
export function template<const G extends string>(t: TemplateSource<G>): Template {
  return {
    name: t.name,
    domain: t.domain,
    givens: t.givens,
    question: t.question as Template['question'],
    nodes: t.nodes.map(toStep),
    final: toStep(t.final),
  };
}
