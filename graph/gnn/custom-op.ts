/**
 * Custom-gradient ops made once. `tf.customGrad(f)` returns a new function each time it is called;
 * calling a new function from the same place on every step can deoptimise the caller on every
 * call once V8 has optimised it for one of them ("wrong call target": seen 98 times in one trainer
 * run, graph regularisation's checks then running unoptimised). An op made here is one function,
 * and takes what varies per call as `args`.
 */
import * as tf from "./tf.ts";

/** What a custom op's forward returns: its value and the gradient with respect to its input. */
export interface CustomOpResult<T extends tf.Tensor> {
  readonly value: T;
  readonly gradFunc: (dy: T) => tf.Tensor;
}

export function customOp<A, T extends tf.Tensor>(forward: (input: tf.Tensor, args: A) => CustomOpResult<T>): (input: tf.Tensor, args: A) => T {
  let pending: { args: A } | undefined;
  const op = tf.customGrad((...inputs) => forward(inputs[0] as tf.Tensor, pending!.args));
  return (input, args) => {
    pending = { args };
    try {
      return op(input) as T;
    } finally {
      pending = undefined;
    }
  };
}
