import type { CsrSnapshot } from "./types.ts";

/** Edges as parallel arrays; entries with src < 0 are skipped (free slots). */
export interface EdgeArrays {
  readonly src: Int32Array;
  readonly dst: Int32Array;
  /** NaN (or absent) means weight 1. */
  readonly weight?: Float32Array;
  /** Entries to read (default src.length). */
  readonly length?: number;
}

/**
 * CSR adjacency in O(N + E) with typed arrays only: count degrees, scatter each edge into its
 * row(s), then sort each row by column. Undirected graphs get both directions of every edge and a
 * self-loop once. Duplicate edges are the caller's business (the store has none).
 */
export function buildCsr(edges: EdgeArrays, numNodes: number, options: { directed: boolean; weighted: boolean; version?: number }): CsrSnapshot {
  const { src, dst, weight } = edges;
  const length = edges.length ?? src.length;
  const { directed, weighted } = options;

  const rowPtr = new Int32Array(numNodes + 1);
  for (let e = 0; e < length; e++) {
    const s = src[e]!;
    if (s < 0) continue;
    rowPtr[s + 1]!++;
    if (!directed && s !== dst[e]) rowPtr[dst[e]! + 1]!++;
  }
  for (let v = 0; v < numNodes; v++) rowPtr[v + 1]! += rowPtr[v]!;

  const fill = rowPtr.slice(0, numNodes);
  const colIdx = new Int32Array(rowPtr[numNodes]!);
  const weights = weighted ? new Float32Array(colIdx.length) : null;
  for (let e = 0; e < length; e++) {
    const s = src[e]!;
    if (s < 0) continue;
    const d = dst[e]!;
    const w = weight && !Number.isNaN(weight[e]!) ? weight[e]! : 1;
    const p = fill[s]!++;
    colIdx[p] = d;
    if (weights) weights[p] = w;
    if (!directed && s !== d) {
      const q = fill[d]!++;
      colIdx[q] = s;
      if (weights) weights[q] = w;
    }
  }
  for (let v = 0; v < numNodes; v++) sortRow(colIdx, weights, rowPtr[v]!, rowPtr[v + 1]!);
  return Object.freeze({ version: options.version ?? 0, numNodes, directed, rowPtr, colIdx, weights });
}

/** Sorts colIdx[start..end) ascending, carrying weights along. */
function sortRow(colIdx: Int32Array, weights: Float32Array | null, start: number, end: number): void {
  if (end - start > 32) {
    if (!weights) {
      colIdx.subarray(start, end).sort();
      return;
    }
    const cols = colIdx.slice(start, end);
    const ws = weights.slice(start, end);
    const order = Array.from(cols.keys()).sort((a, b) => cols[a]! - cols[b]!);
    for (let i = 0; i < order.length; i++) {
      colIdx[start + i] = cols[order[i]!]!;
      weights[start + i] = ws[order[i]!]!;
    }
    return;
  }
  // Insertion sort: most rows are short.
  for (let i = start + 1; i < end; i++) {
    const c = colIdx[i]!;
    const w = weights ? weights[i]! : 0;
    let j = i - 1;
    while (j >= start && colIdx[j]! > c) {
      colIdx[j + 1] = colIdx[j]!;
      if (weights) weights[j + 1] = weights[j]!;
      j--;
    }
    colIdx[j + 1] = c;
    if (weights) weights[j + 1] = w;
  }
}
