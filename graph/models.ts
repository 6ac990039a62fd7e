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
import type { GraphStore } from "./store/graph-store.ts";

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
export function graphInputs(store: GraphStore, kind: ModelKind): GraphInputs {
  const n = store.numNodes;
  const { dim, data } = store.features();
  const values = data.every((x) => x >= 0) ? rowNormalizeDense(data, n, dim) : data.slice(0, n * dim);
  const features = denseOrSparse(values, n, dim);
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
