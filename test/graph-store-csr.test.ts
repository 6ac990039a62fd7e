import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCsr } from "../graph/store/csr.ts";
import { EdgeTable } from "../graph/store/edge-table.ts";
import { PairMap } from "../graph/store/pair-map.ts";

const rows = (csr: { rowPtr: Int32Array; colIdx: Int32Array }) =>
  Array.from({ length: csr.rowPtr.length - 1 }, (_, v) => Array.from(csr.colIdx.subarray(csr.rowPtr[v]!, csr.rowPtr[v + 1]!)));

describe("buildCsr", () => {
  it("mirrors undirected edges, keeps a self-loop once, sorts rows and skips free slots", () => {
    const src = Int32Array.of(2, 0, -1, 1, 3);
    const dst = Int32Array.of(0, 1, -1, 1, 0);
    const csr = buildCsr({ src, dst }, 5, { directed: false, weighted: false });
    assert.deepEqual(rows(csr), [[1, 2, 3], [0, 1], [0], [0], []]);
    assert.equal(csr.weights, null);
    assert.ok(Object.isFrozen(csr));
  });

  it("keeps out-edges only when directed, with weights (1 where none)", () => {
    const csr = buildCsr({ src: Int32Array.of(0, 1, 0), dst: Int32Array.of(2, 0, 1), weight: Float32Array.of(0.5, NaN, 3) }, 3, { directed: true, weighted: true });
    assert.deepEqual(rows(csr), [[1, 2], [0], []]);
    assert.deepEqual(Array.from(csr.weights!), [3, 0.5, 1]);
  });

  it("sorts long rows, weights following their columns", () => {
    const n = 100;
    const dst = Int32Array.from({ length: n - 1 }, (_, i) => n - 1 - i); // 99, 98, ..., 1
    const csr = buildCsr({ src: new Int32Array(n - 1), dst, weight: Float32Array.from(dst, (d) => d / 2) }, n, { directed: false, weighted: true });
    assert.deepEqual(rows(csr)[0], Array.from({ length: n - 1 }, (_, i) => i + 1));
    assert.deepEqual(Array.from(csr.weights!.subarray(0, n - 1)), Array.from({ length: n - 1 }, (_, i) => (i + 1) / 2));
    assert.deepEqual(rows(csr)[7], [0]);
  });
});

describe("EdgeTable", () => {
  it("finds either direction when undirected, lists incident edges and reuses freed slots", () => {
    const edges = new EdgeTable(false);
    const ab = edges.add(0, 1, undefined);
    const bc = edges.add(1, 2, 2);
    const bb = edges.add(1, 1, undefined);
    assert.equal(edges.find(1, 0), ab);
    assert.equal(edges.find(0, 2), -1);
    assert.deepEqual(edges.incident(1).sort(), [ab, bc, bb].sort());
    assert.equal(edges.weightedCount, 1);
    edges.remove(bc);
    assert.equal(edges.weightedCount, 0);
    assert.deepEqual(edges.incident(1).sort(), [ab, bb].sort());
    assert.deepEqual(edges.incident(2), []);
    assert.equal(edges.add(2, 0, undefined), bc, "the freed slot is reused");
    assert.equal(edges.count, 3);
  });

  it("tells directions apart when directed", () => {
    const edges = new EdgeTable(true);
    const ab = edges.add(0, 1, undefined);
    assert.equal(edges.find(0, 1), ab);
    assert.equal(edges.find(1, 0), -1);
  });
});

describe("PairMap", () => {
  it("keeps pairs through growth, deletion and reinsertion", () => {
    const map = new PairMap();
    for (let i = 0; i < 10_000; i++) map.set(i, i % 7, i);
    for (let i = 0; i < 10_000; i += 2) map.delete(i, i % 7);
    map.set(3, 100, -5);
    for (let i = 0; i < 10_000; i += 2) map.set(i, i % 7, i + 1);
    assert.equal(map.size, 10_001);
    for (let i = 0; i < 10_000; i++) assert.equal(map.get(i, i % 7), i % 2 === 0 ? i + 1 : i);
    assert.equal(map.get(3, 100), -5);
    assert.equal(map.get(3, 4), -1);
  });
});
