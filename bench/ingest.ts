/**
 * bench/ingest: throughput of each connector into the embedded store, beside a reference measured
 * in the same run: raw `log.produce` of the same records, encoded beforehand (encoding is not
 * timed), in batches of the same size. The gap is what reading, parsing and encoding cost.
 *
 *   npx tsx bench/ingest.ts [-- --batch 5000 --synthetic-nodes 1000000 --csv-edges 1000000]
 */
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { csvSource, planetoidSource, syntheticEvents, syntheticSource, writeGraph, type GraphSource, type SyntheticOptions } from "../connectors/index.ts";
import { openEmbeddedLog, type Log, type ProduceRecord } from "../src/log/index.ts";
import { encodeEdge, encodeNode } from "../src/schema/index.ts";

const { values: args } = parseArgs({
  options: {
    batch: { type: "string", default: "5000" },
    "synthetic-nodes": { type: "string", default: "1000000" },
    "csv-edges": { type: "string", default: "1000000" },
  },
});
const BATCH = Number(args.batch);
const DATASETS = process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets");
const root = mkdtempSync(join(tmpdir(), "carls-bench-ingest-"));

interface Row {
  readonly case: string;
  readonly records: number;
  readonly connector: number;
  readonly reference: number;
}

/** Times raw produce of the source's events, batch by batch, encoding each batch untimed first. */
async function referenceProduce(log: Log, namespace: string, source: GraphSource): Promise<{ records: number; seconds: number }> {
  const topics = { nodes: `${namespace}.graph.nodes`, edges: `${namespace}.graph.edges` };
  for (const topic of Object.values(topics)) await log.createTopic(topic, { partitions: 4, compacted: true });
  let seconds = 0;
  let records = 0;
  let nodes: ProduceRecord[] = [];
  let edges: ProduceRecord[] = [];
  const flush = async () => {
    const started = performance.now();
    await Promise.all([nodes.length > 0 ? log.produce(topics.nodes, nodes) : undefined, edges.length > 0 ? log.produce(topics.edges, edges) : undefined]);
    seconds += (performance.now() - started) / 1000;
    records += nodes.length + edges.length;
    nodes = [];
    edges = [];
  };
  for await (const event of source.events(0)) {
    if (event.kind === "node") nodes.push(encodeNode(event));
    else if (event.kind === "edge") edges.push(encodeEdge(event));
    if (nodes.length + edges.length >= BATCH) await flush();
  }
  await flush();
  return { records, seconds };
}

async function measure(name: string, source: () => GraphSource): Promise<Row> {
  const log = await openEmbeddedLog({ dir: join(root, name.replace(/\W+/g, "-")), maintenanceIntervalMs: 0 });
  try {
    const started = performance.now();
    const summary = await writeGraph({ log, namespace: "bench", source: source(), batchSize: BATCH, progress: "auto" });
    const seconds = (performance.now() - started) / 1000;
    const records = summary.nodes + summary.edges;
    const reference = await referenceProduce(log, "reference", source());
    if (reference.records !== records) throw new Error(`${name}: reference produced ${reference.records} records, the connector ${records}`);
    return { case: name, records, connector: records / seconds, reference: reference.records / reference.seconds };
  } finally {
    await log.close();
  }
}

async function writeEdgeCsv(path: string, options: SyntheticOptions): Promise<number> {
  const out = createWriteStream(path);
  let edges = 0;
  out.write("src,dst\n");
  for (const event of syntheticEvents(options)) {
    if (event.kind !== "edge") continue;
    edges++;
    if (!out.write(`${event.src},${event.dst}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return edges;
}

const rows: Row[] = [];
try {
  rows.push(await measure("planetoid cora", () => planetoidSource(join(DATASETS, "planetoid"), "cora")));

  const csvEdges = Number(args["csv-edges"]);
  const csvPath = join(root, "edges.csv");
  const written = await writeEdgeCsv(csvPath, { seed: 7, nodes: Math.round(csvEdges / 5), classes: 10, avgDegree: 10, homophily: 0.8, featureDim: 1 });
  rows.push(await measure(`csv edge list (${(written / 1e6).toFixed(2)}M edges)`, () => csvSource({ edges: csvPath })));

  const nodes = Number(args["synthetic-nodes"]);
  rows.push(
    await measure(`synthetic (${nodes / 1e6}M nodes, deg 4, 16 features)`, () =>
      syntheticSource({ seed: 1, nodes, classes: 10, avgDegree: 4, homophily: 0.8, featureDim: 16 }),
    ),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const header = ["case", "records", "connector rec/s", "raw produce rec/s", "connector / raw"];
const table = rows.map((r) => [r.case, fmt(r.records), fmt(r.connector), fmt(r.reference), `${((100 * r.connector) / r.reference).toFixed(0)}%`]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
console.log(`ingest into the embedded store, batches of ${BATCH} (durability: disk)\n`);
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of table) console.log(line(row));
