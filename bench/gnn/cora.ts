/**
 * Cora, standard Planetoid split: GCN and GraphSAGE-mean test accuracy over 10 seeds.
 * Kipf & Welling's protocol for both: hidden 16, dropout 0.5 (on the input features too),
 * Adam lr 0.01, weight decay 5e-4, row-normalised features, at most 200 epochs, stop when the
 * validation loss exceeds the mean of the previous 10; test accuracy of the final weights.
 * GraphSAGE trains full-batch (every block is the mean adjacency of the whole graph).
 *
 *   npx tsx bench/gnn/cora.ts [--backend wasm|cpu|tensorflow] [--seeds 10] [--data DIR]
 */
import { parseArgs } from "node:util";
import { initBackend, type BackendName } from "../../graph/gnn/backend.ts";
import { gcn, type GcnInputs } from "../../graph/gnn/gcn.ts";
import type { Model } from "../../graph/gnn/model.ts";
import { loadPlanetoidCsv, type PlanetoidData } from "../../graph/gnn/planetoid-csv.ts";
import { sage, type SageInputs } from "../../graph/gnn/sage.ts";
import { meanAdjacency, normalizedAdjacency, rowNormalize } from "../../graph/gnn/sparse.ts";
import { adam, evaluate, trainStep, type Batch } from "../../graph/gnn/train.ts";

const { values: args } = parseArgs({
  options: {
    backend: { type: "string", default: "wasm" },
    seeds: { type: "string", default: "10" },
    data: { type: "string", default: "/work/shared/datasets/cora" },
    models: { type: "string", default: "gcn,sage" },
  },
});

const backend = await initBackend(args.backend as BackendName);
const data = loadPlanetoidCsv(args.data!);
const features = rowNormalize(data.features);
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i);

interface RunResult {
  test: number;
  epochs: number;
  seconds: number;
}

function maskOf(ids: Int32Array, n: number): Float32Array {
  const mask = new Float32Array(n);
  for (const i of ids) mask[i] = 1;
  return mask;
}

/** Kipf & Welling's loop: train, early-stop on the validation loss, report test accuracy. */
function run<I>(model: Model<I>, inputs: I, d: PlanetoidData): RunResult {
  const start = performance.now();
  const optimizer = adam(0.01);
  const batch = (ids: Int32Array): Batch<I> => ({ inputs, labels: d.labels, mask: maskOf(ids, d.numNodes) });
  const [train, val, test] = [batch(d.split.train), batch(d.split.val), batch(d.split.test)];
  const valLosses: number[] = [];
  let epoch = 0;
  while (epoch < 200) {
    trainStep(model, optimizer, train);
    epoch++;
    const v = evaluate(model, val).loss;
    const window = valLosses.slice(-10);
    valLosses.push(v);
    if (epoch > 10 && v > window.reduce((a, b) => a + b, 0) / window.length) break;
  }
  const result = { test: evaluate(model, test).accuracy, epochs: epoch, seconds: (performance.now() - start) / 1000 };
  optimizer.dispose();
  model.dispose();
  return result;
}

const models: Record<string, (seed: number) => RunResult> = {
  gcn: (seed) => {
    const inputs: GcnInputs = { features, adjacency: normalizedAdjacency(data.edges, data.numNodes, { selfLoops: true }) };
    return run(gcn({ inputDim: features.shape[1], hiddenDim: 16, classes: data.numClasses, seed }), inputs, data);
  },
  sage: (seed) => {
    const mean = meanAdjacency(data.edges, data.numNodes);
    const inputs: SageInputs = { features, blocks: [mean, mean] };
    return run(sage({ inputDim: features.shape[1], hiddenDim: 16, classes: data.numClasses, seed, inputDropout: true }), inputs, data);
  },
};

const stats = (xs: number[]): { mean: number; std: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
};

console.log(`Cora (Planetoid split), ${seeds.length} seeds, backend ${backend.name}`);
console.log("model  test accuracy (mean ± std)  min    max    epochs  s/run");
for (const name of args.models!.split(",")) {
  const results = seeds.map((seed) => models[name]!(seed));
  const acc = stats(results.map((r) => r.test * 100));
  const pct = (x: number): string => x.toFixed(1).padStart(5);
  console.log(
    `${name.padEnd(6)} ${pct(acc.mean)} ± ${acc.std.toFixed(1)}%${" ".repeat(17)}${pct(Math.min(...results.map((r) => r.test * 100)))}  ${pct(Math.max(...results.map((r) => r.test * 100)))}  ${stats(results.map((r) => r.epochs)).mean.toFixed(0).padStart(6)}  ${stats(results.map((r) => r.seconds)).mean.toFixed(2).padStart(5)}`,
  );
  console.log(`       per seed: ${results.map((r) => (r.test * 100).toFixed(1)).join(" ")}`);
}
