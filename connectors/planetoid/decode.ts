/**
 * Turns decoded pickle values into typed arrays: scipy csr_matrix, 2-D int32 ndarray, and the
 * defaultdict(list) adjacency. Every shape and range is checked; errors name the file.
 */
import { CsrMatrix, NdArray, describe, intTuple, latin1 } from "./py-objects.ts";
import type { DTypeCode, PickleValue } from "./py-objects.ts";

export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}

export interface Int32Matrix {
  rows: number;
  cols: number;
  /** Row-major. */
  data: Int32Array;
}

/** Node id -> neighbour ids, as pickled (duplicates and self-loops included). */
export type Adjacency = Map<number, number[]>;

export function toCsr(value: PickleValue, file: string): Csr {
  if (!(value instanceof CsrMatrix)) throw new Error(`${file}: expected a scipy csr_matrix, found ${describe(value)}`);
  const field = (key: string): PickleValue => {
    const v = value.state.get(key);
    if (v === undefined) throw new Error(`${file}: csr_matrix has no '${key}'`);
    return v;
  };
  const format = field("format");
  if (!(format instanceof Uint8Array) || latin1(format) !== "csr") throw new Error(`${file}: csr_matrix format is ${describe(format)}`);
  const [rows, cols] = intTuple(field("_shape"), `${file}: csr_matrix _shape`, 2) as [number, number];
  const indptr = int32Elements(ndarray(field("indptr"), "i4", `${file}: indptr`, 1));
  const indices = int32Elements(ndarray(field("indices"), "i4", `${file}: indices`, 1));
  const data = float32Elements(ndarray(field("data"), "f4", `${file}: data`, 1));
  if (indptr.length !== rows + 1 || indptr[0] !== 0 || indptr[rows] !== indices.length || data.length !== indices.length) {
    throw new Error(`${file}: csr_matrix ${rows}x${cols} has inconsistent indptr[${indptr.length}], indices[${indices.length}], data[${data.length}]`);
  }
  for (let r = 0; r < rows; r++) {
    const start = indptr[r]!;
    const end = indptr[r + 1]!;
    if (end < start) throw new Error(`${file}: csr_matrix indptr decreases at row ${r}`);
    for (let k = start; k < end; k++) {
      const c = indices[k]!;
      if (c < 0 || c >= cols) throw new Error(`${file}: csr_matrix row ${r} has column ${c}, outside 0..${cols - 1}`);
      if (k > start && c <= indices[k - 1]!) throw new Error(`${file}: csr_matrix row ${r} has unsorted or duplicate column ${c}`);
    }
  }
  return { rows, cols, indptr, indices, data };
}

export function toInt32Matrix(value: PickleValue, file: string): Int32Matrix {
  const array = ndarray(value, "i4", file, 2);
  const [rows, cols] = array.shape as [number, number];
  return { rows, cols, data: int32Elements(array) };
}

export function toAdjacency(value: PickleValue, file: string): Adjacency {
  if (!(value instanceof Map)) throw new Error(`${file}: expected a defaultdict(list), found ${describe(value)}`);
  const adjacency: Adjacency = new Map();
  for (const [node, neighbours] of value) {
    if (typeof node !== "number" || !Number.isInteger(node) || node < 0) throw new Error(`${file}: graph key ${JSON.stringify(node)} is not a node id`);
    if (!Array.isArray(neighbours)) throw new Error(`${file}: graph[${node}] is ${describe(neighbours)}, not a list`);
    for (const v of neighbours) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new Error(`${file}: graph[${node}] holds ${describe(v)}, not a node id`);
    }
    adjacency.set(node, neighbours as number[]);
  }
  return adjacency;
}

/** `ind.<name>.test.index`: one decimal id per line. */
export function parseIndexFile(text: string, file: string): Int32Array {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return Int32Array.from(lines, (line, i) => {
    if (!/^\d+$/.test(line)) throw new Error(`${file}: line ${i + 1} is ${JSON.stringify(line)}, not a node id`);
    return Number(line);
  });
}

function ndarray(value: PickleValue, code: DTypeCode, what: string, dims: number): NdArray {
  if (!(value instanceof NdArray)) throw new Error(`${what}: expected a numpy ndarray, found ${describe(value)}`);
  if (value.dtype?.code !== code) throw new Error(`${what}: dtype is ${value.dtype?.code ?? "unset"}, expected ${code}`);
  if (value.shape.length !== dims) throw new Error(`${what}: shape is (${value.shape.join(", ")}), expected ${dims}-D`);
  return value;
}

// DataView keeps the decoding little-endian whatever the host is, and needs no alignment.
function int32Elements(array: NdArray): Int32Array {
  const view = dataView(array.bytes);
  const out = new Int32Array(array.bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

function float32Elements(array: NdArray): Float32Array {
  const view = dataView(array.bytes);
  const out = new Float32Array(array.bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
