/**
 * From an edge list and a node table (CSV) to a trained GraphSAGE model, on the embedded store.
 *   npx tsx examples/edge-list-graphsage.ts --edges edges.csv --nodes nodes.csv
 * nodes.csv: `id,label,split,f0,f1,...` (split is train, val or test); edges.csv: `src,dst`.
 */
import { parseArgs } from "node:util";
import { csvSource, formatSummary, writeGraph } from "../connectors/index.ts";
import { initBackend } from "../graph/gnn/index.ts";
import { trainNodeClassifier } from "../graph/node-classifier.ts";
import { GraphStore } from "../graph/store/index.ts";
import { openLog } from "../src/log/index.ts";

const { values: args } = parseArgs({ options: { edges: { type: "string" }, nodes: { type: "string" }, store: { type: "string", default: ".carls/edge-list" } } });
const log = await openLog(`embedded:${args.store}`);
console.log(formatSummary(await writeGraph({ log, namespace: "example", source: csvSource({ edges: args.edges, nodes: args.nodes }) })));
const store = await GraphStore.open(log, "example");
await initBackend();
const trained = trainNodeClassifier(store, { model: "sage", seed: 0 });
console.log(`GraphSAGE: ${trained.epochs} epochs, test accuracy ${(100 * trained.accuracy.test).toFixed(1)}%`);
await log.close();
