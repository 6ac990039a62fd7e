/**
 * Compact binary vectors: node features, embeddings, logits. Little-endian, versioned header:
 *
 *   magic u16 "CV" | version u8 | flags u8 (bit 0: sparse) | dtype u8 | reserved u8[3] | dim u32 | step f64
 *   dense:  dim values
 *   sparse: nnz u32 | nnz indices (u32, strictly increasing) | nnz values
 *
 * `step` is the checkpoint step a value came from (-1 when it has none, such as raw features).
 * Values are 8-byte aligned after the header so they can be viewed without copying.
 */
export type DType = "float32" | "int32" | "uint8";

export interface DenseVector {
  readonly kind: "dense";
  readonly dtype: DType;
  readonly step: number;
  readonly values: Float32Array | Int32Array | Uint8Array;
}

export interface SparseVector {
  readonly kind: "sparse";
  readonly dtype: DType;
  readonly step: number;
  readonly dim: number;
  readonly indices: Uint32Array;
  readonly values: Float32Array | Int32Array | Uint8Array;
}

export type Vector = DenseVector | SparseVector;

export class VectorFormatError extends Error {
  override readonly name = "VectorFormatError";
}

const MAGIC = 0x5643; // "CV" little-endian
const VERSION = 1;
const HEADER_BYTES = 24;
const DTYPES: readonly DType[] = ["float32", "int32", "uint8"];
const BYTES_PER: Record<DType, number> = { float32: 4, int32: 4, uint8: 1 };

const typedArray = (dtype: DType, buffer: ArrayBuffer, offset: number, length: number) =>
  dtype === "float32" ? new Float32Array(buffer, offset, length) : dtype === "int32" ? new Int32Array(buffer, offset, length) : new Uint8Array(buffer, offset, length);

const dtypeOf = (values: Float32Array | Int32Array | Uint8Array): DType =>
  values instanceof Float32Array ? "float32" : values instanceof Int32Array ? "int32" : "uint8";

const align8 = (n: number) => (n + 7) & ~7;

export function denseVector(values: Float32Array | Int32Array | Uint8Array, step = -1): DenseVector {
  return { kind: "dense", dtype: dtypeOf(values), step, values };
}

export function sparseVector(dim: number, indices: Uint32Array, values: Float32Array | Int32Array | Uint8Array, step = -1): SparseVector {
  return { kind: "sparse", dtype: dtypeOf(values), step, dim, indices, values };
}

export function encodeVector(vector: Vector): Uint8Array {
  const bytes = new Uint8Array(encodedVectorBytes(vector));
  encodeVectorInto(vector, bytes, 0);
  return bytes;
}

/** The size of `vector` once encoded. */
export function encodedVectorBytes(vector: Vector): number {
  const nnz = vector.values.length;
  return HEADER_BYTES + (vector.kind === "sparse" ? align8(4 + 4 * nnz) : 0) + nnz * BYTES_PER[vector.dtype];
}

/**
 * Encodes `vector` into `target` at `offset`, which must have encodedVectorBytes(vector) zeroed
 * bytes free: many vectors can share one buffer. Returns the offset after it.
 */
export function encodeVectorInto(vector: Vector, target: Uint8Array, offset: number): number {
  const sparse = vector.kind === "sparse";
  const nnz = vector.values.length;
  if (sparse) checkSparse(vector);
  const indexBytes = sparse ? align8(4 + 4 * nnz) : 0;
  const view = new DataView(target.buffer, target.byteOffset + offset, HEADER_BYTES + (sparse ? 4 : 0));
  view.setUint16(0, MAGIC, true);
  view.setUint8(2, VERSION);
  view.setUint8(3, sparse ? 1 : 0);
  view.setUint8(4, DTYPES.indexOf(vector.dtype));
  view.setUint32(8, sparse ? vector.dim : nnz, true);
  view.setFloat64(16, vector.step, true);
  if (sparse) {
    view.setUint32(HEADER_BYTES, nnz, true);
    target.set(new Uint8Array(vector.indices.buffer, vector.indices.byteOffset, vector.indices.byteLength), offset + HEADER_BYTES + 4);
  }
  target.set(new Uint8Array(vector.values.buffer, vector.values.byteOffset, vector.values.byteLength), offset + HEADER_BYTES + indexBytes);
  return offset + HEADER_BYTES + indexBytes + vector.values.byteLength;
}

function checkSparse(vector: SparseVector): void {
  const { indices, values, dim } = vector;
  if (indices.length !== values.length) throw new VectorFormatError(`sparse vector has ${indices.length} indices but ${values.length} values`);
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! >= dim || (i > 0 && indices[i]! <= indices[i - 1]!)) {
      throw new VectorFormatError(`sparse vector indices must be strictly increasing and below dim ${dim}; index ${i} is ${indices[i]}`);
    }
  }
}

/** Decodes a vector. The result's arrays own their memory (one copy), so they outlive `bytes`. */
export function decodeVector(bytes: Uint8Array): Vector {
  if (bytes.byteLength < HEADER_BYTES) throw new VectorFormatError(`vector of ${bytes.byteLength} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  const own = bytes.slice();
  const view = new DataView(own.buffer);
  if (view.getUint16(0, true) !== MAGIC) throw new VectorFormatError("not a carls vector (bad magic number)");
  const version = view.getUint8(2);
  if (version !== VERSION) throw new VectorFormatError(`vector format version ${version} is not supported (this carls reads ${VERSION})`);
  const sparse = (view.getUint8(3) & 1) === 1;
  const dtype = DTYPES[view.getUint8(4)];
  if (!dtype) throw new VectorFormatError(`unknown vector dtype code ${view.getUint8(4)}`);
  const dim = view.getUint32(8, true);
  const step = view.getFloat64(16, true);
  const width = BYTES_PER[dtype];
  if (!sparse) {
    if (own.byteLength !== HEADER_BYTES + dim * width) throw new VectorFormatError(`dense ${dtype} vector of dim ${dim} needs ${HEADER_BYTES + dim * width} bytes, got ${own.byteLength}`);
    return { kind: "dense", dtype, step, values: typedArray(dtype, own.buffer, HEADER_BYTES, dim) };
  }
  if (own.byteLength < HEADER_BYTES + 4) throw new VectorFormatError("sparse vector is missing its nnz count");
  const nnz = view.getUint32(HEADER_BYTES, true);
  const valuesAt = HEADER_BYTES + align8(4 + 4 * nnz);
  if (nnz > dim || own.byteLength !== valuesAt + nnz * width) throw new VectorFormatError(`sparse vector with nnz ${nnz} and dim ${dim} has the wrong size (${own.byteLength} bytes)`);
  const vector: SparseVector = { kind: "sparse", dtype, step, dim, indices: new Uint32Array(own.buffer, HEADER_BYTES + 4, nnz), values: typedArray(dtype, own.buffer, valuesAt, nnz) };
  checkSparse(vector);
  return vector;
}

/** The dense float32 values of any vector (a sparse one is expanded). */
export function toDenseFloat32(vector: Vector): Float32Array {
  if (vector.kind === "dense") return vector.values instanceof Float32Array ? vector.values : Float32Array.from(vector.values);
  const out = new Float32Array(vector.dim);
  scatterSparse(vector, out, 0);
  return out;
}

/** Writes a sparse vector's non-zeros into `into` from `at`, leaving its other entries as they are. */
export function scatterSparse(vector: SparseVector, into: Float32Array, at: number): void {
  const { indices, values } = vector;
  for (let i = 0; i < indices.length; i++) into[at + indices[i]!] = values[i]!;
}

/**
 * Where a dense float32 vector's values sit in `bytes`, without copying or decoding them: the fast
 * path for readers that copy values straight into their own storage. Throws VectorFormatError.
 */
export function denseFloat32Layout(bytes: Uint8Array): { readonly dim: number; readonly step: number; readonly valuesAt: number } {
  if (bytes.byteLength < HEADER_BYTES) throw new VectorFormatError(`vector of ${bytes.byteLength} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getUint16(0, true) !== MAGIC) throw new VectorFormatError("not a carls vector (bad magic number)");
  if (view.getUint8(2) !== VERSION) throw new VectorFormatError(`vector format version ${view.getUint8(2)} is not supported (this carls reads ${VERSION})`);
  if ((view.getUint8(3) & 1) === 1 || DTYPES[view.getUint8(4)] !== "float32") throw new VectorFormatError("expected a dense float32 vector");
  const dim = view.getUint32(8, true);
  if (bytes.byteLength !== HEADER_BYTES + dim * 4) throw new VectorFormatError(`dense float32 vector of dim ${dim} needs ${HEADER_BYTES + dim * 4} bytes, got ${bytes.byteLength}`);
  return { dim, step: view.getFloat64(16, true), valuesAt: HEADER_BYTES };
}
