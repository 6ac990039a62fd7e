/**
 * GraphSAGE with the mean aggregator (Hamilton et al., NeurIPS 2017): each layer computes
 * h_v = σ(W · [h_v ‖ mean_{u∈N(v)} h_u] + b), written as W_self·h_v + W_neigh·mean + b (the same
 * linear map as the concatenation). Layers run on blocks: blocks[l] is the row-normalised
 * (dst × src) adjacency of layer l, whose dst nodes are the first rows of its src nodes; for
 * full-batch training every block is meanAdjacency(...) of the whole graph.
 */
import * as tf from "./tf.ts";
import { dropout, firstRows, glorotVariable, isSparse, project, zerosVariable, type Features } from "./layers.ts";
import { assembleModel, checkBaseConfig, WeightSet, type BaseModelConfig, type Model } from "./model.ts";
import { Rng } from "./random.ts";
import { csrTimesDense, spmm, type SparseMatrix } from "./sparse.ts";
import { firstIdOutside, gatherRows } from "./rows.ts";
import { tensorOf } from "./tensor-data.ts";

export interface SageConfig extends BaseModelConfig {
  /** Number of SAGE layers (at least 2), i.e. of blocks per batch; default 2. */
  readonly layers?: number;
  /** Dropout rate on the hidden layers' inputs; default 0.5. */
  readonly dropout?: number;
  /**
   * Whether dropout also applies to the input features (as in GCN; for FeatureRows, to the self rows
   * and the neighbour mean); default false, as in PyG's and DGL's GraphSAGE examples.
   */
  readonly inputDropout?: boolean;
  /** L2 coefficient on every weight matrix; default 5e-4. */
  readonly weightDecay?: number;
}

/**
 * The input nodes' features read straight from a table of all nodes' features (row-major,
 * `dim` wide): input row i is the table's row ids[i]. The first layer's neighbour mean is then
 * computed from the table without copying the input rows into a tensor.
 */
export interface FeatureRows {
  readonly table: Float32Array;
  readonly dim: number;
  readonly ids: Int32Array;
  /**
   * Set when the table's values stay the same for as long as this does (a graph store's version,
   * say): the sparse kernel then keeps one copy of the table in its memory across batches (up to
   * 1 GB; it stays allocated) instead of copying in the rows each batch names. Leave it unset for
   * a table written in place between batches.
   */
  readonly version?: number;
}

export interface SageInputs {
  /** Features of blocks[0]'s src nodes, in its column order. */
  readonly features: Features | FeatureRows;
  readonly blocks: readonly SparseMatrix[];
}

/** Every id names a row of the table (a row past its end would be read as whatever the tensor's memory held). */
function checkTableRows(x: FeatureRows): void {
  const rows = x.table.length / x.dim;
  const i = firstIdOutside(x.ids, rows);
  if (i >= 0) throw new Error(`sage: features.ids[${i}] = ${x.ids[i]} is not a row of the ${rows}-row feature table`);
}

function isFeatureRows(x: Features | FeatureRows): x is FeatureRows {
  return "table" in x;
}

export function sage(config: SageConfig): Model<SageInputs> {
  checkBaseConfig("sage", config);
  const depth = config.layers ?? 2;
  if (!(depth >= 2)) throw new Error(`sage: layers must be at least 2 (one hidden layer), got ${depth}`);
  const rate = config.dropout ?? 0.5;
  const inputDropout = config.inputDropout ?? false;
  const decay = config.weightDecay ?? 5e-4;
  const init = new Rng(config.seed);
  const dropoutRng = init.fork();
  const dims = [config.inputDim, ...Array.from({ length: depth - 1 }, () => config.hiddenDim), config.classes];
  const named: Array<[string, tf.Variable]> = [];
  const layers = dims.slice(1).map((out, l) => {
    const layer = { self: glorotVariable(init, dims[l]!, out), neigh: glorotVariable(init, dims[l]!, out), bias: zerosVariable(out) };
    named.push([`sage/layer${l}/self`, layer.self], [`sage/layer${l}/neigh`, layer.neigh], [`sage/layer${l}/bias`, layer.bias]);
    return layer;
  });
  const weights = new WeightSet(named);
  const kernels = layers.flatMap((l) => [l.self, l.neigh]);

  /** Self and neighbour-mean inputs of the first layer when features come from a table. */
  const tableInputs = (x: FeatureRows, block: SparseMatrix): [tf.Tensor2D, tf.Tensor2D] => {
    const n = block.shape[0];
    checkTableRows(x);
    const self = tensorOf<tf.Rank.R2>([n, x.dim], (rows) => gatherRows(x.table, x.dim, x.ids, rows, n));
    return [self, tensorOf<tf.Rank.R2>([n, x.dim], (mean) => csrTimesDense(block, x.table, x.dim, x.ids, mean, x.version))];
  };

  const layer = (l: number, x: Features | FeatureRows, block: SparseMatrix, training: boolean): tf.Tensor2D => {
    const { self, neigh, bias } = layers[l]!;
    const drop = (t: Features): Features => (training && (l > 0 || inputDropout) ? dropout(t, rate, dropoutRng) : t);
    let selfPart: tf.Tensor2D;
    let neighPart: tf.Tensor2D;
    if (isFeatureRows(x)) {
      const [s, m] = tableInputs(x, block);
      selfPart = project(drop(s), self as tf.Tensor2D);
      neighPart = project(drop(m), neigh as tf.Tensor2D);
    } else {
      const input = drop(x);
      selfPart = project(firstRows(input, block.shape[0]), self as tf.Tensor2D);
      // Aggregate-then-transform is cheaper for dense rows; for sparse rows the product comes first.
      neighPart = isSparse(input) ? spmm(block, project(input, neigh as tf.Tensor2D)) : tf.matMul(spmm(block, input), neigh as tf.Tensor2D);
    }
    const out = tf.add(tf.add(selfPart, neighPart), bias) as tf.Tensor2D;
    return l < depth - 1 ? tf.relu(out) : out;
  };

  const run = (inputs: SageInputs, training: boolean, upTo: number): tf.Tensor2D => {
    if (inputs.blocks.length !== depth) throw new Error(`sage: expected ${depth} blocks, got ${inputs.blocks.length}`);
    const width = isFeatureRows(inputs.features) ? inputs.features.dim : inputs.features.shape[1];
    if (width !== config.inputDim) throw new Error(`sage: features have ${width} columns, the model expects ${config.inputDim}`);
    let h: Features | FeatureRows = inputs.features;
    for (let l = 0; l < upTo; l++) h = layer(l, h, inputs.blocks[l]!, training);
    return h as tf.Tensor2D;
  };

  const forward = (inputs: SageInputs, opts: { training: boolean }): tf.Tensor2D => tf.tidy(() => run(inputs, opts.training, depth));

  return assembleModel({
    kind: "sage",
    forward,
    // The last hidden layer is computed for the last block's src nodes; its first rows are the outputs.
    embed: (inputs) => tf.tidy(() => firstRows(run(inputs, false, depth - 1), inputs.blocks[depth - 1]!.shape[0]) as tf.Tensor2D),
    weights,
    decayed: kernels,
    decay,
    random: dropoutRng,
  });
}
