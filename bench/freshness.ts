/**
 * Freshness: the time from a checkpoint being published to the bank holding, for every node, the
 * embeddings and the nearest neighbours computed from it. Makers run in this process on the
 * embedded store, as in examples/semi-supervised. Reference: the same work done directly (one
 * forward pass, one HNSW rebuild and search), without topics or makers.
 *
 *   npx tsx bench/freshness.ts [--dataset cora|synthetic] [--nodes 100000] [--repeats 5]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { planetoidSource, syntheticSource, writeGraph } from "../connectors/index.ts";
import { initBackend } from "../graph/gnn/backend.ts";
import * as tf from "../graph/gnn/tf.ts";
import { buildModel, graphInputs, type ModelSpec } from "../graph/models.ts";
import { GraphStore } from "../graph/store/graph-store.ts";
import { NeighbourBankView, VectorBankView } from "../src/bank/index.ts";
import { NearestIndex } from "../src/bank/nearest/nearest-index.ts";
import { openLog } from "../src/log/index.ts";
import { embeddingsMaker, neighboursMaker, startMaker } from "../src/makers/index.ts";
import { ensureCheckpointTopic, publishCheckpoint } from "../src/schema/checkpoint-topic.ts";
import { median } from "./median.ts";

const { values: args } = parseArgs({
  options: {
    dataset: { type: "string", default: "cora" },
    nodes: { type: "string", default: "100000" },
    repeats: { type: "string", default: "5" },
    datasets: { type: "string", default: process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets") },
  },
});
const repeats = Number(args.repeats);

await initBackend();
const dir = mkdtempSync(join(tmpdir(), "carls-freshness-"));
const log = await openLog(`embedded:${dir}`);
const ns = "fresh";
const source = args.dataset === "cora" ? planetoidSource(join(args.datasets, "planetoid"), "cora") : syntheticSource({ seed: 1, nodes: Number(args.nodes), classes: 10, avgDegree: 10, homophily: 0.7, featureDim: 32 });
await writeGraph({ log, namespace: ns, source, progress: false });
const graph = await GraphStore.open(log, ns);
process.stderr.write(`graph of ${graph.numNodes} nodes and ${graph.edgeCount} edges ingested and materialised\n`);
const nodes = graph.numNodes;
const spec: ModelSpec = { kind: "gcn", inputDim: graph.featureDim, hiddenDim: 16, classes: graph.labels().reduce((a, b) => Math.max(a, b), -1) + 1, seed: 0 };
await ensureCheckpointTopic(log, ns);

const makers = [await startMaker(log, ns, embeddingsMaker(), { pollWaitMs: 20, batchSize: 8192 }), await startMaker(log, ns, neighboursMaker({ k: 10 }), { pollWaitMs: 20, batchSize: 8192 })];
const embeddings = await VectorBankView.open(log, ns, "embeddings", { pollWaitMs: 20 });
const neighbours = await NeighbourBankView.open(log, ns, "neighbours", { pollWaitMs: 20 });

const loop: number[] = [];
for (let step = 1; step <= repeats + 1; step++) {
  const model = buildModel({ ...spec, seed: step });
  const started = performance.now();
  await publishCheckpoint(log, ns, { step, model: { kind: spec.kind, config: { ...spec, seed: step } }, weights: model.getWeights() });
  await embeddings.awaitVersion(step, { minKeys: nodes, timeoutMs: 3_600_000 });
  const embedded = performance.now() - started;
  await neighbours.awaitVersion(step, { minKeys: nodes, timeoutMs: 3_600_000 });
  process.stderr.write(`checkpoint ${step}${step === 1 ? " (warm-up)" : ""}: embeddings of every node after ${(embedded / 1000).toFixed(2)} s, neighbours after ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  if (step > 1) loop.push(performance.now() - started); // the first one warms up
  model.dispose();
}
await Promise.all(makers.map((m) => m.stop()));
await Promise.all([embeddings.close(), neighbours.close()]);

// Reference: the same computation, called directly.
const direct: number[] = [];
const index = await NearestIndex.open({ dim: 16, space: "cosine", m: 12, efConstruction: 64 });
for (let r = 0; r < repeats; r++) {
  const model = buildModel({ ...spec, seed: 100 + r });
  const started = performance.now();
  const inputs = graphInputs(graph, "gcn");
  const out = tf.tidy(() => model.embed(inputs.inputs));
  const vectors = out.dataSync() as Float32Array;
  const labels = Int32Array.from({ length: nodes }, (_, i) => i);
  await index.rebuild(labels, vectors);
  await index.search(vectors, 10, { exclude: labels });
  direct.push(performance.now() - started);
  process.stderr.write(`direct ${r + 1}: ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  out.dispose();
  inputs.dispose();
  model.dispose();
}
await index.close();
await log.close();
rmSync(dir, { recursive: true, force: true });

console.log(`freshness on ${args.dataset} (${nodes} nodes), median of ${repeats}`);
console.log(`| path | checkpoint → embeddings + neighbours of every node |`);
console.log(`|---|---:|`);
console.log(`| carls loop (topics, makers, banks) | ${(median(loop) / 1000).toFixed(3)} s |`);
console.log(`| direct: forward + HNSW rebuild + search, no topics | ${(median(direct) / 1000).toFixed(3)} s |`);
