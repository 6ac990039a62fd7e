/** A small graph and checkpoints of a model over it, for the maker and trainer tests. */
import { syntheticSource, writeGraph } from "../../connectors/index.ts";
import { buildModel, graphInputs, type ModelSpec } from "../../graph/models.ts";
import * as tf from "../../graph/gnn/tf.ts";
import { GraphStore } from "../../graph/store/graph-store.ts";
import type { Log } from "../../src/log/index.ts";
import { ensureCheckpointTopic, publishCheckpoint } from "../../src/schema/checkpoint-topic.ts";

export const SPEC: ModelSpec = { kind: "gcn", inputDim: 16, hiddenDim: 8, classes: 4, seed: 1 };

export async function seedGraph(log: Log, namespace: string, nodes = 1500): Promise<void> {
  await writeGraph({ log, namespace, source: syntheticSource({ seed: 7, nodes, classes: 4, avgDegree: 6, homophily: 0.8, featureDim: 16 }) });
}

/** Publishes the weights of SPEC initialised with `seed` as checkpoint `step`. */
export async function publishModel(log: Log, namespace: string, step: number, seed: number): Promise<void> {
  await ensureCheckpointTopic(log, namespace);
  const model = buildModel({ ...SPEC, seed });
  await publishCheckpoint(log, namespace, { step, model: { kind: SPEC.kind, config: { ...SPEC, seed } }, weights: model.getWeights() });
  model.dispose();
}

/** The embedding of every node under SPEC initialised with `seed`, computed directly: the reference. */
export async function referenceEmbeddings(log: Log, namespace: string, seed: number): Promise<Map<string, Float32Array>> {
  const store = await GraphStore.open(log, namespace);
  const model = buildModel({ ...SPEC, seed });
  const inputs = graphInputs(store, "gcn");
  const out = tf.tidy(() => model.embed(inputs.inputs));
  const values = out.dataSync() as Float32Array;
  const dim = out.shape[1];
  const byId = new Map<string, Float32Array>();
  for (let i = 0; i < store.numNodes; i++) if (store.isAlive(i)) byId.set(store.idOf(i), values.slice(i * dim, (i + 1) * dim));
  out.dispose();
  inputs.dispose();
  model.dispose();
  return byId;
}
