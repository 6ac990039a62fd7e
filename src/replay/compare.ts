/** Bit-for-bit comparison of a replayed run's records with the original's: the first value that differs. */
import type { NamedWeight } from "../../graph/gnn/model.ts";
import type { StepRecord, TrainResult } from "../trainer/loop.ts";

export interface Divergence {
  readonly step: number;
  /** What differs, such as `loss`, `terms.pseudo.value`, `banks[0].size`, `weights.gcn/w0[17]`, `result.accuracy.test`. */
  readonly what: string;
  readonly original: unknown;
  readonly replayed: unknown;
}

export type Difference = Omit<Divergence, "step">;

export function firstDifference(original: StepRecord, replayed: StepRecord): Difference | undefined {
  if (!Object.is(original.loss, replayed.loss)) return { what: "loss", original: original.loss, replayed: replayed.loss };
  for (const key of ["train", "val"] as const) {
    if (!Object.is(original.accuracy[key], replayed.accuracy[key])) return { what: `accuracy.${key}`, original: original.accuracy[key], replayed: replayed.accuracy[key] };
  }
  const names = new Set([...Object.keys(original.terms), ...Object.keys(replayed.terms)]);
  for (const name of names) {
    const [a, b] = [original.terms[name], replayed.terms[name]];
    if (!a || !b) return { what: `terms.${name}`, original: a, replayed: b };
    if (a.size !== b.size) return { what: `terms.${name}.size`, original: a.size, replayed: b.size };
    if (!Object.is(a.value, b.value)) return { what: `terms.${name}.value`, original: a.value, replayed: b.value };
  }
  if (original.banks.length !== replayed.banks.length) return { what: "banks", original: original.banks.length, replayed: replayed.banks.length };
  for (let i = 0; i < original.banks.length; i++) {
    const [a, b] = [original.banks[i]!, replayed.banks[i]!];
    // JSON turned the empty bank's ±Infinity steps into null.
    const steps = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
    for (const key of ["size", "minStep", "maxStep"] as const) {
      if (steps(a[key]) !== steps(b[key])) return { what: `banks[${i}].${key} (${a.bank})`, original: a[key], replayed: b[key] };
    }
    if (a.position.historyOffsets.join() !== b.position.historyOffsets.join()) return { what: `banks[${i}].historyOffsets (${a.bank})`, original: a.position.historyOffsets, replayed: b.position.historyOffsets };
  }
  return undefined;
}

export function weightsDifference(original: readonly NamedWeight[], replayed: readonly NamedWeight[]): Difference | undefined {
  if (original.length !== replayed.length) return { what: "weights", original: original.length, replayed: replayed.length };
  for (let w = 0; w < original.length; w++) {
    const [a, b] = [original[w]!, replayed[w]!];
    if (a.name !== b.name || a.values.length !== b.values.length) return { what: `weights[${w}]`, original: a.name, replayed: b.name };
    for (let i = 0; i < a.values.length; i++) {
      if (!Object.is(a.values[i], b.values[i])) return { what: `weights.${a.name}[${i}]`, original: a.values[i], replayed: b.values[i] };
    }
  }
  return undefined;
}

export function resultDifference(original: TrainResult, replayed: TrainResult): Difference | undefined {
  if (original.steps !== replayed.steps) return { what: "result.steps", original: original.steps, replayed: replayed.steps };
  if (original.bestStep !== replayed.bestStep) return { what: "result.bestStep", original: original.bestStep, replayed: replayed.bestStep };
  for (const key of ["train", "val", "test"] as const) {
    if (!Object.is(original.accuracy[key], replayed.accuracy[key])) return { what: `result.accuracy.${key}`, original: original.accuracy[key], replayed: replayed.accuracy[key] };
  }
  return undefined;
}
