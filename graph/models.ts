/**
 * Models and their inputs by name, so that a checkpoint (which names its model) can be turned back
 * into a model by a maker, and a trainer, a maker and a classifier build inputs the same way.
 */
import { gcn } from "./gnn/gcn.ts";
import { mlp } from "./gnn/mlp.ts";
import { isSparse, type Features } from "./gnn/layers.ts";
import type { BaseModelConfig, Model } from "./gnn/model.ts";
import { sage } from "./gnn/sage.ts";
import { normalizedAdjacency, rowNormalize, type SparseMatrix } from "./gnn/sparse.ts";
import * as tf from "./gnn/tf.ts";
import type { TrainingGraph } from "./store/types.ts";

export type ModelKind = "gcn" | "sage" | "mlp";

/** Everything needed to rebuild a model; checkpoints carry it. */
export interface ModelSpec extends BaseModelConfig {
  readonly kind: ModelKind;
}

export function buildModel(spec: ModelSpec): Model<unknown> {
  switch (spec.kind) {
    case "gcn":
      return gcn(spec) as Model<unknown>;
    case "mlp":
      return mlp(spec) as Model<unknown>;
    case "sage":
      return sage({ ...spec, inputDropout: true }) as Model<unknown>;
    default:
      throw new Error(`unknown model kind ${JSON.stringify((spec as { kind: unknown }).kind)} (expected gcn, sage or mlp)`);
  }
}

/** A model's full-graph inputs, built from the store as it is now. */
export interface GraphInputs {
  readonly inputs: unknown;
  /** The node index of each output row is the row itself (indices of the store). */
  readonly rows: number;
  dispose(): void;
}

/**
 * Features (row-normalised when they are counts, as bag-of-words are; signed features are left as
 * they are; sparse when mostly zeros, so that x·W costs the non-zeros only), plus the propagation
 * the model kind needs (Kipf's Â for GCN, mean for SAGE).
 */
export function graphInputs(store: TrainingGraph, kind: ModelKind): GraphInputs {
  const n = store.numNodes;
  const { dim, data } = store.features();
  const features = featuresOf(data, n, dim);
  const dispose = () => {
    if (!isSparse(features)) features.dispose();
  };
  if (kind === "mlp") return { inputs: { features }, rows: n, dispose };
  const csr = store.snapshot();
  const adjacency: SparseMatrix = { shape: [n, n], rowPtr: csr.rowPtr, colIdx: csr.colIdx, values: new Float32Array(csr.colIdx.length).fill(1) };
  if (kind === "gcn") return { inputs: { features, adjacency: normalizedAdjacency(edgesOf(adjacency), n, { selfLoops: true }) }, rows: n, dispose };
  const mean = rowNormalize(adjacency);
  return { inputs: { features, blocks: [mean, mean] }, rows: n, dispose };
}

/** Below this share of non-zeros, features are kept as a sparse matrix. */
const SPARSE_BELOW = 0.1;

/**
 * The model's features from the store's dense matrix. Most are sparse (bag-of-words), so the
 * non-zeros are counted first, and a sparse matrix is built from them without a dense
 * normalised copy (on Cora the copy and its scans took 105-130 ms of each replay thread's start).
 */
function featuresOf(data: Float32Array, rows: number, cols: number): Features {
  const { nonNegative, nonZeros } = scanFeatures(data.subarray(0, rows * cols));
  // Normalising never makes a zero non-zero, so these are at least as sparse after it.
  // The product first, as denseOrSparse rounds it: (0.1 × rows) × cols can differ from 0.1 × (rows × cols).
  if (nonZeros < SPARSE_BELOW * (rows * cols)) return sparseFeatures(data, rows, cols, nonZeros, nonNegative);
  return denseOrSparse(nonNegative ? rowNormalizeDense(data, rows, cols) : data.slice(0, rows * cols), rows, cols);
}

/** Whether every value is ≥ 0 (NaN is not), and how many are non-zero. */
function scanFeatures(data: Float32Array): { nonNegative: boolean; nonZeros: number } {
  let nonNegative = true;
  let nonZeros = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x !== 0) nonZeros++;
    if (!(x >= 0)) nonNegative = false;
  }
  return { nonNegative, nonZeros };
}

/**
 * What `denseOrSparse` makes of the features (row-normalised when `normalize`) when they have at
 * most `nonZeros` non-zeros, from those alone: zeros add nothing to a row's sum, and a value that
 * normalising rounds to zero is dropped as the dense path drops it.
 */
function sparseFeatures(data: Float32Array, rows: number, cols: number, nonZeros: number, normalize: boolean): SparseMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nonZeros);
  const kept = new Float32Array(nonZeros);
  let k = 0;
  for (let r = 0, at = 0; r < rows; r++, at += cols) {
    const first = k;
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const x = data[at + c]!;
      if (x === 0) continue;
      colIdx[k] = c;
      kept[k++] = x;
      sum += x;
    }
    if (normalize) k = normalizeRow(kept, colIdx, first, k, sum);
    rowPtr[r + 1] = k;
  }
  return { shape: [rows, cols], rowPtr, colIdx: k === nonZeros ? colIdx : colIdx.slice(0, k), values: k === nonZeros ? kept : kept.slice(0, k) };
}

/** Divides `kept[first .. end]` by `sum` as rowNormalizeDense does, dropping what becomes zero; the new end. */
function normalizeRow(kept: Float32Array, colIdx: Int32Array, first: number, end: number, sum: number): number {
  let k = first;
  for (let p = first; p < end; p++) {
    const v = Math.fround(kept[p]! / sum);
    if (v === 0) continue;
    colIdx[k] = colIdx[p]!;
    kept[k++] = v;
  }
  return k;
}

function denseOrSparse(values: Float32Array, rows: number, cols: number): Features {
  let nonZeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nonZeros++;
  if (nonZeros >= SPARSE_BELOW * values.length) return tf.tensor2d(values, [rows, cols]);
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nonZeros);
  const kept = new Float32Array(nonZeros);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (v !== 0) (colIdx[k] = c), (kept[k++] = v);
    }
    rowPtr[r + 1] = k;
  }
  return { shape: [rows, cols], rowPtr, colIdx, values: kept };
}

function rowNormalizeDense(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += data[r * cols + c]!;
    if (sum !== 0) for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c]! / sum;
  }
  return out;
}

/** Each undirected edge of a symmetric CSR once (src < dst). */
function edgesOf(a: SparseMatrix): { src: Int32Array; dst: Int32Array } {
  const src: number[] = [];
  const dst: number[] = [];
  for (let r = 0; r < a.shape[0]; r++) {
    for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) {
      if (r < a.colIdx[p]!) {
        src.push(r);
        dst.push(a.colIdx[p]!);
      }
    }
  }
  return { src: Int32Array.from(src), dst: Int32Array.from(dst) };
}
