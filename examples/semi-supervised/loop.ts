/**
 * Semi-supervised learning with a dynamic graph, the first CARLS paradigm, as one function: the
 * graph is ingested into topics; makers run beside the trainer and keep the banks fresh (class
 * probabilities and embeddings from the newest checkpoint, nearest neighbours by embedding,
 * confident pseudo-labels); the trainer reads them every step, without waiting for the makers.
 */
import { join } from "node:path";
import { planetoidSource, syntheticSource, writeGraph, type GraphSource } from "../../connectors/index.ts";
import { initBackend } from "../../graph/gnn/backend.ts";
import { buildModel, graphInputs, type ModelKind } from "../../graph/models.ts";
import { GraphStore } from "../../graph/store/graph-store.ts";
import { VectorBankView } from "../../src/bank/vector-view.ts";
import type { Log } from "../../src/log/types.ts";
import { embeddingsMaker, neighboursMaker, pseudoLabelsMaker, startMaker, type Maker, type MakerStats, type RunningMaker } from "../../src/makers/index.ts";
import { banksOf, type KnowledgeTerm, type TermSpec } from "../../src/trainer/knowledge.ts";
import { openTermsOffThread, type Freshness } from "../../src/trainer/off-thread.ts";
import { train, type StepRecord, type TrainerOptions, type TrainResult } from "../../src/trainer/trainer.ts";

export interface KnowledgeConfig {
  /** Weight of the neighbour loss over graph edges and, when `dynamicNeighbours`, HNSW neighbours. */
  readonly graphWeight: number;
  readonly dynamicNeighbours: boolean;
  /** k of the neighbours maker. */
  readonly k: number;
  /** Weight of the pseudo-label loss; 0 leaves the pseudo-labels maker out. */
  readonly pseudoWeight: number;
  readonly pseudoThreshold: number;
  /** Sharpening of the neighbours' predicted distributions. */
  readonly temperature: number;
}

export interface SemiSupervisedConfig {
  readonly log: Log;
  readonly namespace: string;
  readonly dataset: "cora" | "synthetic";
  /** Where `planetoid/` is (for cora). */
  readonly datasetsDir?: string;
  readonly model: ModelKind;
  /** Default: the recipe's. */
  readonly hiddenDim?: number;
  readonly dropout?: number;
  readonly seed: number;
  readonly steps: number;
  /** Default: the recipe's. */
  readonly checkpointEvery?: number;
  readonly patience?: number;
  /**
   * Optional staleness bound, in checkpoints: before a step the trainer waits until the last bank of
   * the makers' chain (pseudo-labels, else predictions) holds values at most this many checkpoints
   * old. Absent: the trainer never waits for the makers.
   */
  readonly staleness?: number;
  /** Absent: the same model without knowledge, the baseline. */
  readonly knowledge?: KnowledgeConfig;
  readonly onStep?: (record: StepRecord) => void;
}

export interface SemiSupervisedReport {
  readonly dataset: string;
  readonly model: ModelKind;
  readonly knowledge: boolean;
  readonly backend: string;
  readonly result: TrainResult;
  readonly makers: readonly MakerStats[];
  readonly seconds: number;
}

/** A model's shape and the knowledge that helps it, as measured on Cora (see the README's accuracy table). */
export interface Recipe {
  readonly hiddenDim: number;
  readonly dropout: number;
  readonly checkpointEvery: number;
  readonly knowledge: KnowledgeConfig;
}

/**
 * - mlp: the graph reaches the MLP only through the loss: each node is pulled towards its graph
 *   neighbours' sharpened bank predictions (Neural Structured Learning with the neighbours looked up).
 * - gcn: pseudo-labels from the bank. Adding the dynamic (HNSW) neighbours to a GCN, or its own
 *   edges again, measured lower, so this recipe leaves them out.
 */
export const RECIPES: Record<ModelKind, Recipe> = {
  mlp: { hiddenDim: 64, dropout: 0.5, checkpointEvery: 20, knowledge: { graphWeight: 30, dynamicNeighbours: false, k: 10, pseudoWeight: 0, pseudoThreshold: 0.9, temperature: 0.3 } },
  gcn: { hiddenDim: 64, dropout: 0.8, checkpointEvery: 10, knowledge: { graphWeight: 0, dynamicNeighbours: false, k: 10, pseudoWeight: 1, pseudoThreshold: 0.8, temperature: 1 } },
  sage: { hiddenDim: 64, dropout: 0.5, checkpointEvery: 10, knowledge: { graphWeight: 0, dynamicNeighbours: false, k: 10, pseudoWeight: 1, pseudoThreshold: 0.8, temperature: 1 } },
};

/** The graph the loop learns on. */
export function graphSource(dataset: SemiSupervisedConfig["dataset"], datasetsDir?: string): GraphSource {
  if (dataset === "cora") {
    if (!datasetsDir) throw new Error("the cora dataset needs datasetsDir (the folder holding planetoid/)");
    return planetoidSource(join(datasetsDir, "planetoid"), "cora");
  }
  // Many individually weak features, as bag-of-words are: with few (32) the MLP cannot fit its
  // neighbours' predictions from its own features, and graph regularisation measured no gain.
  return syntheticSource({ seed: 7, nodes: 3000, classes: 5, avgDegree: 6, homophily: 0.7, featureDim: 256, classSeparation: 0.15, split: { train: 0.03, val: 0.15 } });
}

const POLL = { pollWaitMs: 50 } as const;

/** The makers a knowledge configuration needs, in the order of their chain. */
export function knowledgeMakers(knowledge: KnowledgeConfig): Array<{ readonly name: string; readonly inputBanks: readonly string[]; make(): Maker }> {
  if (knowledge.dynamicNeighbours && !(knowledge.graphWeight > 0)) throw new Error("knowledge.dynamicNeighbours feeds the graph term: it needs graphWeight > 0");
  return [
    { name: "predictions", inputBanks: [], make: () => embeddingsMaker({ output: "probabilities" }) },
    ...(knowledge.dynamicNeighbours
      ? [
          { name: "embeddings", inputBanks: [], make: () => embeddingsMaker({ output: "embedding" }) },
          { name: "neighbours", inputBanks: ["embeddings"], make: () => neighboursMaker({ k: knowledge.k }) },
        ]
      : []),
    ...(knowledge.pseudoWeight > 0 ? [{ name: "pseudo-labels", inputBanks: ["predictions"], make: () => pseudoLabelsMaker({ threshold: knowledge.pseudoThreshold }) }] : []),
  ];
}

/** The loss terms through which the trainer reads the makers' knowledge. */
export interface OpenKnowledge {
  readonly terms: readonly KnowledgeTerm[];
  /** The last bank of the makers' chain, which a staleness bound waits on. */
  readonly freshest: Freshness;
  close(): Promise<void>;
}

/** The knowledge terms of a configuration, as data: which banks each reads, and its settings. */
export function knowledgeTerms(knowledge: KnowledgeConfig): TermSpec[] {
  return [
    ...(knowledge.graphWeight > 0
      ? [{ kind: "graph" as const, predictions: "predictions", ...(knowledge.dynamicNeighbours ? { neighbours: "neighbours" } : {}), weight: knowledge.graphWeight, targets: { align: true, temperature: knowledge.temperature } }]
      : []),
    ...(knowledge.pseudoWeight > 0 ? [{ kind: "pseudo" as const, pseudoLabels: "pseudo-labels", weight: knowledge.pseudoWeight }] : []),
  ];
}

/** The terms of `knowledge`, their constants built off the trainer's thread from the banks as they move. */
export async function openKnowledge(log: Log, namespace: string, knowledge: KnowledgeConfig, graph: GraphStore): Promise<OpenKnowledge> {
  const specs = knowledgeTerms(knowledge);
  const opened = await openTermsOffThread(log, namespace, specs, graph, POLL);
  // A staleness bound waits on the end of the makers' chain: pseudo-labels come from predictions.
  const read = new Set(specs.flatMap(banksOf));
  const chainEnd = read.has("pseudo-labels") ? "pseudo-labels" : read.has("predictions") ? "predictions" : undefined;
  const own = chainEnd ? undefined : await VectorBankView.open(log, namespace, "predictions", POLL);
  return {
    terms: opened.terms,
    freshest: chainEnd ? opened.freshness(chainEnd) : own!,
    close: async () => {
      await opened.close();
      await own?.close();
    },
  };
}

export type TrainerConfig = Omit<SemiSupervisedConfig, "log" | "namespace" | "datasetsDir" | "onStep">;

/** The trainer's side of the loop, on a graph already in the topics: reads the banks, never runs a maker. */
export async function trainWithKnowledge(log: Log, namespace: string, config: TrainerConfig, hooks: { onStep?: (record: StepRecord) => void; signal?: AbortSignal; run?: TrainerOptions["run"] } = {}): Promise<{ result: TrainResult; backend: string }> {
  const backend = await initBackend();
  const graph = await GraphStore.open(log, namespace);
  const labels = graph.labels();
  const recipe = RECIPES[config.model];
  const classes = labels.reduce((a, b) => Math.max(a, b), -1) + 1;
  const spec = { kind: config.model, inputDim: graph.featureDim, hiddenDim: config.hiddenDim ?? recipe.hiddenDim, dropout: config.dropout ?? recipe.dropout, classes, seed: config.seed };
  const model = buildModel(spec);
  const inputs = graphInputs(graph, config.model);
  const knowledge = config.knowledge ? await openKnowledge(log, namespace, config.knowledge, graph) : undefined;
  try {
    const result = await train({
      log,
      namespace,
      graph,
      model,
      spec,
      inputs: inputs.inputs,
      steps: config.steps,
      checkpointEvery: config.checkpointEvery ?? recipe.checkpointEvery,
      knowledge: knowledge?.terms ?? [],
      patience: config.patience,
      onStep: hooks.onStep,
      signal: hooks.signal,
      run: hooks.run,
      ...(config.staleness !== undefined && knowledge ? { staleness: { checkpoints: config.staleness, freshness: knowledge.freshest } } : {}),
    });
    return { result, backend: backend.name };
  } finally {
    await knowledge?.close();
    model.dispose();
    inputs.dispose();
  }
}

/** The whole loop in this process: ingest, the makers beside the trainer, and a report. (`program.ts` is the same loop as a program of nodes.) */
export async function runSemiSupervised(config: SemiSupervisedConfig): Promise<SemiSupervisedReport> {
  const started = performance.now();
  const { log, namespace } = config;
  await initBackend();
  await writeGraph({ log, namespace, source: graphSource(config.dataset, config.datasetsDir), progress: false });
  const makers: RunningMaker[] = [];
  try {
    for (const maker of config.knowledge ? knowledgeMakers(config.knowledge) : []) makers.push(await startMaker(log, namespace, maker.make(), POLL));
    const { result, backend } = await trainWithKnowledge(log, namespace, config, { onStep: config.onStep });
    return { dataset: config.dataset, model: config.model, knowledge: config.knowledge !== undefined, backend, result, makers: makers.map((m) => m.stats()), seconds: (performance.now() - started) / 1000 };
  } finally {
    await Promise.all(makers.map((m) => m.stop()));
  }
}
