/**
 * Gradients of the kernels the GNN models differentiate through. tfjs-core's CommonJS build (the
 * one Node loads) ships no gradient registrations: the @tensorflow/tfjs union package adds them,
 * and carls depends on core only. These follow tfjs-core's own definitions (Apache-2.0). A kernel
 * that already has a gradient (e.g. the union package is loaded too) is left alone.
 */
import type * as T from "@tensorflow/tfjs-core";
import { core as tf } from "./tf-core.ts";

const { assertAndGetBroadcastShape, getReductionAxes } = tf.broadcast_util;

/** Sums a broadcast gradient back down to the input's shape. */
function unbroadcast(grad: T.Tensor, shape: number[], outShape: number[]): T.Tensor {
  const axes = getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(grad, axes) : grad, shape);
}

const configs: T.GradConfig[] = [
  {
    // Explicit transposes: the wasm backend's MatMul with a transpose flag measured 10-20x slower
    // than tf.transpose followed by a plain MatMul.
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [T.Tensor2D, T.Tensor2D];
      const g = dy as T.Tensor2D;
      const { transposeA, transposeB } = attrs as unknown as T.BatchMatMulAttrs;
      const t = tf.transpose;
      if (!transposeA && !transposeB) return { a: () => tf.matMul(g, t(b)), b: () => tf.matMul(t(a), g) };
      if (!transposeA) return { a: () => tf.matMul(g, b), b: () => tf.matMul(t(g), a) };
      if (!transposeB) return { a: () => tf.matMul(b, t(g)), b: () => tf.matMul(a, g) };
      return { a: () => tf.matMul(t(b), t(g)), b: () => tf.matMul(t(g), t(a)) };
    },
  },
  {
    kernelName: tf.Add,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [T.Tensor, T.Tensor];
      const out = assertAndGetBroadcastShape(a.shape, b.shape);
      return { a: () => unbroadcast(dy as T.Tensor, a.shape, out), b: () => unbroadcast(dy as T.Tensor, b.shape, out) };
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [T.Tensor, T.Tensor];
      const out = assertAndGetBroadcastShape(a.shape, b.shape);
      return { a: () => unbroadcast(dy as T.Tensor, a.shape, out), b: () => tf.neg(unbroadcast(dy as T.Tensor, b.shape, out)) };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [T.Tensor, T.Tensor];
      const out = assertAndGetBroadcastShape(a.shape, b.shape);
      return { a: () => unbroadcast(tf.mul(dy as T.Tensor, b), a.shape, out), b: () => unbroadcast(tf.mul(dy as T.Tensor, a), b.shape, out) };
    },
  },
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as T.Tensor) }) },
  {
    kernelName: tf.Sum,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [T.Tensor];
      const kept = x.shape.slice();
      for (const axis of tf.util.parseAxisParam((attrs as unknown as T.SumAttrs).axis, x.shape)) kept[axis] = 1;
      return { x: () => tf.mul(tf.reshape(dy as T.Tensor, kept), tf.ones(x.shape)) };
    },
  },
  {
    kernelName: tf.Relu,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T.Tensor, tf.step((saved as [T.Tensor])[0])) }),
  },
  {
    kernelName: tf.Square,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T.Tensor, tf.mul((saved as [T.Tensor])[0], 2)) }),
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as T.Tensor, (saved as [T.Tensor])[0].shape) }),
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [T.Tensor];
      const { begin, size } = attrs as unknown as T.SliceAttrs;
      const [start, length] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
      const paddings = x.shape.map((n, i): [number, number] => [start[i]!, n - start[i]! - length[i]!]);
      return { x: () => tf.pad(dy as T.Tensor, paddings) };
    },
  },
];

for (const config of configs) {
  if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
}
