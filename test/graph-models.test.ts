import assert from "node:assert/strict";
import { before, test } from "node:test";
import { initBackend } from "../graph/gnn/backend.ts";
import * as tf from "../graph/gnn/tf.ts";
import { isSparse } from "../graph/gnn/layers.ts";
import type { SparseMatrix } from "../graph/gnn/sparse.ts";
import { buildModel, graphInputs, type ModelSpec } from "../graph/models.ts";
import { trainNodeClassifier } from "../graph/node-classifier.ts";
import type { GraphStore } from "../graph/store/graph-store.ts";

before(() => initBackend());

/** A store that only has features, which is all an MLP's inputs need. */
const storeOf = (rows: number, cols: number, data: Float32Array) => ({ numNodes: rows, features: () => ({ dim: cols, data }) }) as unknown as GraphStore;

/** The features as the model reads them: row-normalised when every value is ≥ 0, in float32. */
function expected(data: Float32Array, rows: number, cols: number): Float32Array {
  const normalize = data.every((x) => x >= 0);
  const out = data.slice(0, rows * cols);
  if (!normalize) return out;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += data[r * cols + c]!;
    for (let c = 0; c < cols; c++) out[r * cols + c] = sum === 0 ? 0 : data[r * cols + c]! / sum;
  }
  return out;
}

/** The sparse matrix as dense float32, and its stored entries' values. */
function densify(a: SparseMatrix): { dense: Float32Array; stored: number[] } {
  const dense = new Float32Array(a.shape[0] * a.shape[1]);
  for (let r = 0; r < a.shape[0]; r++) for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) dense[r * a.shape[1] + a.colIdx[p]!] = a.values[p]!;
  return { dense, stored: Array.from(a.values) };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

test("sparse features are row-normalised bag-of-words, bit for bit, with no stored zeros", () => {
  const rows = 5;
  const cols = 40;
  const data = new Float32Array(rows * cols);
  data.set([3, 0, 1], 0); // row 0: 3, 1 → 0.75, 0.25
  data[cols + 7] = 2; // row 1: one word
  // row 2: empty; row 3: a value too small to survive normalising beside a huge one
  data[3 * cols + 1] = 1e-40;
  data[3 * cols + 2] = 3e38;
  data[4 * cols + 39] = -0; // a negative zero is a zero
  const features = graphInputs(storeOf(rows, cols, data), "mlp").inputs as { features: SparseMatrix };
  assert.ok(isSparse(features.features));
  const { dense, stored } = densify(features.features);
  assert.deepEqual(bits(dense), bits(expected(data, rows, cols)));
  assert.deepEqual(stored, [0.75, 0.25, 1, 1]);
  assert.deepEqual(Array.from(features.features.rowPtr), [0, 2, 3, 3, 4, 4]);
});

test("signed sparse features are kept as they are; dense features stay a dense tensor", () => {
  const rows = 4;
  const cols = 30;
  const signed = new Float32Array(rows * cols);
  signed[2] = -1.5;
  signed[cols + 4] = 2;
  signed[3 * cols + 29] = NaN;
  const sparse = (graphInputs(storeOf(rows, cols, signed), "mlp").inputs as { features: SparseMatrix }).features;
  assert.ok(isSparse(sparse));
  assert.deepEqual(Array.from(sparse.values), [-1.5, 2, NaN]);
  assert.deepEqual(Array.from(sparse.colIdx), [2, 4, 29]);

  const full = Float32Array.from({ length: rows * cols }, (_, i) => (i % 3) + 1);
  const inputs = graphInputs(storeOf(rows, cols, full), "mlp");
  const features = (inputs.inputs as { features: unknown }).features;
  assert.ok(!isSparse(features as never));
  assert.deepEqual(bits((features as { dataSync(): Float32Array }).dataSync()), bits(expected(full, rows, cols)));
  inputs.dispose();
});

test("features exactly at the sparse threshold (a tenth non-zero) stay dense, as 0.1 × (rows × cols) rounds", () => {
  // (0.1 × 3) × 10 is 3.0000000000000004, 0.1 × 30 is 3: three non-zeros of 30 are not below a tenth.
  const rows = 3;
  const cols = 10;
  const data = new Float32Array(rows * cols);
  data[0] = 1;
  data[cols + 1] = 2;
  data[2 * cols + 2] = 3;
  const inputs = graphInputs(storeOf(rows, cols, data), "mlp");
  const features = (inputs.inputs as { features: unknown }).features;
  assert.ok(!isSparse(features as never), "dense at exactly a tenth");
  assert.deepEqual(bits((features as { dataSync(): Float32Array }).dataSync()), bits(expected(data, rows, cols)));
  inputs.dispose();
});

test("buildModel refuses a spec no model could be built from, naming the model and the setting, for every kind", () => {
  const good = { inputDim: 4, hiddenDim: 8, classes: 3, seed: 1 };
  const cases: [Partial<ModelSpec>, string][] = [
    [{ hiddenDim: -4 }, "hiddenDim must be a positive integer, got -4"],
    [{ hiddenDim: 2.5 }, "hiddenDim must be a positive integer, got 2.5"],
    [{ classes: 0 }, "classes must be a positive integer, got 0"],
    [{ inputDim: Number.NaN }, "inputDim must be a positive integer, got NaN"],
    [{ dropout: 1.5 }, "dropout must be in [0, 1), got 1.5"],
    [{ weightDecay: -1 }, "weightDecay must be a finite number ≥ 0, got -1"],
    [{ seed: Number.NaN }, "seed must be an integer, got NaN"],
    [{ seed: undefined as unknown as number }, "seed must be an integer, got undefined"],
  ];
  for (const kind of ["gcn", "sage", "mlp"] as const) {
    buildModel({ kind, ...good }).dispose();
    for (const [change, message] of cases) assert.throws(() => buildModel({ kind, ...good, ...change } as ModelSpec), { message: `${kind}: ${message}` });
  }
});

test("GCN and GraphSAGE name features of the wrong width, as the MLP does", () => {
  const spec = { inputDim: 4, hiddenDim: 8, classes: 3, seed: 1 };
  const gcn = buildModel({ kind: "gcn", ...spec });
  const sage = buildModel({ kind: "sage", ...spec });
  const features = tf.zeros([3, 5]) as tf.Tensor2D;
  try {
    assert.throws(() => gcn.forward({ features, adjacency: undefined as never }, { training: false }), { message: "gcn: features have 5 columns, the model expects 4" });
    assert.throws(() => sage.forward({ features, blocks: [undefined, undefined] as never }, { training: false }), { message: "sage: features have 5 columns, the model expects 4" });
    const rows = { table: new Float32Array(15), dim: 5, ids: Int32Array.of(0, 1) };
    assert.throws(() => sage.forward({ features: rows, blocks: [undefined, undefined] as never }, { training: false }), { message: "sage: features have 5 columns, the model expects 4" });
  } finally {
    features.dispose();
    gcn.dispose();
    sage.dispose();
  }
});

test("trainNodeClassifier names a bad option before it reads the graph", () => {
  const unread = {} as GraphStore;
  assert.throws(() => trainNodeClassifier(unread, { maxEpochs: -1 }), { message: "trainNodeClassifier: maxEpochs must be an integer ≥ 1, got -1" });
  assert.throws(() => trainNodeClassifier(unread, { maxEpochs: Number.NaN }), /maxEpochs must be an integer ≥ 1, got NaN/);
  assert.throws(() => trainNodeClassifier(unread, { learningRate: -1 }), { message: "trainNodeClassifier: learningRate must be a finite number > 0, got -1" });
  assert.throws(() => trainNodeClassifier(unread, { model: "gat" as "gcn" }), { message: 'trainNodeClassifier: model must be "sage", "gcn" or "mlp", got "gat"' });
});
