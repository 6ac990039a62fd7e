/**
 * Trainer overhead of reading the bank: the same training steps (same model, same knowledge
 * losses) with the knowledge read from the banks every step, as the trainer does (the terms'
 * constants built off its thread as the banks move, `openTermsOffThread`), and with it frozen in
 * arrays before the run, no bank followed (the reference). Meanwhile a writer puts a new version
 * of every node into the banks every 5 steps, as makers would after each checkpoint, in both runs.
 *
 *   npx tsx bench/trainer-overhead.ts [--model gcn|mlp] [--steps 100] [--dataset cora|synthetic]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { planetoidSource, syntheticSource, writeGraph } from "../connectors/index.ts";
import { initBackend } from "../graph/gnn/backend.ts";
import { buildModel, graphInputs, type ModelKind } from "../graph/models.ts";
import { GraphStore } from "../graph/store/graph-store.ts";
import { BankWriter } from "../src/bank/index.ts";
import { openLog } from "../src/log/index.ts";
import { openTerms, type KnowledgeTerm, type TermSpec } from "../src/trainer/knowledge.ts";
import { openTermsOffThread } from "../src/trainer/off-thread.ts";
import { train } from "../src/trainer/trainer.ts";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "gcn" },
    steps: { type: "string", default: "100" },
    dataset: { type: "string", default: "cora" },
    datasets: { type: "string", default: process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets") },
  },
});
const kind = args.model as ModelKind;
const steps = Number(args.steps);
await initBackend();
const dir = mkdtempSync(join(tmpdir(), "carls-overhead-"));
const log = await openLog(`embedded:${dir}`);
const ns = "overhead";
const source = args.dataset === "cora" ? planetoidSource(join(args.datasets, "planetoid"), "cora") : syntheticSource({ seed: 1, nodes: 3000, classes: 5, avgDegree: 6, homophily: 0.7, featureDim: 32 });
await writeGraph({ log, namespace: ns, source, progress: false });
const graph = await GraphStore.open(log, ns);
const ids = Array.from({ length: graph.numNodes }, (_, i) => graph.idOf(i));
const classes = graph.labels().reduce((a, b) => Math.max(a, b), -1) + 1;

let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const writers = { predictions: await BankWriter.open(log, ns, "predictions"), neighbours: await BankWriter.open(log, ns, "neighbours"), pseudo: await BankWriter.open(log, ns, "pseudo-labels") };
async function writeVersion(step: number): Promise<void> {
  await writers.predictions.upsertVectors(ids.map((key) => {
    const p = Float32Array.from({ length: classes }, () => random() + 0.01);
    const sum = p.reduce((a, b) => a + b, 0);
    return { key, values: p.map((x) => x / sum) };
  }), step);
  await writers.neighbours.upsertNeighbours(ids.map((key) => ({ key, neighbours: { ids: Array.from({ length: 10 }, () => ids[Math.floor(random() * ids.length)]!), distances: new Float32Array(10) } })), step);
  await writers.pseudo.upsertVectors(ids.map((key) => ({ key, values: Float32Array.of(Math.floor(random() * classes), 0.95) })), step);
}
await writeVersion(0);

const SPECS: TermSpec[] = [
  { kind: "graph", predictions: "predictions", neighbours: "neighbours", weight: 1, targets: { align: true, temperature: 0.3 } },
  { kind: "pseudo", pseudoLabels: "pseudo-labels", weight: 1 },
];
/** The same terms, prepared once from the banks as they stand: constants in arrays, no bank followed during the run. */
async function frozenTerms(): Promise<KnowledgeTerm[]> {
  const opened = await openTerms(log, ns, SPECS);
  const frozen = opened.terms.map((term): KnowledgeTerm => {
    const prepared = term.prepare(graph);
    const versions = term.versions();
    return { name: term.name, weight: term.weight, spec: term.spec, prepare: () => prepared, versions: () => versions };
  });
  await opened.close();
  return frozen;
}

const ROUNDS = 4;
let writing = Promise.resolve();
interface StepTimes {
  readonly mean: number;
  readonly median: number;
}

async function run(terms: KnowledgeTerm[], label: string): Promise<StepTimes> {
  const spec = { kind, inputDim: graph.featureDim, hiddenDim: 16, classes, seed: 0 };
  const model = buildModel(spec);
  const inputs = graphInputs(graph, kind);
  const stepMs: number[] = [];
  await train({
    log, namespace: `${ns}-${label}`, graph, model, spec, inputs: inputs.inputs, steps, checkpointEvery: 1_000_000, knowledge: terms,
    onStep: (record) => {
      stepMs.push(record.ms);
      if (record.step % 5 === 0) writing = writing.then(() => writeVersion(record.step));
    },
  });
  await writing;
  model.dispose();
  inputs.dispose();
  const timed = stepMs.slice(5).sort((a, b) => a - b); // after a warm-up
  return { mean: timed.reduce((a, b) => a + b, 0) / timed.length, median: timed[Math.floor(timed.length / 2)]! };
}

const results: Array<[string, StepTimes]> = [];
const runLive = async (round: number) => {
  const live = await openTermsOffThread(log, ns, SPECS, graph);
  try {
    results.push(["bank", await run([...live.terms], `live${round}`)]);
  } finally {
    await live.close();
  }
};
const runFrozen = async (round: number) => results.push(["frozen", await run(await frozenTerms(), `frozen${round}`)]);
// Which goes first alternates, so that warming up favours neither.
for (let round = 0; round < ROUNDS; round++) {
  for (const go of round % 2 === 0 ? [runLive, runFrozen] : [runFrozen, runLive]) await go(round);
}
const best = (label: string, stat: keyof StepTimes) => Math.min(...results.filter(([l]) => l === label).map(([, times]) => times[stat]));
await log.close();
rmSync(dir, { recursive: true, force: true });
console.log(`trainer step time, ${args.dataset}, ${kind}, ${steps} steps (best of ${ROUNDS} runs each, in alternating order), banks rewritten every 5 steps`);
console.log(`| knowledge | mean step ms | median step ms |`);
console.log(`|---|---:|---:|`);
console.log(`| read from the banks every step (constants built off the step's thread) | ${best("bank", "mean").toFixed(2)} | ${best("bank", "median").toFixed(2)} |`);
console.log(`| frozen in arrays before the run (reference) | ${best("frozen", "mean").toFixed(2)} | ${best("frozen", "median").toFixed(2)} |`);
console.log(`overhead: ${(best("bank", "mean") / best("frozen", "mean")).toFixed(3)}x (mean), ${(best("bank", "median") / best("frozen", "median")).toFixed(3)}x (median)`);
