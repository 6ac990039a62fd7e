/** Compressed sparse row matrices: the structure shared by adjacency blocks and sparse features. */
export interface SparseMatrix {
  readonly shape: readonly [rows: number, cols: number];
  /** Length rows + 1; the entries of row r are rowPtr[r] .. rowPtr[r + 1] - 1. */
  readonly rowPtr: Int32Array;
  /** Column of each entry, ascending within a row. */
  readonly colIdx: Int32Array;
  readonly values: Float32Array;
}

/** Triplets (row[i], col[i], value[i]); values default to 1. */
export interface Coo {
  readonly row: ArrayLike<number>;
  readonly col: ArrayLike<number>;
  readonly values?: ArrayLike<number>;
}

/** Builds a CSR matrix from triplets; duplicate (row, col) pairs are summed. */
export function fromCoo(coo: Coo, shape: readonly [number, number]): SparseMatrix {
  const [rows, cols] = shape;
  const n = coo.row.length;
  if (coo.col.length !== n || (coo.values && coo.values.length !== n)) throw new Error("fromCoo: row, col and values differ in length");
  const counts = new Int32Array(rows + 1);
  for (let i = 0; i < n; i++) {
    const r = coo.row[i]!;
    const c = coo.col[i]!;
    if (!(r >= 0 && r < rows && c >= 0 && c < cols)) throw new Error(`fromCoo: entry (${r}, ${c}) is outside ${rows}x${cols}`);
    counts[r + 1]!++;
  }
  for (let r = 0; r < rows; r++) counts[r + 1]! += counts[r]!;
  const fill = counts.slice(0, rows);
  const colIdx = new Int32Array(n);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = fill[coo.row[i]!]!++;
    colIdx[p] = coo.col[i]!;
    values[p] = coo.values ? coo.values[i]! : 1;
  }
  return sortAndMerge(counts, colIdx, values, shape);
}

/** Sorts columns within each row and sums duplicates, compacting in place. */
function sortAndMerge(rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array, shape: readonly [number, number]): SparseMatrix {
  const rows = shape[0];
  let out = 0;
  let start = 0;
  for (let r = 0; r < rows; r++) {
    const end = rowPtr[r + 1]!;
    // Insertion sort: rows are short (graph neighbourhoods, bag-of-words rows).
    for (let i = start + 1; i < end; i++) {
      const c = colIdx[i]!;
      const v = values[i]!;
      let j = i - 1;
      while (j >= start && colIdx[j]! > c) {
        colIdx[j + 1] = colIdx[j]!;
        values[j + 1] = values[j]!;
        j--;
      }
      colIdx[j + 1] = c;
      values[j + 1] = v;
    }
    const rowStart = out;
    for (let i = start; i < end; i++) {
      if (out > rowStart && colIdx[out - 1] === colIdx[i]) values[out - 1]! += values[i]!;
      else {
        colIdx[out] = colIdx[i]!;
        values[out] = values[i]!;
        out++;
      }
    }
    start = end;
    rowPtr[r + 1] = out;
  }
  return { shape: [shape[0], shape[1]], rowPtr, colIdx: colIdx.subarray(0, out), values: values.subarray(0, out) };
}

interface TransposedPattern {
  /** The rowPtr of the matrix this pattern was computed from. */
  readonly source: Int32Array;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  /** Entry i of Aᵀ holds entry perm[i] of A. */
  readonly perm: Int32Array;
}

// Keyed by A's colIdx, so matrices made by withValues (a fresh dropout draw each step) share it.
const patterns = new WeakMap<Int32Array, TransposedPattern>();

/** Aᵀ in CSR; the pattern (a counting sort by column) is computed once per sparsity pattern. */
export function transpose(a: SparseMatrix): SparseMatrix {
  let pattern = patterns.get(a.colIdx);
  if (!pattern || pattern.source !== a.rowPtr) {
    pattern = transposedPattern(a);
    patterns.set(a.colIdx, pattern);
  }
  const values = new Float32Array(pattern.perm.length);
  for (let i = 0; i < values.length; i++) values[i] = a.values[pattern.perm[i]!]!;
  return { shape: [a.shape[1], a.shape[0]], rowPtr: pattern.rowPtr, colIdx: pattern.colIdx, values };
}

function transposedPattern(a: SparseMatrix): TransposedPattern {
  const [rows, cols] = a.shape;
  const nnz = a.colIdx.length;
  const rowPtr = new Int32Array(cols + 1);
  for (let i = 0; i < nnz; i++) rowPtr[a.colIdx[i]! + 1]!++;
  for (let c = 0; c < cols; c++) rowPtr[c + 1]! += rowPtr[c]!;
  const fill = rowPtr.slice(0, cols);
  const colIdx = new Int32Array(nnz);
  const perm = new Int32Array(nnz);
  for (let r = 0; r < rows; r++) {
    for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) {
      const q = fill[a.colIdx[p]!]!++;
      colIdx[q] = r;
      perm[q] = p;
    }
  }
  return { source: a.rowPtr, rowPtr, colIdx, perm };
}

/** The same sparsity pattern with other values (e.g. a dropout draw over the non-zeros). */
export function withValues(a: SparseMatrix, values: Float32Array): SparseMatrix {
  if (values.length !== a.values.length) throw new Error(`withValues: expected ${a.values.length} values, got ${values.length}`);
  return { shape: a.shape, rowPtr: a.rowPtr, colIdx: a.colIdx, values };
}

/** The rows ids[0], ids[1], ... of `a`, in that order. */
export function selectRows(a: SparseMatrix, ids: ArrayLike<number>): SparseMatrix {
  const rowPtr = new Int32Array(ids.length + 1);
  for (let i = 0; i < ids.length; i++) {
    const r = ids[i]!;
    rowPtr[i + 1] = rowPtr[i]! + a.rowPtr[r + 1]! - a.rowPtr[r]!;
  }
  const colIdx = new Int32Array(rowPtr[ids.length]!);
  const values = new Float32Array(colIdx.length);
  for (let i = 0; i < ids.length; i++) {
    const r = ids[i]!;
    colIdx.set(a.colIdx.subarray(a.rowPtr[r]!, a.rowPtr[r + 1]!), rowPtr[i]!);
    values.set(a.values.subarray(a.rowPtr[r]!, a.rowPtr[r + 1]!), rowPtr[i]!);
  }
  return { shape: [ids.length, a.shape[1]], rowPtr, colIdx, values };
}

/** Divides each row by its sum (rows summing to zero are left as they are). */
export function rowNormalize(a: SparseMatrix): SparseMatrix {
  const values = new Float32Array(a.values.length);
  for (let r = 0; r < a.shape[0]; r++) {
    let sum = 0;
    for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) sum += a.values[p]!;
    const scale = sum === 0 ? 1 : 1 / sum;
    for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) values[p] = a.values[p]! * scale;
  }
  return withValues(a, values);
}
