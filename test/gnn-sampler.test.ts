import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../graph/gnn/random.ts";
import { csrGraph, fullBatchAdjacency, NeighborSampler, shuffledBatches, type CsrGraph } from "../graph/gnn/sampler.ts";
import { normalizedAdjacency } from "../graph/gnn/sparse.ts";

/** A seeded random graph whose degrees range from 0 to well above the fan-outs. */
function randomGraph(numNodes: number, seed: number): CsrGraph {
  const rng = new Rng(seed);
  const src: number[] = [];
  const dst: number[] = [];
  for (let v = 0; v < numNodes; v++) {
    const extra = v % 10 === 0 ? 40 : rng.int(6);
    for (let e = 0; e < extra; e++) {
      src.push(v);
      dst.push(rng.int(numNodes));
    }
  }
  return csrGraph({ src: Int32Array.from(src), dst: Int32Array.from(dst) }, numNodes);
}

const neighbours = (g: CsrGraph, v: number): Set<number> => new Set(g.colIdx.subarray(g.rowPtr[v]!, g.rowPtr[v + 1]!));

test("sampling is reproducible from the seed and differs across seeds", () => {
  const g = randomGraph(500, 1);
  const seeds = Int32Array.from({ length: 64 }, (_, i) => i * 7);
  const draw = (seed: number) => {
    const s = new NeighborSampler(g, [5, 3], seed);
    return [s.sample(seeds), s.sample(seeds)];
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42)[0]!.nodes[0], draw(43)[0]!.nodes[0]);
});

test("blocks respect the fan-outs, sample real neighbours without repeats, and average them", () => {
  const g = randomGraph(400, 2);
  const fanouts = [6, 3];
  const seeds = Int32Array.from({ length: 50 }, (_, i) => i * 8);
  const { nodes, blocks } = new NeighborSampler(g, fanouts, 9).sample(seeds);
  assert.equal(nodes.length, 3);
  assert.equal(blocks.length, 2);
  assert.deepEqual(nodes[2], seeds);
  for (let l = 0; l < 2; l++) {
    const block = blocks[l]!;
    const [dst, src] = [nodes[l + 1]!, nodes[l]!];
    const fanout = fanouts[fanouts.length - 1 - l]!;
    assert.deepEqual(block.shape, [dst.length, src.length]);
    assert.deepEqual(src.subarray(0, dst.length), dst, "dst nodes are the first src nodes");
    assert.equal(new Set(src).size, src.length, "src nodes are distinct");
    for (let i = 0; i < dst.length; i++) {
      const row = [...block.colIdx.subarray(block.rowPtr[i]!, block.rowPtr[i + 1]!)].map((c) => src[c]!);
      const nbrs = neighbours(g, dst[i]!);
      assert.equal(row.length, Math.min(fanout, nbrs.size), `row ${i} has min(fan-out, degree) entries`);
      assert.equal(new Set(row).size, row.length, "no neighbour is drawn twice");
      for (const u of row) assert.ok(nbrs.has(u), `${u} is a neighbour of ${dst[i]}`);
      for (let p = block.rowPtr[i]!; p < block.rowPtr[i + 1]!; p++) assert.equal(block.values[p], Math.fround(1 / row.length));
    }
  }
});

test("high-degree nodes get a uniform sample of their neighbours", () => {
  const g = csrGraph({ src: Int32Array.from({ length: 20 }, () => 0), dst: Int32Array.from({ length: 20 }, (_, i) => i + 1) }, 21);
  const sampler = new NeighborSampler(g, [5], 3);
  const counts = new Array<number>(21).fill(0);
  const draws = 4000;
  for (let i = 0; i < draws; i++) for (const u of sampler.sample(Int32Array.of(0)).nodes[0]!.subarray(1)) counts[u]!++;
  for (let u = 1; u <= 20; u++) assert.ok(Math.abs(counts[u]! / draws - 5 / 20) < 0.04, `neighbour ${u} drawn ${counts[u]} times`);
});

test("fan-out -1 takes every neighbour; bad fan-outs and repeated seeds are refused", () => {
  const g = randomGraph(100, 4);
  const { blocks } = new NeighborSampler(g, [-1], 1).sample(Int32Array.of(0, 10));
  assert.equal(blocks[0]!.rowPtr[1], neighbours(g, 0).size);
  assert.throws(() => new NeighborSampler(g, [0], 1), /fan-outs/);
  const sampler = new NeighborSampler(g, [2], 1);
  assert.throws(() => sampler.sample(Int32Array.of(3, 3)), /twice/);
  assert.equal(sampler.sample(Int32Array.of(3)).nodes[1]![0], 3, "a refused batch leaves the sampler usable");
});

test("full-batch GCN adjacency equals normalizedAdjacency of the same edges", () => {
  const src = Int32Array.of(0, 1, 2, 2);
  const dst = Int32Array.of(1, 2, 3, 0);
  const a = fullBatchAdjacency(csrGraph({ src, dst }, 5));
  const b = normalizedAdjacency({ src, dst }, 5, { selfLoops: true });
  assert.deepEqual(a, b);
});

test("shuffled batches cover every node once, reproducibly", () => {
  const nodes = Int32Array.from({ length: 103 }, (_, i) => i);
  const batches = shuffledBatches(nodes, 25, new Rng(5));
  assert.deepEqual(batches.map((b) => b.length), [25, 25, 25, 25, 3]);
  assert.deepEqual([...batches.flatMap((b) => [...b])].sort((x, y) => x - y), [...nodes]);
  assert.deepEqual(batches, shuffledBatches(nodes, 25, new Rng(5)));
});
