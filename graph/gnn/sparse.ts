/**
 * Sparse × dense products without densifying, and the graph operators built on them.
 *
 * spmm runs a CSR loop over the dense operand's data (WebAssembly SIMD, else JavaScript). Even
 * in JavaScript it beat the ops tfjs's wasm backend has (gather, multiply, SparseSegmentSum), data
 * transfers included: 3.5 ms vs 31 ms for Cora's Â (13k entries) times 16 columns, 0.63 s vs 3.5 s
 * for a 25.6k-row block with 10 entries a row times 280k × 128. It needs no kernel a backend may
 * lack (the gradient of tf.gather needs UnsortedSegmentSum, which wasm does not have).
 */
import * as tf from "./tf.ts";
import { customOp } from "./custom-op.ts";
import { fromCoo, rowNormalize, transpose, type SparseMatrix } from "./csr.ts";
import { csrTimesDenseSimd } from "./csr-simd.ts";
import { firstIdOutside } from "./rows.ts";
import { floatsOf, tensorOf } from "./tensor-data.ts";

export { fromCoo, rowNormalize, selectRows, transpose, withValues, type Coo, type SparseMatrix } from "./csr.ts";

/** A × X for sparse A and dense X; differentiable w.r.t. X (dX = Aᵀ · dY). */
export function spmm(a: SparseMatrix, x: tf.Tensor2D): tf.Tensor2D {
  if (x.shape[0] !== a.shape[1]) throw new Error(`spmm: A is ${a.shape[0]}x${a.shape[1]} but X has ${x.shape[0]} rows`);
  return spmmOp(x, a);
}

const spmmOp = customOp((input, a: SparseMatrix) => ({
  value: times(a, input as tf.Tensor2D),
  gradFunc: (dy: tf.Tensor2D) => times(transpose(a), dy),
}));

function times(a: SparseMatrix, x: tf.Tensor2D): tf.Tensor2D {
  const d = x.shape[1];
  // The operand is read inside `fill`, after the product's tensor is made: making it may move the heap.
  return tensorOf<tf.Rank.R2>([a.shape[0], d], (out) => csrTimesDense(a, floatsOf(x), d, undefined, out));
}

/**
 * Row-major (rows × d) A · X for X row-major with d columns. With `ids`, column c of A reads row
 * ids[c] of X instead of row c (A times a row selection of X, e.g. of a whole feature table).
 *
 * Each output element is summed over the row's entries in order in float32: each product rounded
 * to float32, then added and rounded again (no fused multiply-add), as float32 arithmetic does.
 * WebAssembly SIMD computes it where it can (csr-simd.ts; with `ids`, from a copy of just the rows
 * they name); for products over csr-simd's MAX_BYTES, and where SIMD is missing, the JavaScript
 * loop does. Written into `out` when given (every element of it), else into a new array. With
 * `ids`, a `tableVersion` says X's values are the same for as long as it is: the kernel then keeps
 * the whole of X in its memory across products instead of copying the named rows each time.
 */
export function csrTimesDense(a: SparseMatrix, x: Float32Array, d: number, ids?: Int32Array, out?: Float32Array, tableVersion?: number): Float32Array {
  if (out && out.length !== a.shape[0] * d) throw new Error(`csrTimesDense: out holds ${out.length} numbers, the product ${a.shape[0]}x${d}`);
  checkOperand(a, x, d, ids);
  return csrTimesDenseSimd(a, x, d, out, ids, tableVersion) ?? csrTimesDenseScalar(a, x, d, ids, out);
}

/** Refuses an X (or row ids into it) that does not give every column of A a row: the kernel would read other memory. */
function checkOperand(a: SparseMatrix, x: Float32Array, d: number, ids: Int32Array | undefined): void {
  const xRows = d > 0 ? Math.floor(x.length / d) : 0;
  if (!ids) {
    if (xRows < a.shape[1]) throw new Error(`csrTimesDense: X holds ${xRows} rows of ${d}, A has ${a.shape[1]} columns`);
    return;
  }
  if (ids.length < a.shape[1]) throw new Error(`csrTimesDense: ${ids.length} row ids for the ${a.shape[1]} columns of A`);
  const c = firstIdOutside(ids, xRows, a.shape[1]);
  if (c >= 0) throw new Error(`csrTimesDense: ids[${c}] = ${ids[c]} is not one of the ${xRows} rows of X`);
}

/** csrTimesDense in JavaScript: holding eight columns in locals across the entries instead of loading and storing them each time is ~1.5x faster. */
export function csrTimesDenseScalar(a: SparseMatrix, x: Float32Array, d: number, ids?: Int32Array, out: Float32Array = new Float32Array(a.shape[0] * d)): Float32Array {
  const { rowPtr, values } = a;
  const cols = ids ? a.colIdx.map((c) => ids[c]!) : a.colIdx;
  const f = Math.fround;
  for (let r = 0, o = 0; r < a.shape[0]; r++, o += d) {
    const start = rowPtr[r]!;
    const end = rowPtr[r + 1]!;
    let k = 0;
    for (; k + 8 <= d; k += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let p = start; p < end; p++) {
        const v = values[p]!;
        const xo = cols[p]! * d + k;
        s0 = f(s0 + f(v * x[xo]!));
        s1 = f(s1 + f(v * x[xo + 1]!));
        s2 = f(s2 + f(v * x[xo + 2]!));
        s3 = f(s3 + f(v * x[xo + 3]!));
        s4 = f(s4 + f(v * x[xo + 4]!));
        s5 = f(s5 + f(v * x[xo + 5]!));
        s6 = f(s6 + f(v * x[xo + 6]!));
        s7 = f(s7 + f(v * x[xo + 7]!));
      }
      out[o + k] = s0;
      out[o + k + 1] = s1;
      out[o + k + 2] = s2;
      out[o + k + 3] = s3;
      out[o + k + 4] = s4;
      out[o + k + 5] = s5;
      out[o + k + 6] = s6;
      out[o + k + 7] = s7;
    }
    for (; k + 4 <= d; k += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = start; p < end; p++) {
        const v = values[p]!;
        const xo = cols[p]! * d + k;
        s0 = f(s0 + f(v * x[xo]!));
        s1 = f(s1 + f(v * x[xo + 1]!));
        s2 = f(s2 + f(v * x[xo + 2]!));
        s3 = f(s3 + f(v * x[xo + 3]!));
      }
      out[o + k] = s0;
      out[o + k + 1] = s1;
      out[o + k + 2] = s2;
      out[o + k + 3] = s3;
    }
    for (; k < d; k++) {
      let s = 0;
      for (let p = start; p < end; p++) s = f(s + f(values[p]! * x[cols[p]! * d + k]!));
      out[o + k] = s;
    }
  }
  return out;
}

/** An undirected graph as an edge list; each edge may appear once or in both directions. */
export interface Edges {
  readonly src: Int32Array;
  readonly dst: Int32Array;
}

/** The 0/1 symmetric adjacency without self-loops (duplicates and self-loops dropped). */
export function symmetricAdjacency(edges: Edges, numNodes: number): SparseMatrix {
  const m = edges.src.length;
  const row = new Int32Array(2 * m);
  const col = new Int32Array(2 * m);
  let n = 0;
  for (let i = 0; i < m; i++) {
    const s = edges.src[i]!;
    const t = edges.dst[i]!;
    if (s === t) continue;
    row[n] = s;
    col[n++] = t;
    row[n] = t;
    col[n++] = s;
  }
  const a = fromCoo({ row: row.subarray(0, n), col: col.subarray(0, n) }, [numNodes, numNodes]);
  a.values.fill(1);
  return a;
}

/** GCN's propagation matrix D^-1/2 (A + I) D^-1/2 (Kipf & Welling), or D^-1/2 A D^-1/2 without self-loops. */
export function normalizedAdjacency(edges: Edges, numNodes: number, opts: { selfLoops: boolean } = { selfLoops: true }): SparseMatrix {
  const a = symmetricAdjacency(edges, numNodes);
  const loops = opts.selfLoops ? numNodes : 0;
  const nnz = a.colIdx.length + loops;
  const row = new Int32Array(nnz);
  const col = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const invSqrtDegree = new Float64Array(numNodes);
  for (let r = 0; r < numNodes; r++) invSqrtDegree[r] = 1 / Math.sqrt(a.rowPtr[r + 1]! - a.rowPtr[r]! + (loops ? 1 : 0));
  let i = 0;
  for (let r = 0; r < numNodes; r++) {
    for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++, i++) {
      row[i] = r;
      col[i] = a.colIdx[p]!;
      values[i] = invSqrtDegree[r]! * invSqrtDegree[a.colIdx[p]!]!;
    }
  }
  for (let r = 0; r < loops; r++, i++) {
    row[i] = r;
    col[i] = r;
    values[i] = invSqrtDegree[r]! * invSqrtDegree[r]!;
  }
  return fromCoo({ row, col, values }, [numNodes, numNodes]);
}

/** D^-1 A: each row averages the node's neighbours (GraphSAGE's mean aggregator). */
export function meanAdjacency(edges: Edges, numNodes: number): SparseMatrix {
  return rowNormalize(symmetricAdjacency(edges, numNodes));
}
