import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { unsafeUniformIntDistribution, xoroshiro128plus } from "pure-rand";
import { GraphStore, buildCsr, type CsrSnapshot } from "../graph/store/index.ts";
import { FrozenGraph, freezeGraph, frozenGraphBuffers, type FrozenGraphData } from "../graph/store/frozen-graph.ts";
import { NodeTable } from "../graph/store/node-table.ts";
import { openEmbeddedLog, type Log, type ProduceRecord } from "../src/log/index.ts";
import {
  DEAD_LETTER_HEADERS,
  deadLetterTopic,
  denseVector,
  edgeTombstone,
  encodeEdge,
  encodeEdgeKey,
  encodeNode,
  ensureGraphTopics,
  type GraphTopics,
  nodeTombstone,
  sparseVector,
} from "../src/schema/index.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
let dir: string;
let log: Log;
let nsCount = 0;
/** A fresh namespace with its graph topics. */
async function freshGraph(partitions = 2): Promise<{ ns: string; topics: GraphTopics }> {
  const ns = `gs${process.pid}x${nsCount++}`;
  return { ns, topics: await ensureGraphTopics(log, ns, partitions) };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "carls-graph-store-"));
  log = await openEmbeddedLog({ dir, durability: "process", maintenanceIntervalMs: 0 });
});
after(async () => {
  await log.close();
  await rm(dir, { recursive: true, force: true });
});

const produce = (topic: string, records: readonly ProduceRecord[]) => log.produce(topic, records);
const f32 = (...values: number[]) => denseVector(Float32Array.from(values));

/** The neighbour ids of `id` in a snapshot, sorted. */
function csrNeighbours(store: GraphStore, csr: CsrSnapshot, id: string): string[] {
  const v = store.indexOf(id);
  return Array.from(csr.colIdx.subarray(csr.rowPtr[v]!, csr.rowPtr[v + 1]!), (u) => store.idOf(u)).sort();
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("GraphStore", () => {
  it("materialises nodes, edges, deletes, re-upserts and refuses bad records", async () => {
    const { ns, topics } = await freshGraph();
    const store0 = await GraphStore.open(log, ns);
    assert.equal(store0.numNodes, 0);
    await produce(topics.nodes, [
      encodeNode({ id: "a", label: 0, split: "train", features: f32(1, 2, 3) }),
      encodeNode({ id: "b", label: 1, split: "val", features: sparseVector(3, Uint32Array.of(2), Float32Array.of(5)) }),
      encodeNode({ id: "c", split: "test" }),
      encodeNode({ id: "bad", features: f32(1, 2, 3, 4) }),
    ]);
    await produce(topics.edges, [
      encodeEdge({ src: "a", dst: "b" }),
      encodeEdge({ src: "b", dst: "c", weight: 2 }),
      encodeEdge({ src: "c", dst: "a" }),
      encodeEdge({ src: "a", dst: "d" }), // d is unknown: created without features
      { key: enc.encode("no-separator"), value: enc.encode("{}") },
      { key: encodeEdgeKey("a", "c"), value: enc.encode('{"weight":"heavy"}') },
    ]);
    await produce(topics.edges, [edgeTombstone("c", "a")]);

    const store = await GraphStore.open(log, ns);
    assert.deepEqual(csrNeighbours(store, store.snapshot(), "c"), ["b"]);
    assert.equal(store.snapshot().weights![store.snapshot().rowPtr[store.indexOf("c")]!], 2);
    await produce(topics.nodes, [nodeTombstone("c")]);
    await store.catchUp();
    const g = store.graph;
    assert.deepEqual(g.nodes().sort(), ["a", "b", "d"]);
    assert.equal(g.size, 2);
    assert.ok(g.hasEdge("a", "b") && g.hasEdge("b", "a") && g.hasEdge("d", "a"));
    assert.deepEqual(g.getNodeAttributes("a"), { label: 0, split: "train" });
    assert.deepEqual(g.getNodeAttributes("d"), { label: null, split: null });

    // c was deleted: its index is a hole, its edges are gone.
    const c = store.indexOf("c");
    assert.ok(c >= 0 && !store.isAlive(c));
    assert.deepEqual(Array.from(store.holes()), [c]);
    assert.equal(store.numNodes, 4);

    const csr = store.snapshot();
    assert.equal(csr.numNodes, 4);
    assert.deepEqual(csrNeighbours(store, csr, "a"), ["b", "d"]);
    assert.deepEqual(csrNeighbours(store, csr, "b"), ["a"]);
    assert.deepEqual(csrNeighbours(store, csr, "c"), []);
    assert.deepEqual(csrNeighbours(store, csr, "d"), ["a"]);
    assert.equal(csr.weights, null, "the only weighted edge (b–c) went with c");
    assert.equal(store.snapshot(), csr, "cached while the graph is unchanged");

    assert.equal(store.featureDim, 3);
    const { data } = store.features();
    const row = (id: string) => Array.from(data.subarray(store.indexOf(id) * 3, store.indexOf(id) * 3 + 3));
    assert.deepEqual(row("a"), [1, 2, 3]);
    assert.deepEqual(row("b"), [0, 0, 5]);
    assert.deepEqual(row("c"), [0, 0, 0]);
    assert.deepEqual(row("d"), [0, 0, 0]);
    const labels = store.labels();
    assert.deepEqual([labels[store.indexOf("a")], labels[store.indexOf("b")], labels[c], labels[store.indexOf("d")]], [0, 1, -1, -1]);
    const masks = store.masks();
    assert.equal(masks.train[store.indexOf("a")], 1);
    assert.equal(masks.val[store.indexOf("b")], 1);
    assert.equal(masks.test[c], 0, "deleted node has no split");
    assert.equal(masks.train.reduce((s, x) => s + x, 0) + masks.val.reduce((s, x) => s + x, 0), 2);

    // Three refused records, each with its reason; the store carried on past them.
    const letters = (await log.read(deadLetterTopic(topics.nodes), 0, 0)).records;
    const reasons = letters.map((r) => dec.decode(r.headers[DEAD_LETTER_HEADERS.reason]!));
    assert.equal(letters.length, 3);
    assert.match(reasons.find((r) => r.startsWith("node bad"))!, /dimension 4 but this graph's are 3/);
    assert.ok(reasons.some((r) => r.includes("is not \"src NUL dst\"")));
    assert.ok(reasons.some((r) => r.startsWith("edge a->c")));
    assert.ok(!g.hasNode("bad"));
    // The store that opened first has not seen any of it yet; the dead letters are not sent twice.
    assert.equal(store0.numNodes, 0);

    // Re-upserting c revives its index, and the positions say what was read.
    const before = store.version;
    await produce(topics.nodes, [encodeNode({ id: "c", label: 2, features: f32(7, 8, 9) })]);
    await produce(topics.edges, [encodeEdge({ src: "c", dst: "b", weight: 0.5 })]);
    await store.catchUp();
    assert.equal(store.indexOf("c"), c);
    assert.ok(store.isAlive(c));
    assert.equal(store.holes().length, 0);
    const rowNow = (id: string) => Array.from(store.features().data.subarray(store.indexOf(id) * 3, store.indexOf(id) * 3 + 3));
    assert.deepEqual(rowNow("c"), [7, 8, 9]);
    // The graphology view, built above, followed the new events.
    assert.deepEqual(g.getNodeAttributes("c"), { label: 2, split: null });
    assert.equal(g.getEdgeAttribute(g.edge("b", "c")!, "weight"), 0.5);
    assert.deepEqual(store.changedSince(before), new Set(["b", "c"]));
    assert.deepEqual(store.changedSince(store.version), new Set());

    const next = store.snapshot();
    assert.notEqual(next, csr);
    assert.deepEqual(csrNeighbours(store, next, "c"), ["b"]);
    const weightOf = (from: string, to: string) => {
      const v = store.indexOf(from);
      for (let p = next.rowPtr[v]!; p < next.rowPtr[v + 1]!; p++) if (next.colIdx[p] === store.indexOf(to)) return next.weights![p];
      return undefined;
    };
    assert.equal(weightOf("c", "b"), 0.5);
    assert.equal(weightOf("b", "c"), 0.5);
    assert.equal(weightOf("a", "b"), 1);

    const consumed = (topic: string) => store.positions().filter((p) => p.topic === topic).reduce((s, p) => s + p.offset, 0);
    assert.equal(consumed(topics.nodes), 6);
    assert.equal(consumed(topics.edges), 8);
  });

  it("reports the nodes changed since a version: features, labels and edges, including deletions", async () => {
    const { ns, topics } = await freshGraph();
    await produce(topics.nodes, ["a", "b", "c", "d", "e"].map((id) => encodeNode({ id, features: f32(1, 1) })));
    await produce(topics.edges, [encodeEdge({ src: "a", dst: "b" }), encodeEdge({ src: "c", dst: "d" }), encodeEdge({ src: "d", dst: "e" })]);
    const store = await GraphStore.open(log, ns);
    const v0 = store.version;
    assert.equal(v0, 8, "one version per event applied");
    assert.deepEqual(store.changedSince(v0), new Set());
    assert.equal(store.changedSince(0).size, 5);

    await produce(topics.nodes, [encodeNode({ id: "a", label: 3, features: f32(1, 1) })]);
    await store.catchUp();
    const v1 = store.version;
    assert.deepEqual(store.changedSince(v0), new Set(["a"]));

    await produce(topics.edges, [encodeEdge({ src: "a", dst: "b" })]); // unchanged: touches nothing
    await produce(topics.nodes, [nodeTombstone("d")]); // d and its neighbours c, e
    await store.catchUp();
    assert.deepEqual(store.changedSince(v1), new Set(["c", "d", "e"]));
    assert.deepEqual(store.changedSince(v0), new Set(["a", "c", "d", "e"]));
    assert.equal(store.graph.size, 1);
  });

  it("builds a directed graph's CSR from out-edges", async () => {
    const { ns, topics } = await freshGraph();
    await produce(topics.edges, [encodeEdge({ src: "x", dst: "y" }), encodeEdge({ src: "y", dst: "x" }), encodeEdge({ src: "y", dst: "z" }), encodeEdge({ src: "z", dst: "z" })]);
    const store = await GraphStore.open(log, ns, { directed: true });
    const csr = store.snapshot();
    assert.equal(store.graph.size, 4);
    assert.deepEqual(csrNeighbours(store, csr, "x"), ["y"]);
    assert.deepEqual(csrNeighbours(store, csr, "y"), ["x", "z"]);
    assert.deepEqual(csrNeighbours(store, csr, "z"), ["z"]);
    assert.equal(store.featureDim, 0);
    assert.equal(store.features().data.length, 0);
  });

  it("freezes into plain arrays that survive a post to another thread and answer as the store does", async () => {
    const { ns, topics } = await freshGraph();
    await produce(topics.nodes, [
      encodeNode({ id: "a", label: 0, split: "train", features: f32(1, 2) }),
      encodeNode({ id: "b", label: 1, split: "val", features: f32(3, 4) }),
      encodeNode({ id: "c", split: "test", features: f32(5, 6) }),
    ]);
    await produce(topics.edges, [encodeEdge({ src: "a", dst: "b", weight: 2 }), encodeEdge({ src: "b", dst: "c" })]);
    await produce(topics.nodes, [nodeTombstone("c")]);
    const store = await GraphStore.open(log, ns);
    const data = freezeGraph(store);
    const { port1, port2 } = new MessageChannel();
    const received = once(port2, "message");
    port1.postMessage(data, frozenGraphBuffers(data));
    const [posted] = (await received) as [FrozenGraphData];
    port1.close();
    assert.equal(data.features.data.byteLength, 0, "the buffers were transferred, not copied");
    const frozen = new FrozenGraph(posted);
    assert.equal(frozen.version, store.version);
    assert.equal(frozen.numNodes, 3);
    assert.deepEqual([0, 1, 2].map((i) => frozen.idOf(i)), ["a", "b", "c"]);
    assert.deepEqual(frozen.features(), { dim: 2, data: store.features().data.slice(0, 6) });
    assert.deepEqual(frozen.labels(), store.labels());
    assert.deepEqual(frozen.masks(), store.masks());
    assert.deepEqual(frozen.snapshot(), store.snapshot());
    assert.equal(frozen.features().data.buffer.byteLength, 6 * 4, "each array exactly its size");
    assert.throws(() => frozen.idOf(3), /FrozenGraph.idOf: no node at index 3 \(the graph has 3\)/);
  });

  it("follows events produced after open, within a second", async () => {
    const { ns, topics } = await freshGraph();
    const store = await GraphStore.open(log, ns, { pollWaitMs: 200 });
    const stop = new AbortController();
    const following = store.follow(stop.signal);
    try {
      const start = Date.now();
      await produce(topics.nodes, [encodeNode({ id: "p", label: 1, features: f32(0.5) })]);
      await produce(topics.edges, [encodeEdge({ src: "p", dst: "q" })]);
      await waitUntil(() => store.graph.hasEdge("p", "q") && store.graph.hasNode("p") && store.labels()[store.indexOf("p")] === 1, 1000);
      const elapsed = Date.now() - start;
      await produce(topics.edges, [edgeTombstone("q", "p")]);
      await store.catchUp(); // while following: waits for the follower instead of reading twice
      assert.equal(store.graph.size, 0);
      assert.ok(elapsed < 1000, `applied after ${elapsed} ms`);
    } finally {
      stop.abort();
      await following;
    }
    assert.equal(store.version, 3);
  });

  it("materialises 100k nodes and 1M edges in seconds, matching a CSR built from the edge list", async (t) => {
    const { ns, topics } = await freshGraph(1);
    const numNodes = 100_000;
    const numEdges = 1_000_000;
    const rng = xoroshiro128plus(42);
    const src = new Int32Array(numEdges);
    const dst = new Int32Array(numEdges);
    for (let e = 0; e < numEdges; e++) {
      src[e] = unsafeUniformIntDistribution(0, numNodes - 1, rng);
      dst[e] = unsafeUniformIntDistribution(0, numNodes - 1, rng);
    }
    // Declare the nodes first so their indices are 0..N-1, as in the reference below.
    const nodeRecords: ProduceRecord[] = [];
    for (let v = 0; v < numNodes; v++) nodeRecords.push(encodeNode({ id: `n${v}`, label: v % 7 }));
    await produce(topics.nodes, nodeRecords);
    const unweighted = encodeEdge({ src: "a", dst: "b" }).value;
    for (let at = 0; at < numEdges; at += 100_000) {
      const batch: ProduceRecord[] = [];
      for (let e = at; e < at + 100_000; e++) batch.push({ key: encodeEdgeKey(`n${src[e]}`, `n${dst[e]}`), value: unweighted });
      await produce(topics.edges, batch);
    }

    const start = performance.now();
    const store = await GraphStore.open(log, ns);
    const materialised = performance.now() - start;
    const csr = store.snapshot();
    const total = performance.now() - start;
    t.diagnostic(`materialise ${materialised.toFixed(0)} ms, + snapshot ${(total - materialised).toFixed(0)} ms`);

    // Reference: the same edges deduplicated as undirected pairs, straight into a CSR.
    const seen = new Set<number>();
    const keptSrc = new Int32Array(numEdges);
    const keptDst = new Int32Array(numEdges);
    let kept = 0;
    for (let e = 0; e < numEdges; e++) {
      const pair = Math.min(src[e]!, dst[e]!) * numNodes + Math.max(src[e]!, dst[e]!);
      if (seen.has(pair)) continue;
      seen.add(pair);
      keptSrc[kept] = src[e]!;
      keptDst[kept++] = dst[e]!;
    }
    const expected = buildCsr({ src: keptSrc, dst: keptDst, length: kept }, numNodes, { directed: false, weighted: false });
    assert.equal(store.numNodes, numNodes);
    assert.equal(store.edgeCount, kept);
    for (let v = 0; v < numNodes; v++) assert.equal(store.idOf(v), `n${v}`);
    assert.deepEqual(csr.rowPtr, expected.rowPtr);
    assert.deepEqual(csr.colIdx, expected.colIdx);
    assert.equal(store.labels()[12345], 12345 % 7);

    // Independently of buildCsr: sampled rows against neighbour sets from the edge list, and symmetry.
    const sampled = new Map<number, Set<number>>();
    for (let v = 0; v < numNodes; v += 997) sampled.set(v, new Set());
    for (let e = 0; e < numEdges; e++) {
      sampled.get(src[e]!)?.add(dst[e]!);
      sampled.get(dst[e]!)?.add(src[e]!);
    }
    for (const [v, neighbours] of sampled) {
      assert.deepEqual(Array.from(csr.colIdx.subarray(csr.rowPtr[v]!, csr.rowPtr[v + 1]!)), [...neighbours].sort((x, y) => x - y));
    }
    for (let v = 0; v < numNodes; v++) {
      for (let p = csr.rowPtr[v]!; p < csr.rowPtr[v + 1]!; p++) {
        const u = csr.colIdx[p]!;
        const row = csr.colIdx.subarray(csr.rowPtr[u]!, csr.rowPtr[u + 1]!);
        if (row.indexOf(v) < 0) assert.fail(`entry (${v}, ${u}) has no mirror`);
      }
    }
  });
});

describe("NodeTable", () => {
  it("keeps rows in use and their features through a reservation smaller and one larger than what comes", () => {
    for (const reserved of [2, 100]) {
      const table = new NodeTable(undefined);
      table.reserve(reserved);
      const rows = 40;
      for (let i = 0; i < rows; i++) {
        table.grow(i + 1);
        const features = i % 2 === 0 ? denseVector(Float32Array.of(i, -i, 0.5)) : sparseVector(3, Uint32Array.of(1), Float32Array.of(i));
        table.set(i, i % 7, i % 3 === 0 ? "train" : null, features);
      }
      const { dim, data } = table.featureMatrix(rows);
      assert.equal(dim, 3);
      assert.equal(data.length, rows * 3);
      for (let i = 0; i < rows; i++) assert.deepEqual([...data.subarray(3 * i, 3 * i + 3)], i % 2 === 0 ? [i, -i, 0.5] : [0, i, 0], `row ${i}, ${reserved} reserved`);
      assert.deepEqual([...table.labels(rows)], Array.from({ length: rows }, (_, i) => i % 7));
      assert.equal(table.attributes(39).split, "train");
    }
  });

  it("takes a reservation as a hint: one far beyond memory (node records counting every update) is capped", () => {
    const table = new NodeTable(4096);
    table.reserve(2 ** 40);
    table.grow(3);
    table.set(2, 1, "val", sparseVector(4096, Uint32Array.of(4095), Float32Array.of(7)));
    assert.equal(table.featureMatrix(3).data[2 * 4096 + 4095], 7);
    assert.equal(table.attributes(2).split, "val");
  });
});
