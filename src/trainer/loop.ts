/**
 * The step loop itself, shared by training and by replay so that both compute exactly the same
 * thing: each step the knowledge terms are prepared from the banks as they stand, the loss (the
 * labelled nodes' cross-entropy, regularisation, each term times its weight) is minimised, and the
 * step is recorded. Where knowledge comes from and where records go is the caller's `StepIO`.
 */
import type { BankVersion } from "../bank/view.ts";
import type { Model, NamedWeight } from "../../graph/gnn/model.ts";
import * as tf from "../../graph/gnn/tf.ts";
import { accuracy, adam, maskedSoftmaxCrossEntropy } from "../../graph/gnn/train.ts";
import type { TrainingGraph } from "../../graph/store/types.ts";
import type { KnowledgeTerm } from "./knowledge.ts";
import { captureTrainerState, restoreTrainerState, type TrainerState } from "./state.ts";

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

export interface TrainResult {
  readonly steps: number;
  readonly bestStep: number;
  /** Accuracy of the weights with the best validation accuracy. */
  readonly accuracy: { readonly train: number; readonly val: number; readonly test: number };
  readonly checkpoints: number;
}

export interface LoopSetup {
  readonly graph: TrainingGraph;
  readonly model: Model<unknown>;
  readonly inputs: unknown;
  readonly steps: number;
  readonly learningRate: number;
  readonly checkpointEvery: number;
  readonly knowledge: readonly KnowledgeTerm[];
  readonly patience?: number;
  readonly signal?: AbortSignal;
  /** Go on from a checkpoint of an earlier run of the same loop, as that run did: its weights and trainer state. `steps` still counts from 0. */
  readonly resume?: { readonly weights: readonly NamedWeight[]; readonly state: TrainerState };
}

/** Where a loop ended: the last step taken, and the best validation accuracy with its step and weights. */
export interface LoopOutcome {
  readonly steps: number;
  /** `weights` is absent when no step of this loop beat the best it resumed from. */
  readonly best: { readonly val: number; readonly step: number; readonly weights?: NamedWeight[] };
  readonly checkpoints: number;
}

/** Where a loop's knowledge comes from and where its records go. */
export interface StepIO {
  /** Before step `step` prepares its knowledge (training: the staleness wait; replay: moving the views to where the original was). */
  beforeStep(step: number): Promise<void>;
  afterStep(record: StepRecord): Promise<void>;
  /** At step 0 and every `checkpointEvery` steps; `state` reads the trainer's state after the step (absent at step 0). */
  checkpoint(step: number, weights: NamedWeight[], state?: () => Promise<TrainerState>): Promise<void>;
}

/** The loop, then the result of the best weights. */
export async function trainingLoop(setup: LoopSetup, io: StepIO): Promise<TrainResult> {
  return bestResult(setup, await runSteps(setup, io));
}

/** Steps until `setup.steps`, patience, or the signal; the model is left with the last step's weights. */
export async function runSteps(setup: LoopSetup, io: StepIO): Promise<LoopOutcome> {
  const { graph, model, inputs, resume } = setup;
  const optimizer = adam(setup.learningRate);
  const labels = graph.labels();
  const trainMask = Float32Array.from(graph.masks().train);
  let best: { val: number; step: number; weights?: NamedWeight[] } = resume ? { ...resume.state.best } : { val: -1, step: 0 };
  let checkpoints = 0;
  const checkpoint = async (step: number) => {
    const weights = model.getWeights();
    await io.checkpoint(step, weights, step > 0 ? () => captureTrainerState(step, model, weights, optimizer, { val: best.val, step: best.step }) : undefined);
    checkpoints++;
  };

  let step = 0;
  if (resume) {
    model.setWeights(resume.weights);
    await restoreTrainerState(resume.state, model, optimizer);
    step = resume.state.step;
  } else await checkpoint(0);
  let measured: ReturnType<typeof stepAccuracy> | undefined;
  try {
    measured = stepAccuracy(setup);
    while (step < setup.steps && !setup.signal?.aborted) {
      step++;
      const started = performance.now();
      await io.beforeStep(step);
      if (setup.signal?.aborted) {
        step--;
        break;
      }
      const prepared = setup.knowledge.map((term) => ({ term, part: term.prepare(graph), versions: term.versions() }));
      const kept: { name: string; size: number; value: tf.Scalar }[] = [];
      const cost = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const logits = model.forward(inputs, { training: true });
            let total = tf.add(maskedSoftmaxCrossEntropy(logits, labels, trainMask), model.regularization()) as tf.Scalar;
            for (const { term, part } of prepared) {
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
      const record: StepRecord = {
        step,
        loss,
        terms,
        accuracy: measured.measure(),
        banks: prepared.flatMap((p) => p.versions),
        ms: performance.now() - started,
      };
      if (record.accuracy.val > best.val) best = { val: record.accuracy.val, step, weights: model.getWeights() };
      await io.afterStep(record);
      if (step % setup.checkpointEvery === 0) await checkpoint(step);
      if (setup.patience !== undefined && step - best.step >= setup.patience) break;
    }
  } finally {
    optimizer.dispose();
    measured?.dispose();
  }
  return { steps: step, best, checkpoints };
}

/**
 * Each step's train and validation accuracy, without dropout. A model that can compute some rows
 * alone (the MLP) computes only the labelled rows the two count; others compute every node.
 */
function stepAccuracy({ graph, model, inputs }: Pick<LoopSetup, "graph" | "model" | "inputs">): { measure(): StepRecord["accuracy"]; dispose(): void } {
  const labels = graph.labels();
  const masks = graph.masks();
  const rows = Int32Array.from(labels.keys()).filter((i) => masks.train[i] || masks.val[i]);
  const subset = model.inputsOfRows?.(inputs, rows);
  const measuredRows = (all: ArrayLike<number>): number[] => (subset ? Array.from(rows, (i) => all[i]!) : Array.from(all));
  const measuredLabels = Int32Array.from(measuredRows(labels));
  const train = Float32Array.from(measuredRows(masks.train));
  const val = Float32Array.from(measuredRows(masks.val));
  return {
    measure: () => {
      const predicted = tf.tidy(() => tf.argMax(model.forward(subset?.inputs ?? inputs, { training: false }), 1).dataSync() as Int32Array);
      return { train: accuracy(predicted, measuredLabels, train), val: accuracy(predicted, measuredLabels, val) };
    },
    dispose: () => subset?.dispose(),
  };
}

/** Sets the model to the outcome's best weights (if it has them) and measures them. */
export function bestResult(setup: Pick<LoopSetup, "graph" | "model" | "inputs">, outcome: LoopOutcome): TrainResult {
  const { graph, model, inputs } = setup;
  if (outcome.best.weights) model.setWeights(outcome.best.weights);
  const labels = graph.labels();
  const masks = graph.masks();
  const predicted = tf.tidy(() => tf.argMax(model.forward(inputs, { training: false }), 1).dataSync() as Int32Array);
  const measure = (mask: readonly number[] | Uint8Array) => accuracy(predicted, labels, Float32Array.from(mask));
  return { steps: outcome.steps, bestStep: outcome.best.step, accuracy: { train: measure(masks.train), val: measure(masks.val), test: measure(masks.test) }, checkpoints: outcome.checkpoints };
}
