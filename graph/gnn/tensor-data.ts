/**
 * A float32 tensor's values read and written where the backend keeps them. On the wasm backend
 * tfjs's `dataSync()` copies a tensor out of the module's heap into a new ArrayBuffer and
 * `tf.tensor(values)` copies a new array in; the sparse products, dropout masks and losses did
 * both every step (~4 MB of short-lived buffers a step on Cora). V8 counts such buffers as
 * external memory and answers them with frequent full collections, whose concurrent marking took
 * the other core from a second training or replay thread. Here the wasm heap is read and written
 * in place; other backends take the plain path.
 */
import * as tf from "./tf.ts";

/** The parts of tfjs-backend-wasm's BackendWasm used here (its own typings pull in the DOM library). */
interface HeapBackend {
  readonly dataIdMap: { has(dataId: object): boolean };
  makeOutput(shape: readonly number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

function heapBackend(): HeapBackend | undefined {
  const backend = tf.engine().backend as unknown as Partial<HeapBackend>;
  return typeof backend.typedArrayFromHeap === "function" && typeof backend.makeOutput === "function" && backend.dataIdMap ? (backend as HeapBackend) : undefined;
}

/**
 * The values of a float32 tensor, without a copy where the backend allows it. Read them at once
 * and do not write them: on wasm they are a view of the heap, valid until the next tensor is made.
 */
export function floatsOf(t: tf.Tensor): Float32Array {
  if (t.dtype !== "float32") throw new Error(`floatsOf: expected a float32 tensor, got ${t.dtype}`);
  const backend = heapBackend();
  return backend?.dataIdMap.has(t.dataId) ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/** A new float32 tensor of `shape` whose values `fill` writes, every one of them (on wasm they start as whatever the heap held). */
export function tensorOf<R extends tf.Rank>(shape: tf.ShapeMap[R], fill: (values: Float32Array) => void): tf.Tensor<R> {
  const backend = heapBackend();
  if (!backend) {
    const values = new Float32Array(shape.reduce((n: number, d: number) => n * d, 1));
    fill(values);
    return tf.tensor(values, shape) as tf.Tensor<R>;
  }
  const info = backend.makeOutput(shape, "float32");
  try {
    fill(backend.typedArrayFromHeap(info));
  } catch (error) {
    // Not a tensor yet, so no tidy or dispose would free it.
    backend.disposeData(info.dataId);
    throw error;
  }
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}
