import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { initBackend, type BackendName } from "../graph/gnn/backend.ts";
import { floatsOf, tensorOf } from "../graph/gnn/tensor-data.ts";
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
      assert.throws(() => floatsOf(tf.tensor1d([1, 2], "int32")), /expected a float32 tensor, got int32/);
      tf.dispose([x, y]);
    });

    test("tensors made after many in place keep their values (the heap may grow under them)", async () => {
      await initBackend(backend);
      const kept = Array.from({ length: 40 }, (_, k) => tensorOf([250_000], (values) => values.fill(k)));
      kept.forEach((t, k) => assert.equal(floatsOf(t)[249_999], k));
      tf.dispose(kept);
    });
  });
}

test("on wasm, floatsOf reads the heap without a copy and tensorOf writes into it", async () => {
  await initBackend("wasm");
  const x = tensorOf([3], (values) => values.set([1, 2, 3]));
  const view = floatsOf(x);
  assert.notEqual(view.buffer, x.dataSync().buffer);
  assert.equal(view.buffer.byteLength > view.byteLength, true, "a view into the module's heap, not an array of its own");
  assert.equal(floatsOf(x).byteOffset, view.byteOffset, "the same place each time");
  x.dispose();
});
