/** Building blocks shared by the models: seeded initialisation, seeded dropout, dense-or-sparse products. */
import * as tf from "./tf.ts";
import { spmm, withValues, type SparseMatrix } from "./sparse.ts";
import type { Rng } from "./random.ts";
import { tensorOf } from "./tensor-data.ts";

/** Node features: a dense tensor or a sparse matrix (e.g. bag-of-words), one row per node. */
export type Features = tf.Tensor2D | SparseMatrix;

export function isSparse(x: Features): x is SparseMatrix {
  return !(x instanceof tf.Tensor);
}

/** Glorot/Xavier uniform initialisation drawn from `rng`. */
export function glorotVariable(rng: Rng, fanIn: number, fanOut: number): tf.Variable {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  rng.fillUniform(values, -limit, limit);
  return variableOf(tf.tensor2d(values, [fanIn, fanOut]));
}

export function zerosVariable(size: number): tf.Variable {
  return variableOf(tf.zeros([size]));
}

/** A variable holding `initial`'s values; `initial` itself is let go (the variable keeps the data by reference count). */
function variableOf(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial);
  initial.dispose();
  return variable;
}

/** x · W for dense or sparse x. */
export function project(x: Features, w: tf.Tensor2D): tf.Tensor2D {
  return isSparse(x) ? spmm(x, w) : tf.matMul(x, w);
}

/** Inverted dropout with a mask drawn from `rng`; a sparse input drops non-zeros only. */
export function dropout(x: Features, rate: number, rng: Rng): Features {
  if (rate <= 0) return x;
  const keep = 1 - rate;
  if (!isSparse(x)) return tf.mul(x, tensorOf<tf.Rank.R2>(x.shape, (mask) => rng.fillBernoulli(mask, keep, 1 / keep))) as tf.Tensor2D;
  const mask = new Float32Array(x.values.length);
  rng.fillBernoulli(mask, keep, 1 / keep);
  multiplyInPlace(mask, x.values);
  return withValues(x, mask);
}

/** mask ×= values, elementwise. A function of its own: see `scaleInPlace` in src/trainer/losses.ts for why. */
function multiplyInPlace(mask: Float32Array, values: Float32Array): void {
  for (let i = 0; i < mask.length; i++) mask[i]! *= values[i]!;
}

/** The first `n` rows. */
export function firstRows(x: Features, n: number): Features {
  if (n === x.shape[0]) return x;
  if (!isSparse(x)) return tf.slice(x, [0, 0], [n, x.shape[1]]);
  const rowPtr = x.rowPtr.subarray(0, n + 1);
  const end = rowPtr[n]!;
  return { shape: [n, x.shape[1]], rowPtr, colIdx: x.colIdx.subarray(0, end), values: x.values.subarray(0, end) };
}
