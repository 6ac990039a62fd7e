/**
 * bench/graph-store: materialising a graph from the embedded log, and its CSR snapshot.
 *
 *   npx tsx bench/graph-store.ts [--nodes 100000 --edges 1000000 --runs 3 --graphology]
 *
 * A seeded random graph (distinct undirected edges, no weights) is produced to the graph topics
 * once. Each run opens a fresh GraphStore on them (read + decode + apply) and takes its snapshot.
 * Beside it, in the same run: reading the same records from the log without applying them (the
 * log's share), and the reference, the same CSR built straight from the in-memory edge arrays (no
 * log, no graphology). `--graphology` adds building the graphology view on first access.
 * Rows are the median of `--runs` runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { unsafeUniformIntDistribution, xoroshiro128plus } from "pure-rand";
import { GraphStore, buildCsr, type CsrSnapshot } from "../graph/store/index.ts";
import { openEmbeddedLog, type Log, type ProduceRecord } from "../src/log/index.ts";
import { encodeEdge, encodeEdgeKey, encodeNode, ensureGraphTopics, type GraphTopics } from "../src/schema/index.ts";
import { median } from "./median.ts";

const { values: args } = parseArgs({
  options: {
    nodes: { type: "string", default: "100000" },
    edges: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    graphology: { type: "boolean", default: false },
  },
});
const NODES = Number(args.nodes);
const EDGES = Number(args.edges);
const RUNS = Number(args.runs);

/** EDGES distinct undirected edges (self-loops allowed) over NODES nodes, seeded. */
function randomEdges(): { src: Int32Array; dst: Int32Array } {
  const rng = xoroshiro128plus(7);
  const src = new Int32Array(EDGES);
  const dst = new Int32Array(EDGES);
  const seen = new Set<number>();
  for (let e = 0; e < EDGES; ) {
    const a = unsafeUniformIntDistribution(0, NODES - 1, rng);
    const b = unsafeUniformIntDistribution(0, NODES - 1, rng);
    const pair = Math.min(a, b) * NODES + Math.max(a, b);
    if (seen.has(pair)) continue;
    seen.add(pair);
    src[e] = a;
    dst[e++] = b;
  }
  return { src, dst };
}

async function produceGraph(log: Log, topics: GraphTopics, src: Int32Array, dst: Int32Array): Promise<void> {
  const nodes: ProduceRecord[] = [];
  for (let v = 0; v < NODES; v++) nodes.push(encodeNode({ id: `n${v}` }));
  await log.produce(topics.nodes, nodes);
  const unweighted = encodeEdge({ src: "a", dst: "b" }).value;
  for (let at = 0; at < EDGES; at += 100_000) {
    const batch: ProduceRecord[] = [];
    for (let e = at; e < Math.min(EDGES, at + 100_000); e++) batch.push({ key: encodeEdgeKey(`n${src[e]}`, `n${dst[e]}`), value: unweighted });
    await log.produce(topics.edges, batch);
  }
}

async function readOnly(log: Log, topics: GraphTopics): Promise<number> {
  let records = 0;
  for (const topic of [topics.nodes, topics.edges]) {
    for (const { partition, highWatermark } of await log.offsets(topic)) {
      for (let offset = 0; offset < highWatermark; ) {
        const result = await log.read(topic, partition, offset);
        records += result.records.length;
        offset = result.nextOffset;
      }
    }
  }
  return records;
}

const ms = async (work: () => unknown): Promise<number> => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};

const dir = mkdtempSync(join(tmpdir(), "carls-bench-graph-store-"));
const log = await openEmbeddedLog({ dir, durability: "process", maintenanceIntervalMs: 0 });
try {
  const { src, dst } = randomEdges();
  const topics = await ensureGraphTopics(log, "bench", 1);
  const produced = await ms(() => produceGraph(log, topics, src, dst));

  const rows = new Map<string, number[]>();
  const record = (name: string, value: number) => rows.set(name, [...(rows.get(name) ?? []), value]);
  let identical = true;
  for (let run = 0; run < RUNS; run++) {
    record("log read only (no decode, no apply)", await ms(() => readOnly(log, topics)));
    let store!: GraphStore;
    record("store: materialise (GraphStore.open)", await ms(async () => (store = await GraphStore.open(log, "bench"))));
    let csr!: CsrSnapshot;
    record("store: CSR snapshot", await ms(() => (csr = store.snapshot())));
    record("store: CSR snapshot, cached", await ms(() => store.snapshot()));
    let reference!: CsrSnapshot;
    record("reference: CSR from in-memory arrays", await ms(() => (reference = buildCsr({ src, dst }, NODES, { directed: false, weighted: false }))));
    identical &&= Buffer.from(csr.rowPtr.buffer).equals(Buffer.from(reference.rowPtr.buffer)) && Buffer.from(csr.colIdx.buffer).equals(Buffer.from(reference.colIdx.buffer));
    if (args.graphology && run === 0) record("graphology view, first access (once)", await ms(() => store.graph.size));
  }

  console.log(`graph: ${NODES.toLocaleString()} nodes, ${EDGES.toLocaleString()} undirected edges (produced in ${(produced / 1000).toFixed(1)} s); median of ${RUNS} runs`);
  console.log(`store CSR identical to reference: ${identical ? "yes" : "NO"}\n`);
  const width = Math.max(...[...rows.keys()].map((k) => k.length));
  console.log(`${"step".padEnd(width)}  ${"ms".padStart(9)}  ${"edges/s".padStart(12)}`);
  for (const [name, times] of rows) {
    const t = median(times);
    console.log(`${name.padEnd(width)}  ${t.toFixed(1).padStart(9)}  ${(t > 0.05 ? Math.round(EDGES / (t / 1000)).toLocaleString() : "-").padStart(12)}`);
  }
} finally {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
