/** What every GNN model offers a trainer: logits, embeddings, a regulariser and portable weights. */
import type { Rng } from "./random.ts";
import * as tf from "./tf.ts";
import { floatsOf, tensorOf } from "./tensor-data.ts";

/** One weight tensor as plain data (row-major), e.g. for streaming a checkpoint as bytes. */
export interface NamedWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface Model<I> {
  readonly kind: string;
  /** Class logits for the output nodes; `training` turns dropout on. */
  forward(inputs: I, opts: { training: boolean }): tf.Tensor2D;
  /** The last hidden layer's output (after its activation), without dropout. */
  embed(inputs: I): tf.Tensor2D;
  /** Class probabilities, without dropout. */
  predict(inputs: I): tf.Tensor2D;
  /**
   * Inputs whose forward gives only `rows`' logits, in that order: offered by models whose output
   * rows each depend on their own node's inputs alone (the MLP), so that measuring a few nodes
   * does not compute every node.
   */
  inputsOfRows?(inputs: I, rows: Int32Array): { readonly inputs: I; dispose(): void };
  /** The weight-decay term added to the training loss. */
  regularization(): tf.Scalar;
  readonly variables: readonly tf.Variable[];
  getWeights(): NamedWeight[];
  setWeights(weights: readonly NamedWeight[]): void;
  /** The state of the model's random draws (dropout): with the weights, what a resumed run needs to draw the same masks. */
  randomState(): number[];
  setRandomState(state: readonly number[]): void;
  dispose(): void;
}

/** What every model's configuration holds. */
export interface BaseModelConfig {
  readonly inputDim: number;
  readonly hiddenDim: number;
  readonly classes: number;
  readonly seed: number;
  /** Dropout rate; default 0.5 (where it applies is the model's to say). */
  readonly dropout?: number;
  /** L2 coefficient (which weights it covers is the model's to say); default 5e-4. */
  readonly weightDecay?: number;
}

/** Refuses a config that no model could be built from, naming the model and the setting. */
export function checkBaseConfig(kind: string, config: BaseModelConfig): void {
  for (const [name, value] of [["inputDim", config.inputDim], ["hiddenDim", config.hiddenDim], ["classes", config.classes]] as const) {
    if (!(Number.isInteger(value) && value > 0)) throw new Error(`${kind}: ${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isSafeInteger(config.seed)) throw new Error(`${kind}: seed must be an integer, got ${config.seed}`);
  const { dropout = 0.5, weightDecay = 5e-4 } = config;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`${kind}: dropout must be in [0, 1), got ${dropout}`);
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) throw new Error(`${kind}: weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
}

/**
 * A Model from its forward pass and hidden layer: predict is the softmax of forward without
 * dropout, the weight decay covers `decayed`, and the weights are those of `weights`.
 */
export function assembleModel<I>(parts: {
  readonly kind: string;
  readonly forward: Model<I>["forward"];
  readonly embed: Model<I>["embed"];
  readonly inputsOfRows?: Model<I>["inputsOfRows"];
  readonly weights: WeightSet;
  readonly decayed: readonly tf.Variable[];
  readonly decay: number;
  /** The generator of the model's dropout masks. */
  readonly random: Rng;
}): Model<I> {
  const { kind, forward, embed, inputsOfRows, weights, decayed, decay, random } = parts;
  return {
    kind,
    forward,
    embed,
    ...(inputsOfRows ? { inputsOfRows } : {}),
    predict: (inputs) => tf.tidy(() => tf.softmax(forward(inputs, { training: false }))),
    regularization: () => l2Penalty(decayed, decay),
    variables: weights.variables,
    getWeights: () => weights.get(),
    setWeights: (w) => weights.set(w),
    randomState: () => random.state(),
    setRandomState: (state) => random.restore(state),
    dispose: () => weights.dispose(),
  };
}

/** Weight decay as in Kipf & Welling's code: decay · Σ w² / 2 over `weights`. */
export function l2Penalty(weights: readonly tf.Variable[], decay: number): tf.Scalar {
  if (decay === 0 || weights.length === 0) return tf.scalar(0);
  return tf.mul(weights.map((w) => tf.sum(tf.square(w))).reduce((a, b) => tf.add(a, b)), decay / 2) as tf.Scalar;
}

/** The variables of a model by name, read out and written back as NamedWeight. */
export class WeightSet {
  constructor(private readonly named: ReadonlyArray<readonly [string, tf.Variable]>) {}

  get variables(): tf.Variable[] {
    return this.named.map(([, v]) => v);
  }

  get(): NamedWeight[] {
    return this.named.map(([name, v]) => ({ name, shape: [...v.shape], values: floatsOf(v).slice() }));
  }

  set(weights: readonly NamedWeight[]): void {
    const byName = new Map(weights.map((w) => [w.name, w]));
    for (const [name, v] of this.named) {
      const w = byName.get(name);
      if (!w) throw new Error(`setWeights: no weight named ${name}`);
      if (w.shape.length !== v.shape.length || w.shape.some((n, i) => n !== v.shape[i])) {
        throw new Error(`setWeights: ${name} has shape [${w.shape}], the model expects [${v.shape}]`);
      }
      if (w.values.length !== v.size) throw new Error(`setWeights: ${name} has ${w.values.length} values, its shape [${v.shape}] holds ${v.size}`);
    }
    if (byName.size !== this.named.length) throw new Error(`setWeights: expected ${this.named.length} weights, got ${weights.length}`);
    tf.tidy(() => {
      for (const [name, v] of this.named) v.assign(tensorOf(v.shape, (values) => values.set(byName.get(name)!.values)));
    });
  }

  dispose(): void {
    for (const [, v] of this.named) v.dispose();
  }
}
