/**
 * The trainer: a full-batch step loop over a model from graph/, fed by the knowledge bank. Each
 * step it reads what the banks hold now (it never waits for makers, unless a staleness bound says
 * so), adds the knowledge terms to the loss, records which bank versions it used, publishes the
 * step's metrics, and every N steps a checkpoint for the makers.
 */
import { readPartition } from "../log/read-all.ts";
import type { Log } from "../log/types.ts";
import type { BankVersion, BankView } from "../bank/view.ts";
import { ensureCheckpointTopic, publishCheckpoint } from "../schema/checkpoint-topic.ts";
import type { Model, NamedWeight } from "../../graph/gnn/model.ts";
import * as tf from "../../graph/gnn/tf.ts";
import { accuracy, adam, maskedSoftmaxCrossEntropy } from "../../graph/gnn/train.ts";
import type { ModelSpec } from "../../graph/models.ts";
import type { GraphStore } from "../../graph/store/graph-store.ts";
import type { KnowledgeTerm } from "./knowledge.ts";

export const metricsTopic = (namespace: string): string => `${namespace}.trainer.metrics`;
/** Compacted: the last finished run's result, for whoever launched it from elsewhere. */
export const resultTopic = (namespace: string): string => `${namespace}.trainer.result`;

export interface StepRecord {
  readonly step: number;
  readonly loss: number;
  /** Each knowledge term's value (unweighted) and how many pairs or labels fed it; absent when its banks were empty. */
  readonly terms: Readonly<Record<string, { readonly value: number; readonly size: number }>>;
  readonly accuracy: { readonly train: number; readonly val: number };
  /** The bank versions this step's knowledge came from. */
  readonly banks: readonly BankVersion[];
  readonly ms: number;
}

export interface TrainerOptions {
  readonly log: Log;
  readonly namespace: string;
  readonly graph: GraphStore;
  readonly model: Model<unknown>;
  /** How to rebuild the model from a checkpoint (makers do). */
  readonly spec: ModelSpec;
  readonly inputs: unknown;
  readonly steps: number;
  readonly learningRate?: number;
  /** Publish a checkpoint every this many steps (default 10), and at step 0. */
  readonly checkpointEvery?: number;
  readonly knowledge?: readonly KnowledgeTerm[];
  /**
   * Wait, before a step, until `freshness` holds values from a checkpoint at most this many
   * checkpoints old. Absent: never wait.
   */
  readonly staleness?: { readonly checkpoints: number; readonly freshness: BankView; readonly timeoutMs?: number };
  /** Stop when validation accuracy has not improved for this many steps (default: never). */
  readonly patience?: number;
  readonly onStep?: (record: StepRecord) => void;
  readonly signal?: AbortSignal;
}

export interface TrainResult {
  readonly steps: number;
  readonly bestStep: number;
  /** Accuracy of the weights with the best validation accuracy. */
  readonly accuracy: { readonly train: number; readonly val: number; readonly test: number };
  readonly checkpoints: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function validate(options: TrainerOptions): void {
  const count = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new Error(`train: ${name} must be an integer ≥ ${min}, got ${value}`);
  };
  count("steps", options.steps, 0);
  count("checkpointEvery", options.checkpointEvery, 1);
  count("patience", options.patience, 1);
  count("staleness.checkpoints", options.staleness?.checkpoints, 0);
  if (options.learningRate !== undefined && !(options.learningRate > 0)) throw new Error(`train: learningRate must be > 0, got ${options.learningRate}`);
}

export async function train(options: TrainerOptions): Promise<TrainResult> {
  validate(options);
  const { log, namespace, graph, model, inputs } = options;
  await ensureCheckpointTopic(log, namespace);
  await log.createTopic(metricsTopic(namespace), { partitions: 1, compacted: false, retentionMs: null });
  const every = options.checkpointEvery ?? 10;
  const optimizer = adam(options.learningRate ?? 0.01);
  const labels = graph.labels();
  const masks = graph.masks();
  const trainMask = Float32Array.from(masks.train);
  let best = { val: -1, step: 0, weights: undefined as NamedWeight[] | undefined };
  let checkpoints = 0;
  let lastCheckpoint = -1;
  const publish = async (step: number) => {
    await publishCheckpoint(log, namespace, { step, model: { kind: options.spec.kind, config: { ...options.spec } }, weights: model.getWeights() });
    checkpoints++;
    lastCheckpoint = step;
  };

  await publish(0);
  let step = 0;
  try {
    while (step < options.steps && !options.signal?.aborted) {
      step++;
      const started = performance.now();
      if (options.staleness && lastCheckpoint >= 0) {
        const { checkpoints: bound, freshness, timeoutMs } = options.staleness;
        await freshness.awaitVersion(Math.max(0, lastCheckpoint - bound * every), { minKeys: 1, timeoutMs: timeoutMs ?? 60_000, signal: options.signal });
      }
      const prepared = (options.knowledge ?? []).map((term) => ({ term, step: term.prepare(graph), versions: term.versions() }));
      const kept: { name: string; size: number; value: tf.Scalar }[] = [];
      const cost = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const logits = model.forward(inputs, { training: true });
            let total = tf.add(maskedSoftmaxCrossEntropy(logits, labels, trainMask), model.regularization()) as tf.Scalar;
            for (const { term, step: part } of prepared) {
              if (!part) continue;
              const value = part.loss(logits);
              kept.push({ name: term.name, size: part.size, value: tf.keep(value) });
              total = tf.add(total, tf.mul(value, term.weight)) as tf.Scalar;
            }
            return total;
          }),
        true,
        model.variables as tf.Variable[],
      )!;
      const loss = cost.dataSync()[0]!;
      cost.dispose();
      const terms = Object.fromEntries(kept.map(({ name, size, value }) => [name, { value: value.dataSync()[0]!, size }]));
      kept.forEach(({ value }) => value.dispose());
      const predicted = tf.tidy(() => tf.argMax(model.forward(inputs, { training: false }), 1).dataSync() as Int32Array);
      const record: StepRecord = {
        step,
        loss,
        terms,
        accuracy: { train: accuracy(predicted, labels, trainMask), val: accuracy(predicted, labels, Float32Array.from(masks.val)) },
        banks: prepared.flatMap((p) => p.versions),
        ms: performance.now() - started,
      };
      if (record.accuracy.val > best.val) best = { val: record.accuracy.val, step, weights: model.getWeights() };
      await log.produce(metricsTopic(namespace), [{ key: enc.encode(String(step)), value: enc.encode(JSON.stringify(record)), partition: 0 }]);
      options.onStep?.(record);
      if (step % every === 0) await publish(step);
      if (options.patience !== undefined && step - best.step >= options.patience) break;
    }
  } finally {
    optimizer.dispose();
  }
  if (best.weights) model.setWeights(best.weights);
  const predicted = tf.tidy(() => tf.argMax(model.forward(inputs, { training: false }), 1).dataSync() as Int32Array);
  const result: TrainResult = {
    steps: step,
    bestStep: best.step,
    accuracy: {
      train: accuracy(predicted, labels, trainMask),
      val: accuracy(predicted, labels, Float32Array.from(masks.val)),
      test: accuracy(predicted, labels, Float32Array.from(masks.test)),
    },
    checkpoints,
  };
  await log.createTopic(resultTopic(namespace), { partitions: 1, compacted: true });
  await log.produce(resultTopic(namespace), [{ key: enc.encode("result"), value: enc.encode(JSON.stringify(result)), partition: 0 }]);
  return result;
}

/** The result the last finished training run in `namespace` published, if any. */
export async function readTrainResult(log: Log, namespace: string): Promise<TrainResult | undefined> {
  if (!(await log.listTopics()).includes(resultTopic(namespace))) return undefined;
  let latest: TrainResult | undefined;
  for await (const record of readPartition(log, resultTopic(namespace), 0)) if (record.value) latest = JSON.parse(dec.decode(record.value)) as TrainResult;
  return latest;
}
