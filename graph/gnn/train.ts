/** One optimisation step at a time, for a trainer that drives the loop itself. */
import * as tf from "./tf.ts";
import { tensorOf } from "./tensor-data.ts";
import type { Model } from "./model.ts";

/** Labelled output rows of one step: labels[i] is the class of output row i. */
export interface Batch<I> {
  readonly inputs: I;
  readonly labels: Int32Array;
  /** Which output rows count (1) and which do not (0); all rows when absent. */
  readonly mask?: Float32Array;
}

/** Adam with TensorFlow's defaults (β1 0.9, β2 0.999, ε 1e-8), as in the GCN and GraphSAGE papers' code. */
export function adam(learningRate: number): tf.Optimizer {
  return tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
}

/**
 * Mean softmax cross-entropy over the rows the mask keeps. Built from a one-hot target scaled by the
 * mask (not a gather of the kept rows): the gradient of gather needs a kernel wasm lacks.
 */
export function maskedSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, mask?: Float32Array): tf.Scalar {
  const [rows, classes] = logits.shape;
  if (labels.length !== rows) throw new Error(`loss: ${rows} output rows but ${labels.length} labels`);
  let kept = 0;
  for (let i = 0; i < rows; i++) kept += mask ? mask[i]! : 1;
  if (kept === 0) throw new Error("loss: the mask keeps no rows");
  for (let i = 0; i < rows; i++) {
    const label = labels[i]!;
    if ((mask ? mask[i]! : 1) !== 0 && !(label >= 0 && label < classes)) throw new Error(`loss: label ${label} of row ${i} is not a class in 0..${classes - 1}`);
  }
  const target = tensorOf<tf.Rank.R2>([rows, classes], (target) => {
    target.fill(0);
    for (let i = 0; i < rows; i++) {
      const w = mask ? mask[i]! : 1;
      if (w !== 0) target[i * classes + labels[i]!] = w / kept;
    }
  });
  return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)))) as tf.Scalar;
}

/** Training loss of one batch: cross-entropy plus the model's weight decay. */
export function loss<I>(model: Model<I>, batch: Batch<I>, training: boolean): tf.Scalar {
  return tf.tidy(() => tf.add(maskedSoftmaxCrossEntropy(model.forward(batch.inputs, { training }), batch.labels, batch.mask), model.regularization()) as tf.Scalar);
}

/** One gradient step on `batch`; returns the loss before the update. */
export function trainStep<I>(model: Model<I>, optimizer: tf.Optimizer, batch: Batch<I>): number {
  const cost = optimizer.minimize(() => loss(model, batch, true), true, model.variables as tf.Variable[]);
  const value = cost!.dataSync()[0]!;
  cost!.dispose();
  return value;
}

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number;
}

/** Loss (with weight decay, as Kipf's early stopping uses it) and accuracy on the masked rows, without dropout. */
export function evaluate<I>(model: Model<I>, batch: Batch<I>): Evaluation {
  return tf.tidy(() => {
    const logits = model.forward(batch.inputs, { training: false });
    const value = tf.add(maskedSoftmaxCrossEntropy(logits, batch.labels, batch.mask), model.regularization()).dataSync()[0]!;
    return { loss: value, accuracy: accuracy(tf.argMax(logits, 1).dataSync() as Int32Array, batch.labels, batch.mask) };
  });
}

/** Fraction of masked rows whose predicted class equals the label. */
export function accuracy(predicted: Int32Array, labels: Int32Array, mask?: Float32Array): number {
  let hits = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    if (mask && mask[i] === 0) continue;
    total++;
    if (predicted[i] === labels[i]) hits++;
  }
  return total === 0 ? 0 : hits / total;
}
