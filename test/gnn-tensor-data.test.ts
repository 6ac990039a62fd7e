import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { initBackend, type BackendName } from "../graph/gnn/backend.ts";
import { dropout } from "../graph/gnn/layers.ts";
import { Rng } from "../graph/gnn/random.ts";
import { csrTimesDenseScalar, fromCoo, spmm } from "../graph/gnn/sparse.ts";
import { floatsOf, tensorOf } from "../graph/gnn/tensor-data.ts";
import { maskedSoftmaxCrossEntropy } from "../graph/gnn/train.ts";
import * as tf from "../graph/gnn/tf.ts";

for (const backend of ["cpu", "wasm"] as BackendName[]) {
  describe(`tensor data in place on ${backend}`, () => {
    test("tensorOf makes the tensor its fill wrote, tracked like any other", async () => {
      assert.equal((await initBackend(backend)).name, backend);
      const before = tf.engine().memory().numTensors;
      const t = tensorOf<tf.Rank.R2>([2, 3], (values) => values.forEach((_, i) => (values[i] = i * 1.5 - 2)));
      assert.deepEqual(t.shape, [2, 3]);
      assert.deepEqual([...t.dataSync()], [-2, -0.5, 1, 2.5, 4, 5.5]);
      // Used by ops, and disposed by tidy and dispose as tensors the backend made are.
      const sum = tf.add(t, t);
      assert.deepEqual([...sum.dataSync()], [-4, -1, 2, 5, 8, 11]);
      tf.tidy(() => void tf.add(tensorOf([2, 3], (values) => values.fill(7)), t));
      assert.equal(tf.engine().memory().numTensors, before + 2);
      tf.dispose([t, sum]);
      assert.equal(tf.engine().memory().numTensors, before);
    });

    test("floatsOf reads a tensor's values, also one an op made", async () => {
      await initBackend(backend);
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const y = tf.mul(x, 2);
      assert.deepEqual([...floatsOf(x)], [1, 2, 3, 4, 5, 6]);
      assert.deepEqual([...floatsOf(y)], [2, 4, 6, 8, 10, 12]);
      const ints = tf.tensor1d([1, 2], "int32");
      assert.throws(() => floatsOf(ints), /expected a float32 tensor, got int32/);
      tf.dispose([x, y, ints]);
    });

    test("a fill that throws leaves no tensor and no memory behind", async () => {
      await initBackend(backend);
      const tensors = tf.engine().memory().numTensors;
      const bytes = tf.engine().memory().numBytes;
      const heap = backend === "wasm" ? wasmHeap().byteLength : 0;
      for (let i = 0; i < 50; i++) {
        assert.throws(() => tensorOf([1_000_000], () => {
          throw new Error("fill failed");
        }), /fill failed/);
      }
      assert.equal(tf.engine().memory().numTensors, tensors);
      assert.equal(tf.engine().memory().numBytes, bytes);
      // 50 leaked megabytes would have grown the module's memory.
      if (backend === "wasm") assert.ok(wasmHeap().byteLength < heap + 8e6, `the heap grew from ${heap} to ${wasmHeap().byteLength} bytes`);
    });

    test("tensors made after many in place keep their values (the heap may grow under them)", async () => {
      await initBackend(backend);
      const kept = Array.from({ length: 40 }, (_, k) => tensorOf([250_000], (values) => values.fill(k)));
      kept.forEach((t, k) => assert.equal(floatsOf(t)[249_999], k));
      tf.dispose(kept);
    });
  });
}

/** The wasm backend module's memory. */
const wasmHeap = (): ArrayBuffer => (tf.engine().backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer as ArrayBuffer;

test("on wasm, floatsOf reads the heap without a copy and tensorOf writes into it", async () => {
  await initBackend("wasm");
  const x = tensorOf([3], (values) => {
    assert.equal(values.buffer, wasmHeap(), "fill writes into the module's heap");
    values.set([1, 2, 3]);
  });
  const view = floatsOf(x);
  assert.equal(view.buffer, wasmHeap(), "a view of the module's heap, not an array of its own");
  view[1] = 20; // test only: floatsOf's callers read, never write
  assert.deepEqual([...x.dataSync()], [1, 20, 3]);
  x.dispose();
});

test("on wasm, memory freed with other values in it does not leak into new tensors", async () => {
  await initBackend("wasm");
  const expected = () => {
    const labels = Int32Array.of(2, 0, 1, 1);
    const logits = tf.tensor2d([0.5, -1, 2, 1, 0, -0.5, 0.25, 0.75, -2, 3, 1, 0], [4, 3]);
    const loss = maskedSoftmaxCrossEntropy(logits, labels, Float32Array.of(1, 0, 1, 1));
    const dropped = dropout(tf.ones([64, 8]) as tf.Tensor2D, 0.5, new Rng(3)) as tf.Tensor2D;
    const a = fromCoo({ row: [0, 1, 1, 2], col: [1, 0, 2, 2], values: [1, 2, 3, 4] }, [3, 3]);
    const product = spmm(a, tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]));
    const values = [...loss.dataSync(), ...dropped.dataSync(), ...product.dataSync()];
    tf.dispose([logits, loss, dropped, product]);
    return values;
  };
  const clean = expected();
  // Fill freed blocks with NaN: malloc hands them out again as they are.
  for (let i = 0; i < 20; i++) tf.dispose(tensorOf([1024 * (i + 1)], (values) => values.fill(NaN)));
  assert.deepEqual(expected(), clean);
});

test("on wasm, a sparse product whose output grows the heap reads its operand after it has moved", async () => {
  await initBackend("wasm");
  const rng = new Rng(5);
  const rows = 40_000;
  const d = 200;
  const row = Int32Array.from({ length: 3 * rows }, (_, i) => i % rows);
  const col = Int32Array.from({ length: 3 * rows }, () => rng.int(500));
  const a = fromCoo({ row, col, values: Float32Array.from({ length: row.length }, () => rng.float() - 0.5) }, [rows, 500]);
  const x = tf.randomNormal([500, d], 0, 1, "float32", 9) as tf.Tensor2D;
  const before = wasmHeap().byteLength;
  const product = spmm(a, x);
  assert.ok(wasmHeap().byteLength > before, "the product's 32 MB grew the heap");
  assert.deepEqual(product.dataSync(), csrTimesDenseScalar(a, x.dataSync() as Float32Array, d));
  tf.dispose([x, product]);
});
