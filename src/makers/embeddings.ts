/**
 * The embeddings maker: loads the newest checkpoint, runs the model over the whole graph, and
 * writes each owned node's hidden embedding (or class probabilities) to a bank, tagged with the
 * checkpoint's step. One forward pass serves every batch of a cycle; a new checkpoint or a graph
 * change makes it run again.
 */
import { CheckpointFollower } from "../schema/checkpoint-topic.ts";
import { buildModel, graphInputs, type ModelSpec } from "../../graph/models.ts";
import * as tf from "../../graph/gnn/tf.ts";
import type { GraphStore } from "../../graph/store/graph-store.ts";
import type { Maker, MakerContext, MakerOutput } from "./maker.ts";

export interface EmbeddingsMakerOptions {
  /** Default "embeddings" (hidden layer) or "predictions" (probabilities), after `output`. */
  readonly bank?: string;
  /** The last hidden layer (default), or the class probabilities. */
  readonly output?: "embedding" | "probabilities";
  readonly name?: string;
}

export function embeddingsMaker(options: EmbeddingsMakerOptions = {}): Maker {
  const output = options.output ?? "embedding";
  const bank = options.bank ?? (output === "embedding" ? "embeddings" : "predictions");
  let checkpoints: CheckpointFollower | undefined;
  let graph: GraphStore | undefined;
  let cached: { step: number; graphVersion: number; dim: number; values: Float32Array } | undefined;

  const outputs = (step: number): { dim: number; values: Float32Array } => {
    if (cached && cached.step === step && cached.graphVersion === graph!.version) return cached;
    const checkpoint = checkpoints!.latest()!;
    const spec = checkpoint.model.config as unknown as ModelSpec;
    const model = buildModel(spec);
    const inputs = graphInputs(graph!, spec.kind);
    try {
      model.setWeights(checkpoint.weights);
      const result = tf.tidy(() => (output === "embedding" ? model.embed(inputs.inputs) : model.predict(inputs.inputs)));
      cached = { step, graphVersion: graph!.version, dim: result.shape[1], values: result.dataSync() as Float32Array };
      result.dispose();
      return cached;
    } finally {
      model.dispose();
      inputs.dispose();
    }
  };

  return {
    name: options.name ?? bank,
    bank,
    outputKind: "vector",
    get hops() {
      const kind = checkpoints?.latest()?.model.kind;
      return kind === "mlp" ? 0 : 2;
    },
    async start(context: MakerContext) {
      graph = context.graph;
      checkpoints = await CheckpointFollower.open(context.log, context.namespace);
    },
    target: () => checkpoints?.latest()?.step,
    async poll(waitMs, signal) {
      await checkpoints!.poll(waitMs, signal);
    },
    async compute(keys, step): Promise<MakerOutput> {
      if (checkpoints!.latest()?.step !== step) return {};
      const { dim, values } = outputs(step);
      return {
        vectors: keys.map((key) => {
          const row = graph!.indexOf(key);
          return { key, values: values.slice(row * dim, (row + 1) * dim) };
        }),
      };
    },
    async close() {},
  };
}
