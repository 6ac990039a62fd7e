import assert from "node:assert/strict";
import { before, test } from "node:test";
import { initBackend } from "../graph/gnn/backend.ts";
import { mlp } from "../graph/gnn/mlp.ts";
import { Rng } from "../graph/gnn/random.ts";
import { syntheticGraph } from "../graph/gnn/synthetic.ts";
import * as tf from "../graph/gnn/tf.ts";
import { adam, maskedSoftmaxCrossEntropy } from "../graph/gnn/train.ts";
import { stepsOf } from "../src/trainer/knowledge.ts";
import { bankTargets, graphRegularization, pseudoLabelLoss, type GraphDistance } from "../src/trainer/losses.ts";

before(async () => {
  await initBackend("wasm");
});

const rng = new Rng(7);
function random(n: number, lo = -2, hi = 2): Float32Array {
  const out = new Float32Array(n);
  rng.fillUniform(out, lo, hi);
  return out;
}

/** Row-wise softmax in plain JS. */
function softmaxRows(x: Float32Array, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += d) {
    const row = x.subarray(o, o + d);
    const max = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < d; c++) sum += (out[o + c] = Math.exp(row[c]! - max));
    for (let c = 0; c < d; c++) out[o + c]! /= sum;
  }
  return out;
}

const n = 6;
const d = 4;
const rows = Int32Array.of(0, 2, 2, 5, 3);
/** Pair k's neighbour value is row neighbours[k] of three value rows: rows 1 and 2 are shared by two pairs each. */
const neighbours = Int32Array.of(1, 0, 2, 1, 2);
const valueRows = 3;

test("each distance is 0 when the outputs equal the neighbour values", () => {
  const x = random(n * d);
  const outputs = tf.tensor2d(x, [n, d]);
  // Each pair's neighbour value is the value row of its own node.
  const same: Record<GraphDistance, Float32Array> = {
    kl: softmaxRows(x, d),
    "softmax-l2": softmaxRows(x, d),
    l2: x,
    // Cosine ignores the scale.
    cosine: x.map((v) => 3 * v),
  };
  for (const [distance, values] of Object.entries(same) as Array<[GraphDistance, Float32Array]>) {
    const loss = graphRegularization(outputs, { rows, neighbours: rows, values }, { distance }).dataSync()[0]!;
    assert.ok(Math.abs(loss) < 1e-6, `${distance}: ${loss}`);
    const other = graphRegularization(outputs, { rows, neighbours: rows, values: distance === "kl" || distance === "softmax-l2" ? softmaxRows(random(n * d), d) : random(n * d) }, { distance });
    assert.ok(other.dataSync()[0]! > 1e-3, `${distance} is positive for other values`);
  }
});

test("KL is the cross-entropy to the neighbour's distribution minus its entropy, weighted as documented", () => {
  const x = random(n * d);
  const q = softmaxRows(random(valueRows * d), d);
  const weights = Float32Array.of(1, 0.5, 2, 0, 1);
  const p = softmaxRows(x, d);
  let sum = 0;
  let wsum = 0;
  for (let k = 0; k < rows.length; k++) {
    let kl = 0;
    const v = neighbours[k]! * d;
    for (let c = 0; c < d; c++) kl += q[v + c]! * Math.log(q[v + c]! / p[rows[k]! * d + c]!);
    sum += weights[k]! * kl;
    wsum += weights[k]!;
  }
  const outputs = tf.tensor2d(x, [n, d]);
  const mean = graphRegularization(outputs, { rows, neighbours, values: q, weights }, { distance: "kl" }).dataSync()[0]!;
  const total = graphRegularization(outputs, { rows, neighbours, values: q, weights }, { distance: "kl", reduction: "sum" }).dataSync()[0]!;
  assert.ok(Math.abs(mean - sum / wsum) < 1e-5, `${mean} vs ${sum / wsum}`);
  assert.ok(Math.abs(total - sum) < 1e-5, `${total} vs ${sum}`);
  const empty = graphRegularization(outputs, { rows: new Int32Array(0), neighbours: new Int32Array(0), values: new Float32Array(0) }, { distance: "kl" });
  assert.equal(empty.dataSync()[0], 0);
});

test("gradients on wasm match finite differences, reach the outputs only, and leave untouched rows at 0", () => {
  assert.equal(tf.getBackend(), "wasm");
  const x = random(n * d);
  for (const distance of ["kl", "softmax-l2", "l2", "cosine"] as const) {
    const values = distance === "kl" || distance === "softmax-l2" ? softmaxRows(random(valueRows * d), d) : random(valueRows * d);
    const weights = Float32Array.of(1, 0.5, 2, 1, 0.25);
    const valuesBefore = Float32Array.from(values);
    const f = (t: tf.Tensor): tf.Scalar => graphRegularization(t as tf.Tensor2D, { rows, neighbours, values, weights }, { distance });
    const grad = tf.grad(f)(tf.tensor2d(x, [n, d])).dataSync();
    const at = (y: Float32Array): number => f(tf.tensor2d(y, [n, d])).dataSync()[0]!;
    for (let i = 0; i < n * d; i++) {
      const h = 1e-2;
      const up = Float32Array.from(x);
      const down = Float32Array.from(x);
      up[i]! += h;
      down[i]! -= h;
      const numeric = (at(up) - at(down)) / (2 * h);
      assert.ok(Math.abs(numeric - grad[i]!) < 2e-3 + 2e-2 * Math.abs(numeric), `${distance} d/dx[${i}]: analytic ${grad[i]} numeric ${numeric}`);
    }
    for (const untouched of [1, 4]) for (let c = 0; c < d; c++) assert.equal(grad[untouched * d + c], 0, `${distance}: row ${untouched} has no pair`);
    assert.deepEqual(values, valuesBefore, "the bank values are read, never written");
  }
});

test("the bank is a constant: gradients reach the model's weights but not the model that produced the bank", () => {
  const features = tf.tensor2d(random(n * 5, 0, 1), [n, 5]);
  const student = mlp({ inputDim: 5, hiddenDim: 3, classes: d, seed: 1, dropout: 0 });
  const teacher = mlp({ inputDim: 5, hiddenDim: 3, classes: d, seed: 2, dropout: 0 });
  const bank = teacher.predict({ features }).dataSync() as Float32Array;
  const { grads } = tf.variableGrads(() => {
    const logits = student.forward({ features }, { training: true });
    const all = Int32Array.from({ length: n }, (_, i) => i);
    const reg = graphRegularization(logits, { rows: all, neighbours: Int32Array.of(1, 2, 3, 4, 5, 0), values: bank }, { distance: "kl" });
    const pl = pseudoLabelLoss(logits, Int32Array.of(1, 4), Int32Array.of(0, 3));
    return tf.add(reg, pl) as tf.Scalar;
  }, [...student.variables, ...teacher.variables]);
  for (const v of student.variables) {
    const g = grads[v.name];
    assert.ok(g && tf.sum(tf.abs(g)).dataSync()[0]! > 0, `student ${v.name} gets a gradient`);
  }
  for (const v of teacher.variables) {
    const g = grads[v.name];
    assert.ok(!g || tf.sum(tf.abs(g)).dataSync()[0]! === 0, `teacher ${v.name} gets no gradient`);
  }
});

test("pseudoLabelLoss is the confidence-weighted cross-entropy on the given rows, with the softmax gradient", () => {
  const x = random(n * d);
  const plRows = Int32Array.of(1, 3, 3);
  const labels = Int32Array.of(2, 0, 1);
  const conf = Float32Array.of(0.9, 1, 0.5);
  const p = softmaxRows(x, d);
  let expected = 0;
  for (let k = 0; k < 3; k++) expected -= (conf[k]! * Math.log(p[plRows[k]! * d + labels[k]!]!)) / 3;
  const f = (t: tf.Tensor): tf.Scalar => pseudoLabelLoss(t as tf.Tensor2D, plRows, labels, conf);
  assert.ok(Math.abs(f(tf.tensor2d(x, [n, d])).dataSync()[0]! - expected) < 1e-5);
  const grad = tf.grad(f)(tf.tensor2d(x, [n, d])).dataSync();
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      let g = 0;
      for (let k = 0; k < 3; k++) if (plRows[k] === r) g += (conf[k]! * (p[r * d + c]! - (labels[k] === c ? 1 : 0))) / 3;
      assert.ok(Math.abs(grad[r * d + c]! - g) < 1e-5, `d/dx[${r},${c}]: ${grad[r * d + c]} vs ${g}`);
    }
  }
  assert.ok(pseudoLabelLoss(tf.tensor2d(x, [n, d]), new Int32Array(0), new Int32Array(0)).dataSync()[0] === 0);
});

test("wrong shapes and values are refused with messages that say what is wrong", () => {
  const outputs = tf.tensor2d(random(n * d), [n, d]);
  const q = softmaxRows(random(valueRows * d), d);
  const reg = (pairs: Parameters<typeof graphRegularization>[1], distance: GraphDistance = "kl") => () => graphRegularization(outputs, pairs, { distance });
  assert.throws(reg({ rows, neighbours, values: q.subarray(0, 10) }), /values has 10 numbers, not a whole number of rows of the output width \(4\)/);
  assert.throws(reg({ rows: Int32Array.of(0, 1, 2, 3, 6), neighbours, values: q }), /rows\[4\] = 6 is not a row of the outputs \(there are 6\)/);
  assert.throws(reg({ rows, neighbours: Int32Array.of(1, 0, 3, 1, 2), values: q }), /neighbours\[2\] = 3 is not a row of the values \(there are 3\)/);
  assert.throws(reg({ rows, neighbours: neighbours.subarray(0, 4), values: q }), /5 rows but 4 neighbours; expected one neighbour per pair/);
  assert.throws(reg({ rows, neighbours, values: q, weights: new Float32Array(3) }), /weights has 3 entries, expected one per pair \(5\)/);
  assert.throws(reg({ rows, neighbours, values: q, weights: Float32Array.of(1, 1, -1, 1, 1) }), /weights\[2\] = -1/);
  assert.throws(reg({ rows, neighbours, values: random(valueRows * d, 0, 1) }), /row 0 of the values sums to .*, not 1; this distance needs class probabilities/);
  assert.throws(reg({ rows, neighbours, values: Float32Array.from(q).fill(NaN, 5, 6) }, "l2"), /values\[5\] \(row 1\) is NaN/);
  assert.throws(() => graphRegularization(tf.tensor1d([1, 2]) as unknown as tf.Tensor2D, { rows: new Int32Array(0), neighbours: new Int32Array(0), values: new Float32Array(0) }, { distance: "l2" }), /outputs must be a rank-2 tensor \(nodes × width\), got shape \[2\]/);
  assert.throws(() => graphRegularization(outputs, { rows, neighbours, values: q }, { distance: "euclid" as GraphDistance }), /unknown distance "euclid"/);
  const none = { rows: new Int32Array(0), neighbours: new Int32Array(0), values: new Float32Array(0) };
  assert.equal(graphRegularization(tf.zeros([n, 0]) as tf.Tensor2D, none, { distance: "l2" }).dataSync()[0], 0, "outputs 0 wide, no pairs");
  // A knowledge term knows how wide its bank's rows are; the loss alone cannot tell 7-wide rows of 4 nodes from 4-wide rows of 7.
  const term = stepsOf({ kind: "graph", predictions: "predictions", weight: 1 }, () => ({ kind: "graph", rows, neighbours, values: softmaxRows(random(valueRows * 7), 7), classes: 7 }))(undefined as never)!;
  assert.throws(() => term.loss(tf.tensor2d(random(n * d), [n, d])), /graph term: bank predictions holds 7 classes per node, the model outputs 4/);
  assert.throws(() => pseudoLabelLoss(outputs, Int32Array.of(0, 1), Int32Array.of(1)), /2 rows but 1 labels/);
  assert.throws(() => pseudoLabelLoss(outputs, Int32Array.of(0), Int32Array.of(4)), /labels\[0\] = 4 is not a class in 0..3/);
  assert.throws(() => pseudoLabelLoss(outputs, Int32Array.of(0), Int32Array.of(1), Float32Array.of(1, 1)), /confidences has 2 entries/);
  assert.throws(() => bankTargets(new Float32Array(5), 2), /5 values is not a whole number of rows of 2 classes/);
});

test("bankTargets aligns class marginals, sharpens, and clamps labelled rows", () => {
  // Three nodes, two classes; class 0 dominates the raw predictions.
  const probs = Float32Array.of(0.8, 0.2, 0.6, 0.4, 0.7, 0.3);
  const t = bankTargets(probs, 2, { align: true, temperature: 1 });
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(t[2 * i]! + t[2 * i + 1]! - 1) < 1e-6);
  assert.ok(t[2]! < 0.5, "after alignment the least class-0 node leans to class 1");
  const sharp = bankTargets(Float32Array.of(0.6, 0.4), 2, { temperature: 0.5 });
  assert.ok(Math.abs(sharp[0]! - 0.36 / 0.52) < 1e-6);
  const clamped = bankTargets(probs, 2, { clamp: { rows: Int32Array.of(1), labels: Int32Array.of(1) } });
  assert.deepEqual([...clamped.subarray(2, 4)], [0, 1]);
  assert.deepEqual([...clamped.subarray(0, 2)].map((v) => Math.round(v * 1e6) / 1e6), [0.8, 0.2]);
});

test("on a small homophilous graph, graph regularisation from a stale bank lifts an MLP well above the MLP alone", (t) => {
  const numNodes = 600;
  const classes = 4;
  const dim = 32;
  const g = syntheticGraph({ numNodes, classes, avgDegree: 8, featureDim: dim, seed: 3, homophily: 0.9, noise: 2 });
  const features = tf.tensor2d(g.features, [numNodes, dim]);
  const adjacency = g.graph; // symmetric CSR, no self-loops
  const train = Int32Array.from({ length: 40 }, (_, i) => i);
  const trainMask = new Float32Array(numNodes);
  for (const i of train) trainMask[i] = 1;
  const trainLabels = Int32Array.from(train, (i) => g.labels[i]!);

  // Each node's pairs: its graph neighbours, each weighted 1 / (numNodes · degree).
  const pairRows: number[] = [];
  const pairNbrs: number[] = [];
  const pairWeights: number[] = [];
  for (let i = 0; i < numNodes; i++) {
    const deg = adjacency.rowPtr[i + 1]! - adjacency.rowPtr[i]!;
    for (let p = adjacency.rowPtr[i]!; p < adjacency.rowPtr[i + 1]!; p++) {
      pairRows.push(i);
      pairNbrs.push(adjacency.colIdx[p]!);
      pairWeights.push((i < 40 ? 1 : 3) / (numNodes * deg));
    }
  }
  const rowsOfPairs = Int32Array.from(pairRows);
  const neighboursOfPairs = Int32Array.from(pairNbrs);
  const weights = Float32Array.from(pairWeights);

  const run = (regularise: boolean): number => {
    const model = mlp({ inputDim: dim, hiddenDim: 16, classes, seed: 0 });
    const maker = mlp({ inputDim: dim, hiddenDim: 16, classes, seed: 0 });
    const optimizer = adam(0.01);
    const inputs = { features };
    const K = 10;
    let checkpoint = model.getWeights();
    let targets: Float32Array | undefined;
    for (let step = 0; step < 200; step++) {
      if (regularise && step % K === 0) {
        // The maker sees the checkpoint written K steps ago: the bank is K..2K-1 steps stale.
        if (step > 0) {
          maker.setWeights(checkpoint);
          targets = bankTargets(maker.predict(inputs).dataSync() as Float32Array, classes, { align: true, temperature: 0.3, clamp: { rows: train, labels: trainLabels } });
        }
        checkpoint = model.getWeights();
      }
      const values = targets;
      optimizer.minimize(() => {
        const logits = model.forward(inputs, { training: true });
        const ce = tf.add(maskedSoftmaxCrossEntropy(logits, g.labels, trainMask), model.regularization()) as tf.Scalar;
        return values ? (tf.add(ce, graphRegularization(logits, { rows: rowsOfPairs, neighbours: neighboursOfPairs, values, weights }, { distance: "kl", reduction: "sum" })) as tf.Scalar) : ce;
      }, false, model.variables as tf.Variable[]);
    }
    const predicted = tf.argMax(model.forward(inputs, { training: false }), 1).dataSync();
    let hits = 0;
    for (let i = 40; i < numNodes; i++) if (predicted[i] === g.labels[i]) hits++;
    optimizer.dispose();
    model.dispose();
    maker.dispose();
    return hits / (numNodes - 40);
  };
  const plain = run(false);
  const regularised = run(true);
  t.diagnostic(`test accuracy: MLP ${plain.toFixed(3)}, MLP + graph regularisation ${regularised.toFixed(3)}`);
  assert.ok(regularised > plain + 0.08, `MLP ${plain.toFixed(3)}, MLP + graph regularisation ${regularised.toFixed(3)}`);
});

test("the MLP: named weights round-trip, embed is the hidden layer, and it reads no graph", () => {
  const features = tf.tensor2d(random(n * 5, 0, 1), [n, 5]);
  const a = mlp({ inputDim: 5, hiddenDim: 3, classes: d, seed: 1 });
  const b = mlp({ inputDim: 5, hiddenDim: 3, classes: d, seed: 2 });
  const weights = a.getWeights();
  assert.deepEqual(weights.map((w) => `${w.name}:${w.shape}`), ["mlp/layer0/kernel:5,3", "mlp/layer0/bias:3", "mlp/layer1/kernel:3,4", "mlp/layer1/bias:4"]);
  assert.notDeepEqual(a.predict({ features }).dataSync(), b.predict({ features }).dataSync());
  b.setWeights(weights);
  assert.deepEqual(b.predict({ features }).dataSync(), a.predict({ features }).dataSync());
  assert.deepEqual(a.embed({ features }).shape, [n, 3]);
  // Row i's logits depend on row i's features only.
  const first = a.forward({ features: tf.slice(features, [0, 0], [1, 5]) }, { training: false }).dataSync();
  const all = a.forward({ features }, { training: false }).dataSync();
  for (let c = 0; c < d; c++) assert.ok(Math.abs(first[c]! - all[c]!) < 1e-6);
  assert.equal(mlp({ inputDim: 5, hiddenDim: 3, classes: d, seed: 1, bias: false }).getWeights().length, 2);
  assert.throws(() => a.forward({ features: tf.zeros([2, 6]) as tf.Tensor2D }, { training: false }), /features have 6 columns, the model expects 5/);
});
