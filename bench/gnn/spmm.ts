/**
 * The sparse × dense products a GNN step makes on Cora (its bag-of-words features X, 2708 × 1433,
 * and GCN's Â), in the three ways carls could make them: the WebAssembly SIMD kernel carls uses,
 * its JavaScript loop (same rounding, the fallback), and tfjs's dense matMul of the densified
 * matrix on the wasm backend (the peer). Median of --runs calls after a warm-up; GFLOP/s counts
 * 2 × non-zeros × columns, so the dense peer's figure is its useful work only.
 *
 *   npx tsx bench/gnn/spmm.ts [--data ../shared/datasets/cora] [--runs 30]
 *
 * Without the dataset, a synthetic graph of Cora's shape stands in (the table says which).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../../graph/gnn/backend.ts";
import { csrTimesDenseSimd } from "../../graph/gnn/csr-simd.ts";
import { loadPlanetoidCsv } from "../../graph/gnn/planetoid-csv.ts";
import { Rng } from "../../graph/gnn/random.ts";
import { csrTimesDenseScalar, fromCoo, normalizedAdjacency, rowNormalize, transpose, type SparseMatrix } from "../../graph/gnn/sparse.ts";
import * as tf from "../../graph/gnn/tf.ts";
import { median } from "../median.ts";

const { values: args } = parseArgs({
  options: {
    data: { type: "string", default: resolve(import.meta.dirname, "../../../shared/datasets/cora") },
    runs: { type: "string", default: "30" },
  },
});
const runs = Number(args.runs);
if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs must be a positive integer, got ${args.runs}`);

const backend = await initBackend("wasm");
const rng = new Rng(3);
const real = existsSync(resolve(args.data, "meta.json"));
const data = real ? loadPlanetoidCsv(args.data) : coraShaped();
const features = rowNormalize(data.features);
const adjacency = normalizedAdjacency(data.edges, data.numNodes, { selfLoops: true });

/** Random features and edges in Cora's numbers: 2708 nodes, 1433 features, 49,216 non-zeros, 5,278 edges. */
function coraShaped(): { features: SparseMatrix; edges: { src: Int32Array; dst: Int32Array }; numNodes: number } {
  const numNodes = 2708;
  const row = Int32Array.from({ length: 49_216 }, () => rng.int(numNodes));
  const col = Int32Array.from({ length: 49_216 }, () => rng.int(1433));
  const edges = { src: Int32Array.from({ length: 5278 }, () => rng.int(numNodes)), dst: Int32Array.from({ length: 5278 }, () => rng.int(numNodes)) };
  return { features: fromCoo({ row, col, values: new Float32Array(row.length).fill(1) }, [numNodes, 1433]), edges, numNodes };
}

/** The median time of `runs` calls of `f`, after one to warm up. */
function timed(f: () => unknown): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    f();
    times.push(performance.now() - started);
  }
  return median(times);
}

function denseOf(a: SparseMatrix): tf.Tensor2D {
  const values = new Float32Array(a.shape[0] * a.shape[1]);
  for (let r = 0; r < a.shape[0]; r++) for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) values[r * a.shape[1] + a.colIdx[p]!]! += a.values[p]!;
  return tf.tensor2d(values, [a.shape[0], a.shape[1]]);
}

const products: [string, SparseMatrix, number][] = [
  ["X · W (MLP and GCN first layer)", features, 64],
  ["Xᵀ · dY (its gradient)", transpose(features), 64],
  ["Â · H (GCN propagation)", adjacency, 64],
  ["Â · H, 7 classes (GCN output)", adjacency, 7],
];
console.log(`${real ? "Cora" : "synthetic graph of Cora's shape"}; tfjs backend ${backend.name}; median of ${runs} calls; ms (GFLOP/s)\n`);
console.log("| product | non-zeros × columns | WebAssembly SIMD | JavaScript loop | tfjs dense matMul | SIMD ÷ loop speed-up |\n|---|---|---|---|---|---|");
for (const [what, a, d] of products) {
  const x = new Float32Array(a.shape[1] * d);
  rng.fillUniform(x, -1, 1);
  const flops = 2 * a.colIdx.length * d;
  const simd = timed(() => csrTimesDenseSimd(a, x, d));
  const loop = timed(() => csrTimesDenseScalar(a, x, d));
  const denseA = denseOf(a);
  const denseX = tf.tensor2d(x, [a.shape[1], d]);
  const dense = timed(() => tf.tidy(() => tf.matMul(denseA, denseX).dataSync()));
  tf.dispose([denseA, denseX]);
  const cell = (ms: number) => `${ms.toFixed(2)} (${(flops / ms / 1e6).toFixed(2)})`;
  console.log(`| ${what} | ${a.colIdx.length} × ${d} | ${cell(simd)} | ${cell(loop)} | ${cell(dense)} | ${(loop / simd).toFixed(2)}× |`);
}
