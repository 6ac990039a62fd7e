import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { initBackend } from "../graph/gnn/backend.ts";
import * as tf from "../graph/gnn/tf.ts";
import { core } from "../graph/gnn/tf-core.ts";

const nativeInstalled = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"].some((pkg) => {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
});

/** Runs `f` with stderr captured. */
async function capturingStderr<T>(f: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await f(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

test("the default order picks native TensorFlow if installed, else wasm, and says so once", async () => {
  delete process.env.CARLS_TF_BACKEND;
  const { value: info, stderr } = await capturingStderr(() => initBackend());
  assert.equal(info.name, nativeInstalled ? "tensorflow" : "wasm");
  assert.equal(tf.getBackend(), info.name);
  assert.equal(info.forced, false);
  if (!nativeInstalled) assert.match(stderr, /^carls: tfjs backend wasm \(tfjs-node-gpu not installed, tfjs-node not installed\)\n$/);
  const again = await capturingStderr(() => initBackend());
  assert.equal(again.value, info, "a second call returns the same result");
  assert.equal(again.stderr, "", "and logs nothing");
});

test("CARLS_TF_BACKEND forces a backend, and an unknown value is refused", async () => {
  process.env.CARLS_TF_BACKEND = "cpu";
  try {
    const { value: info } = await capturingStderr(() => initBackend());
    assert.equal(info.name, "cpu");
    assert.equal(info.forced, true);
    assert.equal(tf.getBackend(), "cpu");
    process.env.CARLS_TF_BACKEND = "webgpu";
    assert.throws(() => initBackend(), /CARLS_TF_BACKEND=webgpu .*tensorflow, wasm, cpu/);
  } finally {
    delete process.env.CARLS_TF_BACKEND;
  }
});

test("forcing native TensorFlow without tfjs-node names it and what is installed", { skip: nativeInstalled && "tfjs-node is installed" }, async () => {
  await assert.rejects(
    capturingStderr(() => initBackend("tensorflow")),
    /tfjs backend "tensorflow" was requested but is not available: tfjs-node-gpu not installed, tfjs-node not installed\. Available here: wasm, cpu/,
  );
  const { value: info } = await capturingStderr(() => initBackend("wasm"));
  assert.equal(info.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
});

test("the tf that graph/gnn/index.ts offers is all of tfjs-core, the instance carls uses, with carls' gradients", async () => {
  const { tf: offered } = await import("../graph/gnn/index.ts");
  const required = createRequire(import.meta.url)("@tensorflow/tfjs-core") as typeof offered;
  assert.equal(offered.concat, required.concat, "a value carls itself does not use");
  assert.equal(offered.memory, required.memory);
  assert.equal(offered.tensor2d, tf.tensor2d, "one tfjs-core, whichever way it was loaded");
  assert.ok(offered.getGradient("BatchMatMul") !== undefined, "carls' gradients are registered on it");
});

test("on wasm a clone (what tfjs makes of every tensor a gradient saves) shares its data, and outlives the original", async () => {
  await capturingStderr(() => initBackend("wasm"));
  const buffersBefore = core.memory().numDataBuffers;
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const y = core.clone(x);
  assert.equal(core.memory().numDataBuffers - buffersBefore, 1, "no second copy of the data");
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3, 4]);
  y.dispose();
  assert.equal(core.memory().numDataBuffers, buffersBefore);
  // The gradient that saves them still sees the values it saved.
  const w = core.variable(tf.tensor2d([1, -1, 2, 0.5], [2, 2]));
  const grads = core.variableGrads(() => tf.sum(tf.mul(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), w), tf.tensor2d([1, 0, 0, 1], [2, 2]))) as tf.Scalar, [w]);
  assert.deepEqual([...grads.grads[w.name]!.dataSync()], [1, 3, 2, 4]);
  w.dispose();
});
