import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { initBackend, type BackendName } from "../graph/gnn/backend.ts";
import { Rng } from "../graph/gnn/random.ts";
import { csrTimesDense, csrTimesDenseScalar, fromCoo, meanAdjacency, normalizedAdjacency, rowNormalize, spmm, transpose, withValues, type SparseMatrix } from "../graph/gnn/sparse.ts";
import * as tf from "../graph/gnn/tf.ts";
import { csrTimesDenseSimd, MAX_BYTES } from "../graph/gnn/csr-simd.ts";
import { GENERATED, generatedSource } from "../scripts/build-wasm.ts";

function randomSparse(rng: Rng, rows: number, cols: number, nnz: number): SparseMatrix {
  const row = Array.from({ length: nnz }, () => rng.int(rows));
  const col = Array.from({ length: nnz }, () => rng.int(cols));
  const values = Array.from({ length: nnz }, () => rng.float() * 2 - 1);
  return fromCoo({ row, col, values }, [rows, cols]);
}

function dense(a: SparseMatrix): number[][] {
  const out = Array.from({ length: a.shape[0] }, () => new Array<number>(a.shape[1]).fill(0));
  for (let r = 0; r < a.shape[0]; r++) for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) out[r]![a.colIdx[p]!]! += a.values[p]!;
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)), `entry ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test("every CSR kernel rounds as float32 arithmetic in entry order does, bit for bit, for every width and with row ids", () => {
  // Replay compares weights bit for bit, so the kernel's rounding is part of its contract.
  const rng = new Rng(17);
  for (const d of [1, 2, 3, 4, 7, 8, 9, 12, 15, 16, 17, 18, 31, 33, 64]) {
    const a = randomSparse(rng, 40, 50, 400);
    // Empty rows, and values and features spanning magnitudes, so that rounding differences would show.
    a.values.forEach((v, i) => (a.values[i] = v * 2 ** rng.int(40) * 2 ** -20));
    const x = new Float32Array(60 * d);
    rng.fillUniform(x, -1, 1);
    x.forEach((v, i) => (x[i] = v * 2 ** rng.int(30) * 2 ** -15));
    const ids = Int32Array.from({ length: 50 }, () => rng.int(60));
    for (const selection of [undefined, ids]) {
      const expected = new Float32Array(40 * d);
      for (let r = 0; r < 40; r++) {
        for (let p = a.rowPtr[r]!; p < a.rowPtr[r + 1]!; p++) {
          const from = (selection ? selection[a.colIdx[p]!]! : a.colIdx[p]!) * d;
          for (let k = 0; k < d; k++) expected[r * d + k]! += Math.fround(a.values[p]! * x[from + k]!);
        }
      }
      const bits = (values: Float32Array | undefined) => new Uint32Array(values!.buffer);
      const what = `d = ${d}${selection ? ", with ids" : ""}`;
      assert.deepEqual(bits(csrTimesDense(a, x, d, selection)), bits(expected), what);
      assert.deepEqual(bits(csrTimesDenseScalar(a, x, d, selection)), bits(expected), `JavaScript, ${what}`);
      assert.deepEqual(bits(csrTimesDenseSimd(a, x, d, undefined, selection)), bits(expected), `WebAssembly, ${what}`);
    }
  }
});

test("a feature table kept across products by row ids: reused while its version holds, copied again when it changes or another table comes", () => {
  const rng = new Rng(23);
  const d = 7;
  const a = randomSparse(rng, 30, 40, 200);
  const ids = Int32Array.from({ length: 40 }, () => rng.int(50));
  const table = (seed: number) => {
    const t = new Float32Array(50 * d);
    new Rng(seed).fillUniform(t, -1, 1);
    return t;
  };
  const bits = (values: Float32Array | undefined) => [...new Uint32Array(values!.buffer, values!.byteOffset, values!.length)];
  const first = table(1);
  const expected = csrTimesDenseScalar(a, first, d, ids);
  assert.deepEqual(bits(csrTimesDenseSimd(a, first, d, undefined, ids, 1)), bits(expected));
  // A product without ids in between leaves the kept table alone.
  const other = randomSparse(rng, 10, 50, 60);
  assert.deepEqual(bits(csrTimesDenseSimd(other, first, d)), bits(csrTimesDenseScalar(other, first, d)));
  first.fill(0);
  assert.deepEqual(bits(csrTimesDenseSimd(a, first, d, undefined, ids, 1)), bits(expected), "the same version reads the copy it kept");
  assert.deepEqual(bits(csrTimesDenseSimd(a, first.subarray(0), d, undefined, ids, 1)), bits(expected), "so does a new view of the same memory");
  assert.deepEqual(bits(csrTimesDenseSimd(a, first, d, undefined, ids, 2)), bits(csrTimesDenseScalar(a, first, d, ids)), "a new version is copied again");
  const second = table(2);
  assert.deepEqual(bits(csrTimesDenseSimd(a, second, d, undefined, ids, 2)), bits(csrTimesDenseScalar(a, second, d, ids)), "so is another table");
  assert.deepEqual(bits(csrTimesDense(a, second, d, ids, undefined, 2)), bits(csrTimesDenseScalar(a, second, d, ids)));
});

test("a product refuses an X or row ids that leave a column of A without a row", () => {
  const a = fromCoo({ row: [0, 1], col: [0, 2], values: [1, 1] }, [2, 3]);
  const x = new Float32Array(5 * 2).fill(1);
  assert.throws(() => csrTimesDense(a, x.subarray(0, 4), 2), /csrTimesDense: X holds 2 rows of 2, A has 3 columns/);
  assert.throws(() => csrTimesDense(a, x, 2, Int32Array.of(0, 1)), /csrTimesDense: 2 row ids for the 3 columns of A/);
  assert.throws(() => csrTimesDense(a, x, 2, Int32Array.of(0, 5, 1)), /csrTimesDense: ids\[1\] = 5 is not one of the 5 rows of X/);
  assert.throws(() => csrTimesDense(a, x, 2, Int32Array.of(0, 1, -1)), /csrTimesDense: ids\[2\] = -1 is not one of the 5 rows of X/);
  assert.deepEqual([...csrTimesDense(a, x, 2, Int32Array.of(4, 0, 3))], [1, 1, 1, 1]);
});

test("the WebAssembly kernel leaves products over its memory bound to the JavaScript loop", () => {
  const a = fromCoo({ row: [0], col: [0], values: [2] }, [1, MAX_BYTES / 4 + 1]);
  const x = new Float32Array(MAX_BYTES / 4 + 1);
  x[0] = 1.5;
  assert.equal(csrTimesDenseSimd(a, x, 1), undefined);
  assert.deepEqual([...csrTimesDense(a, x, 1)], [3]);
});

test("csr-simd.wasm.ts holds exactly what csr-simd.wat compiles to (npm run build:wasm)", async () => {
  assert.equal(readFileSync(GENERATED, "utf8"), await generatedSource());
});

for (const backend of ["cpu", "wasm"] as BackendName[]) {
  describe(`spmm on ${backend}`, () => {
    test("forward equals the dense product", async () => {
      assert.equal((await initBackend(backend)).name, backend);
      assert.equal(tf.getBackend(), backend);
      const rng = new Rng(7);
      const a = randomSparse(rng, 23, 31, 120);
      const x = tf.randomNormal([31, 5], 0, 1, "float32", 3) as tf.Tensor2D;
      assertClose(spmm(a, x).dataSync(), tf.matMul(tf.tensor2d(dense(a)), x).dataSync());
    });

    test("gradient w.r.t. X equals Aᵀ·dY, as through a dense matMul", async () => {
      await initBackend(backend);
      const rng = new Rng(11);
      const a = randomSparse(rng, 17, 29, 90);
      const x = tf.randomNormal([29, 4], 0, 1, "float32", 5) as tf.Tensor2D;
      const g = tf.randomNormal([17, 4], 0, 1, "float32", 6) as tf.Tensor2D;
      const sparseGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(spmm(a, t as tf.Tensor2D), g)))(x);
      const denseGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.matMul(tf.tensor2d(dense(a)), t as tf.Tensor2D), g)))(x);
      assertClose(sparseGrad.dataSync(), denseGrad.dataSync());
      assertClose(sparseGrad.dataSync(), tf.matMul(tf.tensor2d(dense(a)), g, true, false).dataSync());
    });

    test("gradient flows through two stacked products and a dense weight", async () => {
      await initBackend(backend);
      const rng = new Rng(13);
      const a = randomSparse(rng, 20, 20, 70);
      const x = tf.randomNormal([20, 6], 0, 1, "float32", 8) as tf.Tensor2D;
      const w = tf.randomNormal([6, 3], 0, 1, "float32", 9) as tf.Tensor2D;
      const ad = tf.tensor2d(dense(a));
      const f = (prod: (t: tf.Tensor2D) => tf.Tensor2D) => (t: tf.Tensor) => tf.sum(tf.square(prod(tf.relu(prod(tf.matMul(x, t as tf.Tensor2D))))));
      assertClose(tf.grad(f((t) => spmm(a, t)))(w).dataSync(), tf.grad(f((t) => tf.matMul(ad, t)))(w).dataSync(), 1e-4);
    });

    test("gradient through two products with different matrices keeps each product's own matrix", async () => {
      await initBackend(backend);
      const rng = new Rng(17);
      const a = randomSparse(rng, 12, 20, 50);
      const b = randomSparse(rng, 7, 12, 30);
      const x = tf.randomNormal([20, 3], 0, 1, "float32", 10) as tf.Tensor2D;
      const [ad, bd] = [tf.tensor2d(dense(a)), tf.tensor2d(dense(b))];
      const sparse = tf.grad((t: tf.Tensor) => tf.sum(tf.square(spmm(b, tf.relu(spmm(a, t as tf.Tensor2D))))))(x);
      const reference = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.matMul(bd, tf.relu(tf.matMul(ad, t as tf.Tensor2D))))))(x);
      assertClose(sparse.dataSync(), reference.dataSync(), 1e-4);
    });
  });
}

describe("sparse structure", () => {
  test("fromCoo sorts columns and sums duplicates", () => {
    const a = fromCoo({ row: [1, 0, 1, 1], col: [2, 1, 0, 2], values: [1, 2, 3, 4] }, [2, 3]);
    assert.deepEqual([...a.rowPtr], [0, 1, 3]);
    assert.deepEqual([...a.colIdx], [1, 0, 2]);
    assert.deepEqual([...a.values], [2, 3, 5]);
  });

  test("transpose of a withValues copy uses the new values", () => {
    const a = randomSparse(new Rng(3), 9, 12, 40);
    assert.deepEqual(dense(transpose(a)), dense(a)[0]!.map((_, c) => dense(a).map((row) => row[c]!)));
    const b = withValues(a, a.values.map((v) => v * 2));
    assertClose(dense(transpose(b)).flat(), dense(transpose(a)).flat().map((v) => v * 2));
  });

  test("normalizedAdjacency is D^-1/2 (A+I) D^-1/2 of the symmetrised graph", () => {
    // Path 0-1-2 plus a duplicate and a reversed copy of an edge.
    const a = dense(normalizedAdjacency({ src: Int32Array.of(0, 1, 1, 2), dst: Int32Array.of(1, 2, 0, 1) }, 3, { selfLoops: true }));
    const expected = [
      [1 / 2, 1 / Math.sqrt(6), 0],
      [1 / Math.sqrt(6), 1 / 3, 1 / Math.sqrt(6)],
      [0, 1 / Math.sqrt(6), 1 / 2],
    ];
    assertClose(a.flat(), expected.flat());
  });

  test("meanAdjacency and rowNormalize make rows sum to one", () => {
    const m = meanAdjacency({ src: Int32Array.of(0, 0, 0, 1), dst: Int32Array.of(1, 2, 3, 2) }, 5);
    assertClose(dense(m)[0]!, [0, 1 / 3, 1 / 3, 1 / 3, 0]);
    assertClose(dense(m)[4]!, [0, 0, 0, 0, 0]);
    const r = rowNormalize(randomSparse(new Rng(4), 6, 8, 30));
    for (const row of dense(r)) {
      const s = row.reduce((x, y) => x + y, 0);
      assert.ok(s === 0 || Math.abs(s - 1) < 1e-5, `row sum ${s}`);
    }
  });
});
