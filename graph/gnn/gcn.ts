/**
 * GCN (Kipf & Welling, ICLR 2017), as in their reference code: two graph convolutions
 * Â·X·W without bias, ReLU between, dropout on each layer's input (on the non-zeros for sparse
 * features), Glorot initialisation, and weight decay on the first layer only.
 */
import * as tf from "./tf.ts";
import { dropout, glorotVariable, project, type Features } from "./layers.ts";
import { assembleModel, checkBaseConfig, WeightSet, type BaseModelConfig, type Model } from "./model.ts";
import { Rng } from "./random.ts";
import { spmm, type SparseMatrix } from "./sparse.ts";

/** Dropout applies to each layer's input; weight decay to the first layer's weights. */
export type GcnConfig = BaseModelConfig;

export interface GcnInputs {
  readonly features: Features;
  /** The propagation matrix Â, e.g. normalizedAdjacency(...). */
  readonly adjacency: SparseMatrix;
}

export function gcn(config: GcnConfig): Model<GcnInputs> {
  checkBaseConfig("gcn", config);
  const rate = config.dropout ?? 0.5;
  const decay = config.weightDecay ?? 5e-4;
  const init = new Rng(config.seed);
  const dropoutRng = init.fork();
  const w0 = glorotVariable(init, config.inputDim, config.hiddenDim);
  const w1 = glorotVariable(init, config.hiddenDim, config.classes);
  const weights = new WeightSet([
    ["gcn/layer0/kernel", w0],
    ["gcn/layer1/kernel", w1],
  ]);

  const hidden = (inputs: GcnInputs, training: boolean): tf.Tensor2D => {
    if (inputs.features.shape[1] !== config.inputDim) throw new Error(`gcn: features have ${inputs.features.shape[1]} columns, the model expects ${config.inputDim}`);
    const x = training ? dropout(inputs.features, rate, dropoutRng) : inputs.features;
    return tf.relu(spmm(inputs.adjacency, project(x, w0 as tf.Tensor2D)));
  };
  const forward = (inputs: GcnInputs, opts: { training: boolean }): tf.Tensor2D =>
    tf.tidy(() => {
      const h = hidden(inputs, opts.training);
      const x = opts.training ? dropout(h, rate, dropoutRng) : h;
      return spmm(inputs.adjacency, project(x, w1 as tf.Tensor2D));
    });

  return assembleModel({ kind: "gcn", forward, embed: (inputs) => tf.tidy(() => hidden(inputs, false)), weights, decayed: [w0], decay, random: dropoutRng });
}
