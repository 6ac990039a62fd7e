/**
 * The trainer's state at a checkpoint beyond the model's weights: Adam's moments, iteration count
 * and bias-correction powers, the model's dropout generator, and the best validation accuracy so
 * far. With the checkpoint's weights it is all a step loop needs to go on from that step exactly as
 * the run did, which lets a replay run segments of a run side by side (src/replay).
 *
 * It lives in `<namespace>.trainer.state`, in the checkpoint format (chunked; the moments are its
 * weights, the rest its header), one record per checkpoint step after step 0.
 */
import type { Model, NamedWeight } from "../../graph/gnn/model.ts";
import * as tf from "../../graph/gnn/tf.ts";
import type { Log } from "../log/types.ts";
import type { Checkpoint } from "../schema/checkpoint.ts";
import { publishChunked, readChunked } from "../schema/checkpoint-topic.ts";

export const trainerStateTopic = (namespace: string): string => `${namespace}.trainer.state`;

export interface TrainerState {
  /** The step after which it was taken. */
  readonly step: number;
  readonly optimizer: AdamState;
  /** The model's random state (`Model.randomState`). */
  readonly random: readonly number[];
  /** The best validation accuracy up to `step`, and the step that reached it first. */
  readonly best: { readonly val: number; readonly step: number };
}

export interface AdamState {
  readonly iterations: number;
  /** β1^t and β2^t as Adam keeps them (float32, multiplied each step), not recomputed: pow differs in the last bit. */
  readonly accBeta1: number;
  readonly accBeta2: number;
  /** First moments then second moments, in the model's variable order, named `<weight>/m` and `<weight>/v`. */
  readonly moments: readonly NamedWeight[];
}

/** The fields of tfjs-core's AdamOptimizer the public getWeights/setWeights leave out. */
interface AdamBetas {
  readonly accBeta1: tf.Variable;
  readonly accBeta2: tf.Variable;
}

function betasOf(optimizer: tf.Optimizer): AdamBetas {
  const betas = optimizer as unknown as Partial<AdamBetas>;
  if (!(betas.accBeta1 instanceof tf.Variable && betas.accBeta2 instanceof tf.Variable)) {
    throw new Error(`trainer state: this optimizer (${optimizer.getClassName()}, tfjs-core ${tf.version_core}) does not keep Adam's accBeta1/accBeta2; carls saves Adam's state only`);
  }
  return betas as AdamBetas;
}

/** Reads the state of `optimizer` (an Adam that has taken at least one step) for `model`, whose weights (as read for the checkpoint) name the moments. */
export async function captureTrainerState(step: number, model: Model<unknown>, weights: readonly NamedWeight[], optimizer: tf.Optimizer, best: TrainerState["best"]): Promise<TrainerState> {
  const { accBeta1, accBeta2 } = betasOf(optimizer);
  const [iterations, ...moments] = await optimizer.getWeights();
  const names = weights.map((w) => w.name);
  if (moments.length !== 2 * names.length) throw new Error(`trainer state: the optimizer holds ${moments.length} moments for ${names.length} weights`);
  const state: TrainerState = {
    step,
    optimizer: {
      iterations: iterations!.tensor.dataSync()[0]!,
      accBeta1: accBeta1.dataSync()[0]!,
      accBeta2: accBeta2.dataSync()[0]!,
      moments: moments.map(({ tensor }, i) => ({ name: `${names[i % names.length]}/${i < names.length ? "m" : "v"}`, shape: [...tensor.shape], values: Float32Array.from(tensor.dataSync() as Float32Array) })),
    },
    random: model.randomState(),
    best,
  };
  iterations!.tensor.dispose();
  return state;
}

/** Puts `state` into a fresh Adam and the model's random generator. */
export async function restoreTrainerState(state: TrainerState, model: Model<unknown>, optimizer: tf.Optimizer): Promise<void> {
  const { accBeta1, accBeta2 } = betasOf(optimizer);
  const weights = model.variables;
  const { moments } = state.optimizer;
  if (moments.length !== 2 * weights.length || moments.some((m, i) => m.shape.join() !== weights[i % weights.length]!.shape.join())) {
    throw new Error(`trainer state of step ${state.step}: its moments [${moments.map((m) => `${m.name} [${m.shape}]`).join(", ")}] do not fit the model's weights`);
  }
  const values = [{ name: "iter", tensor: tf.scalar(state.optimizer.iterations, "int32") }, ...moments.map((m) => ({ name: m.name, tensor: tf.tensor(m.values, [...m.shape]) }))];
  // setWeights makes variables of these tensors; they share its data, so disposing them frees nothing the optimizer holds.
  await optimizer.setWeights(values);
  tf.dispose(values.map((v) => v.tensor));
  tf.tidy(() => {
    accBeta1.assign(tf.scalar(state.optimizer.accBeta1));
    accBeta2.assign(tf.scalar(state.optimizer.accBeta2));
  });
  model.setRandomState(state.random);
}

export async function ensureTrainerStateTopic(log: Log, namespace: string): Promise<void> {
  await log.createTopic(trainerStateTopic(namespace), { partitions: 1, compacted: false, retentionMs: null });
}

export function publishTrainerState(log: Log, namespace: string, state: TrainerState): Promise<number> {
  const { step, optimizer, random, best } = state;
  const header = { iterations: optimizer.iterations, accBeta1: optimizer.accBeta1, accBeta2: optimizer.accBeta2, random: [...random], best };
  const record: Checkpoint = { step, model: { kind: "trainer-state", config: header }, weights: optimizer.moments };
  return publishChunked(log, trainerStateTopic(namespace), record);
}

/** The trainer states in offsets [from, to) of the state topic, by step; records that are not whole trainer states are left out. */
export async function readTrainerStates(log: Log, namespace: string, from: number, to: number): Promise<Map<number, TrainerState>> {
  const states = new Map<number, TrainerState>();
  for await (const record of readChunked(log, trainerStateTopic(namespace), from, to)) {
    const header = record.model.config as Partial<{ iterations: unknown; accBeta1: unknown; accBeta2: unknown; random: unknown; best: Partial<Record<"val" | "step", unknown>> }>;
    const numbers = (...xs: unknown[]) => xs.every((x) => typeof x === "number" && Number.isFinite(x));
    const random = header.random;
    if (record.model.kind !== "trainer-state" || !numbers(header.iterations, header.accBeta1, header.accBeta2, header.best?.val, header.best?.step)) continue;
    if (!(Array.isArray(random) && random.length === 4 && random.every((x) => Number.isInteger(x)))) continue;
    states.set(record.step, {
      step: record.step,
      optimizer: { iterations: header.iterations as number, accBeta1: header.accBeta1 as number, accBeta2: header.accBeta2 as number, moments: record.weights },
      random: random as number[],
      best: { val: header.best!.val as number, step: header.best!.step as number },
    });
  }
  return states;
}
