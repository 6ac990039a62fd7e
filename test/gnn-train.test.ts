import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { before, test } from "node:test";
import { initBackend } from "../graph/gnn/backend.ts";
import { gcn } from "../graph/gnn/gcn.ts";
import { mlp } from "../graph/gnn/mlp.ts";
import type { Features } from "../graph/gnn/layers.ts";
import { loadPlanetoidCsv } from "../graph/gnn/planetoid-csv.ts";
import { sage } from "../graph/gnn/sage.ts";
import { csrGraph, fullBatchAdjacency, graphEdges, NeighborSampler, type CsrGraph } from "../graph/gnn/sampler.ts";
import { meanAdjacency, rowNormalize, selectRows, type SparseMatrix } from "../graph/gnn/sparse.ts";
import { syntheticGraph } from "../graph/gnn/synthetic.ts";
import * as tf from "../graph/gnn/tf.ts";
import { adam, evaluate, trainStep } from "../graph/gnn/train.ts";

const CORA = process.env.CARLS_CORA_DIR ?? "/work/shared/datasets/cora";

interface Dataset {
  name: string;
  graph: CsrGraph;
  features: Features;
  labels: Int32Array;
  classes: number;
  train: Int32Array;
  test: Int32Array;
}

/** Cora with the Planetoid split when the shared datasets are present, else a small synthetic graph. */
function dataset(): Dataset {
  if (existsSync(CORA)) {
    const d = loadPlanetoidCsv(CORA);
    return { name: "cora", graph: csrGraph(d.edges, d.numNodes), features: rowNormalize(d.features), labels: d.labels, classes: d.numClasses, train: d.split.train, test: d.split.test };
  }
  const s = syntheticGraph({ numNodes: 1500, classes: 5, avgDegree: 6, featureDim: 32, seed: 1, noise: 6 });
  const ids = Int32Array.from({ length: 1500 }, (_, i) => i);
  return { name: "synthetic", graph: s.graph, features: tf.tensor2d(s.features, [1500, 32]), labels: s.labels, classes: 5, train: ids.subarray(0, 100), test: ids.subarray(500) };
}

const maskOf = (ids: Int32Array, n: number): Float32Array => {
  const m = new Float32Array(n);
  for (const i of ids) m[i] = 1;
  return m;
};

let data: Dataset;
let adjacency: SparseMatrix;
before(async () => {
  await initBackend("wasm");
  data = dataset();
  adjacency = fullBatchAdjacency(data.graph);
});

test("GCN trains to a sane test accuracy in 100 full-batch epochs on wasm", () => {
  const n = data.labels.length;
  const model = gcn({ inputDim: data.features.shape[1], hiddenDim: 16, classes: data.classes, seed: 0 });
  const optimizer = adam(0.01);
  const inputs = { features: data.features, adjacency };
  const train = { inputs, labels: data.labels, mask: maskOf(data.train, n) };
  const first = trainStep(model, optimizer, train);
  let last = first;
  for (let epoch = 1; epoch < 100; epoch++) last = trainStep(model, optimizer, train);
  const { accuracy } = evaluate(model, { inputs, labels: data.labels, mask: maskOf(data.test, n) });
  assert.ok(last < first / 2, `training loss fell from ${first} to ${last}`);
  assert.ok(accuracy > 0.7, `${data.name} test accuracy ${accuracy}`);
  assert.deepEqual(model.embed(inputs).shape, [n, 16]);
  const probs = model.predict(inputs);
  assert.deepEqual(probs.shape, [n, data.classes]);
  assert.ok(Math.abs(tf.sum(probs).dataSync()[0]! - n) < 1e-2, "predict gives probabilities");
});

test("GraphSAGE trains on sampled minibatches and infers on the full graph", () => {
  const n = data.labels.length;
  const model = sage({ inputDim: data.features.shape[1], hiddenDim: 16, classes: data.classes, seed: 0 });
  const optimizer = adam(0.01);
  const sampler = new NeighborSampler(data.graph, [10, 5], 0);
  const rows = (ids: Int32Array): Features => (data.features instanceof tf.Tensor ? tf.gather(data.features, ids) : selectRows(data.features as SparseMatrix, ids));
  for (let epoch = 0; epoch < 60; epoch++) {
    const { nodes, blocks } = sampler.sample(data.train);
    const features = rows(nodes[0]!);
    trainStep(model, optimizer, { inputs: { features, blocks }, labels: Int32Array.from(data.train, (v) => data.labels[v]!) });
    if (features instanceof tf.Tensor) features.dispose();
  }
  const mean = meanAdjacency(graphEdges(data.graph), n);
  const { accuracy } = evaluate(model, { inputs: { features: data.features, blocks: [mean, mean] }, labels: data.labels, mask: maskOf(data.test, n) });
  assert.ok(accuracy > 0.7, `${data.name} test accuracy ${accuracy}`);
});

test("the same seed gives the same run; another seed does not", () => {
  const n = data.labels.length;
  const inputs = { features: data.features, adjacency };
  const run = (seed: number): number[] => {
    const model = gcn({ inputDim: data.features.shape[1], hiddenDim: 8, classes: data.classes, seed });
    const optimizer = adam(0.01);
    const losses = Array.from({ length: 5 }, () => trainStep(model, optimizer, { inputs, labels: data.labels, mask: maskOf(data.train, n) }));
    model.dispose();
    return losses;
  };
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});

test("weights round-trip through plain arrays, and a wrong shape is refused", () => {
  const config = { inputDim: data.features.shape[1], hiddenDim: 8, classes: data.classes };
  const a = sage({ ...config, seed: 1 });
  const b = sage({ ...config, seed: 2 });
  const mean = meanAdjacency(graphEdges(data.graph), data.labels.length);
  const inputs = { features: data.features, blocks: [mean, mean] };
  assert.notDeepEqual(a.predict(inputs).dataSync(), b.predict(inputs).dataSync());
  const weights = a.getWeights();
  assert.deepEqual(weights.map((w) => w.name), ["sage/layer0/self", "sage/layer0/neigh", "sage/layer0/bias", "sage/layer1/self", "sage/layer1/neigh", "sage/layer1/bias"]);
  b.setWeights(weights);
  assert.deepEqual(b.predict(inputs).dataSync(), a.predict(inputs).dataSync());
  const wrong = weights.map((w, i) => (i === 0 ? { ...w, shape: [1, w.values.length] } : w));
  assert.throws(() => b.setWeights(wrong), /sage\/layer0\/self has shape/);
  const short = weights.map((w, i) => (i === 0 ? { ...w, values: w.values.subarray(1) } : w));
  assert.throws(() => b.setWeights(short), /sage\/layer0\/self has \d+ values, its shape \[\d+,\d+\] holds \d+/);
  assert.deepEqual(b.predict(inputs).dataSync(), a.predict(inputs).dataSync(), "a refused set changes nothing");
});

test("SAGE reads a feature table without copying rows and matches the tensor path", () => {
  const s = syntheticGraph({ numNodes: 300, classes: 3, avgDegree: 8, featureDim: 12, seed: 2 });
  const model = sage({ inputDim: 12, hiddenDim: 8, classes: 3, seed: 5 });
  const { nodes, blocks } = new NeighborSampler(s.graph, [4, 3], 1).sample(Int32Array.of(5, 17, 42, 99));
  const table = { table: s.features, dim: 12, ids: nodes[0]! };
  const dense = tf.gather(tf.tensor2d(s.features, [300, 12]), nodes[0]!) as tf.Tensor2D;
  const viaTable = model.forward({ features: table, blocks }, { training: false }).dataSync();
  const viaTensor = model.forward({ features: dense, blocks }, { training: false }).dataSync();
  for (let i = 0; i < viaTable.length; i++) assert.ok(Math.abs(viaTable[i]! - viaTensor[i]!) < 1e-4);
  assert.deepEqual(model.embed({ features: table, blocks }).shape, [4, 8]);
  const outside = { ...table, ids: Int32Array.from(table.ids, (id, i) => (i === 3 ? 300 : id)) };
  assert.throws(() => model.forward({ features: outside, blocks }, { training: false }), /sage: features.ids\[3\] = 300 is not a row of the 300-row feature table/);
});

test("the MLP computes chosen rows alone: the same logits as those rows of every node's, dense or sparse", () => {
  const s = syntheticGraph({ numNodes: 400, classes: 4, avgDegree: 4, featureDim: 24, seed: 3 });
  const dense = tf.tensor2d(s.features, [400, 24]);
  const sparse = denseToSparse(s.features, 24);
  const model = mlp({ inputDim: 24, hiddenDim: 16, classes: 4, seed: 9 });
  const rows = Int32Array.of(399, 0, 17, 17, 250);
  for (const features of [dense, sparse]) {
    const all = model.forward({ features }, { training: false }).arraySync();
    const subset = model.inputsOfRows!({ features }, rows);
    const some = model.forward(subset.inputs, { training: false }).arraySync();
    assert.deepEqual(some, Array.from(rows, (r) => all[r]));
    subset.dispose();
  }
  assert.throws(() => model.inputsOfRows!({ features: dense }, Int32Array.of(3, 400)), /mlp: row 400 is not one of the 400 rows of the features/);
  dense.dispose();
  model.dispose();
});

/** The non-zeros of a row-major dense matrix with `d` columns, as CSR. */
function denseToSparse(values: Float32Array, d: number): SparseMatrix {
  const rows = values.length / d;
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const kept: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) if (values[r * d + c] !== 0) (colIdx.push(c), kept.push(values[r * d + c]!));
    rowPtr[r + 1] = colIdx.length;
  }
  return { shape: [rows, d], rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(kept) };
}
