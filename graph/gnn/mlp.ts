/**
 * A two-layer perceptron, the graph-free baseline of Kipf & Welling's code and the model that
 * graph regularisation (Neural Structured Learning) trains: features → hidden (ReLU) → classes,
 * dropout on each layer's input (on the non-zeros for sparse features), Glorot initialisation,
 * biases initialised to zero, and weight decay on the first layer's kernel only (as gcn.ts).
 * It reads no graph: every output row depends on that node's features alone.
 */
import * as tf from "./tf.ts";
import { dropout, glorotVariable, isSparse, project, zerosVariable, type Features } from "./layers.ts";
import { firstIdOutside, gatherRows } from "./rows.ts";
import { selectRows } from "./sparse.ts";
import { floatsOf, tensorOf } from "./tensor-data.ts";
import { assembleModel, checkBaseConfig, WeightSet, type BaseModelConfig, type Model } from "./model.ts";
import { Rng } from "./random.ts";

/** Dropout applies to the input features and the hidden layer; weight decay to the first layer's kernel. */
export interface MlpConfig extends BaseModelConfig {
  /** Whether the layers add a bias; default true. */
  readonly bias?: boolean;
}

export interface MlpInputs {
  /** One row per node: its logits are the same row of forward's output. */
  readonly features: Features;
}

export function mlp(config: MlpConfig): Model<MlpInputs> {
  checkBaseConfig("mlp", config);
  const rate = config.dropout ?? 0.5;
  const decay = config.weightDecay ?? 5e-4;
  const init = new Rng(config.seed);
  const dropoutRng = init.fork();
  const w0 = glorotVariable(init, config.inputDim, config.hiddenDim);
  const w1 = glorotVariable(init, config.hiddenDim, config.classes);
  const withBias = config.bias ?? true;
  const b0 = withBias ? zerosVariable(config.hiddenDim) : undefined;
  const b1 = withBias ? zerosVariable(config.classes) : undefined;
  const weights = new WeightSet([
    ["mlp/layer0/kernel", w0],
    ...(b0 ? [["mlp/layer0/bias", b0] as const] : []),
    ["mlp/layer1/kernel", w1],
    ...(b1 ? [["mlp/layer1/bias", b1] as const] : []),
  ]);

  const check = (inputs: MlpInputs): void => {
    if (inputs.features.shape[1] !== config.inputDim) {
      throw new Error(`mlp: features have ${inputs.features.shape[1]} columns, the model expects ${config.inputDim}`);
    }
  };
  const dense = (x: Features, w: tf.Variable, b: tf.Variable | undefined): tf.Tensor2D => {
    const y = project(x, w as tf.Tensor2D);
    return b ? (tf.add(y, b) as tf.Tensor2D) : y;
  };
  const hidden = (inputs: MlpInputs, training: boolean): tf.Tensor2D => {
    check(inputs);
    const x = training ? dropout(inputs.features, rate, dropoutRng) : inputs.features;
    return tf.relu(dense(x, w0, b0));
  };
  const forward = (inputs: MlpInputs, opts: { training: boolean }): tf.Tensor2D =>
    tf.tidy(() => {
      const h = hidden(inputs, opts.training);
      return dense(opts.training ? dropout(h, rate, dropoutRng) : h, w1, b1);
    });

  const inputsOfRows = (inputs: MlpInputs, rows: Int32Array) => {
    const { features } = inputs;
    const outside = firstIdOutside(rows, features.shape[0]);
    if (outside >= 0) throw new Error(`mlp: row ${rows[outside]} is not one of the ${features.shape[0]} rows of the features`);
    if (isSparse(features)) return { inputs: { features: selectRows(features, rows) }, dispose: () => undefined };
    const d = features.shape[1];
    // The operand is read inside `fill`, after the selection's tensor is made: making it may move the heap.
    const selected = tensorOf<tf.Rank.R2>([rows.length, d], (out) => gatherRows(floatsOf(features), d, rows, out));
    return { inputs: { features: selected }, dispose: () => selected.dispose() };
  };

  return assembleModel({ kind: "mlp", forward, embed: (inputs) => tf.tidy(() => hidden(inputs, false)), inputsOfRows, weights, decayed: [w0], decay, random: dropoutRng });
}
