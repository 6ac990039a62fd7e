/**
 * CSR × dense products in WebAssembly SIMD (csr-simd.wat), rounded exactly as the JavaScript loop
 * in sparse.ts rounds, 5-10× as fast on these machines (bench/gnn/spmm.ts). The operands are copied
 * into the module's memory and the product out of it; the memory grows to the largest product
 * seen and stays, so products over MAX_BYTES go to the JavaScript loop instead.
 */
import type { SparseMatrix } from "./csr.ts";
import { CSR_SIMD_WASM } from "./csr-simd.wasm.ts";

/** Above this many bytes of operands and product, the JavaScript loop runs: the module's memory never shrinks. */
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

/**
 * Row-major (rows × d) A · X, as csrTimesDenseScalar computes it, into `out` if given; undefined
 * when the kernel cannot take it (no SIMD, or too large). With `ids`, column c of A reads row
 * ids[c] of X: only those rows are copied in, in that order, so X may be a whole feature table.
 */
export function csrTimesDenseSimd(a: SparseMatrix, x: Float32Array, d: number, out?: Float32Array, ids?: Int32Array): Float32Array | undefined {
  const rows = a.shape[0];
  const xBytes = ids ? 4 * d * ids.length : x.byteLength;
  const parts = [a.rowPtr.subarray(0, rows + 1), a.colIdx, a.values] as const;
  const outBytes = 4 * rows * d;
  // The kernel's last vector of a row may load up to 12 bytes past x: they must be memory.
  const total = parts.reduce((n, part) => n + aligned(part.byteLength), 0) + aligned(xBytes) + outBytes + 16;
  if (total > MAX_BYTES) return undefined;
  const k = load();
  if (!k) return undefined;
  if (k.memory.buffer.byteLength < total) k.memory.grow(Math.ceil((total - k.memory.buffer.byteLength) / PAGE));
  const heap = new Uint8Array(k.memory.buffer);
  let at = 0;
  const [rowPtr, cols, vals] = parts.map((part) => {
    heap.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    const start = at;
    at += aligned(part.byteLength);
    return start;
  }) as [number, number, number];
  const xAt = at;
  if (!ids) heap.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), xAt);
  else {
    const rowsIn = new Float32Array(k.memory.buffer, xAt, ids.length * d);
    for (let c = 0; c < ids.length; c++) rowsIn.set(x.subarray(ids[c]! * d, (ids[c]! + 1) * d), c * d);
  }
  at += aligned(xBytes);
  k.spmm(rows, d, rowPtr, cols, vals, xAt, at);
  const product = new Float32Array(k.memory.buffer, at, rows * d);
  if (!out) return product.slice();
  out.set(product);
  return out;
}
