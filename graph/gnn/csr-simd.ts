/**
 * CSR × dense products in WebAssembly SIMD (csr-simd.wat), rounded exactly as the JavaScript loop
 * in sparse.ts rounds, 5-10× as fast on these machines (bench/gnn/spmm.ts). The operands are copied
 * into the module's memory and the product out of it; the memory grows to the largest product
 * seen and stays, so products over MAX_BYTES go to the JavaScript loop instead.
 */
import type { SparseMatrix } from "./csr.ts";
import { CSR_SIMD_WASM } from "./csr-simd.wasm.ts";
import { gatherRows } from "./rows.ts";

/** Above this many bytes of operands and product (a kept table aside), the JavaScript loop runs: the module's memory never shrinks. */
export const MAX_BYTES = 256 * 2 ** 20;
const PAGE = 65_536;

// The part of the WebAssembly API used here: the project compiles without the DOM library, which declares it.
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
};

interface Kernel {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  spmm(rows: number, d: number, rowPtr: number, cols: number, vals: number, x: number, out: number): void;
}

let kernel: Kernel | null | undefined;

/** The module, instantiated on first use in each thread; null where WebAssembly SIMD is missing. */
function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  const bytes = Buffer.from(CSR_SIMD_WASM, "base64");
  kernel = WebAssembly.validate(bytes) ? (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Kernel) : null;
  return kernel;
}

const aligned = (bytes: number) => (bytes + 15) & ~15;

/** The largest feature table kept in the module's memory across products (see csrTimesDenseSimd's `tableVersion`). */
export const KEEP_MAX_BYTES = 1024 * 2 ** 20;

/**
 * The feature table kept at the start of the module's memory: where its values are (a view made
 * afresh for each batch over the same memory is the same table) and the version they belong to;
 * each product's operands go after it. Weakly held: the table's owner decides its life.
 */
let kept: { readonly buffer: WeakRef<ArrayBufferLike>; readonly byteOffset: number; readonly bytes: number; readonly version: number } | undefined;

/**
 * Row-major (rows × d) A · X, as csrTimesDenseScalar computes it, into `out` if given; undefined
 * when the kernel cannot take it (no SIMD, or too large). With `ids`, column c of A reads row
 * ids[c] of X, so X may be a whole feature table: only the rows the ids name are copied in, or,
 * with `tableVersion` (the caller's promise that X's values are the same for as long as it is),
 * the whole table once, kept for later products with the same table and version.
 */
export function csrTimesDenseSimd(a: SparseMatrix, x: Float32Array, d: number, out?: Float32Array, ids?: Int32Array, tableVersion?: number): Float32Array | undefined {
  const k = load();
  if (!k) return undefined;
  if (kept && kept.buffer.deref() === undefined) kept = undefined;
  const keep = ids !== undefined && tableVersion !== undefined && x.byteLength <= KEEP_MAX_BYTES;
  const reuse = keep && kept !== undefined && kept.buffer.deref() === x.buffer && kept.byteOffset === x.byteOffset && kept.bytes === x.byteLength && kept.version === tableVersion;
  // Operands go after the kept table, if any: the one kept already, or the one about to be.
  const base = keep ? aligned(x.byteLength) : kept ? aligned(kept.bytes) : 0;
  const rows = a.shape[0];
  const xBytes = keep ? 0 : ids ? 4 * d * ids.length : x.byteLength;
  const parts = [a.rowPtr.subarray(0, rows + 1), a.colIdx, a.values] as const;
  const outBytes = 4 * rows * d;
  // The kernel's last vector of a row may load up to 12 bytes past x: they must be memory.
  const scratch = parts.reduce((n, part) => n + aligned(part.byteLength), 0) + aligned(xBytes) + outBytes + 16;
  if (scratch > MAX_BYTES) return undefined;
  const total = base + scratch;
  if (k.memory.buffer.byteLength < total) k.memory.grow(Math.ceil((total - k.memory.buffer.byteLength) / PAGE));
  const heap = new Uint8Array(k.memory.buffer);
  if (keep && !reuse) {
    heap.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), 0);
    kept = { buffer: new WeakRef(x.buffer), byteOffset: x.byteOffset, bytes: x.byteLength, version: tableVersion! };
  }
  let at = base;
  const [rowPtr, cols, vals] = parts.map((part) => {
    heap.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    const start = at;
    at += aligned(part.byteLength);
    return start;
  }) as [number, number, number];
  let xAt = 0;
  if (keep) {
    // Column c reads the kept table's row ids[c].
    const mapped = new Int32Array(k.memory.buffer, cols, a.colIdx.length);
    for (let p = 0; p < mapped.length; p++) mapped[p] = ids[mapped[p]!]!;
  } else {
    xAt = at;
    if (ids) gatherRows(x, d, ids, new Float32Array(k.memory.buffer, xAt, ids.length * d));
    else heap.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), xAt);
    at += aligned(xBytes);
  }
  k.spmm(rows, d, rowPtr, cols, vals, xAt, at);
  const product = new Float32Array(k.memory.buffer, at, rows * d);
  if (!out) return product.slice();
  out.set(product);
  return out;
}
