/** Graph neural networks on tfjs: backend choice, sparse aggregation, GCN, GraphSAGE, an MLP baseline, samplers, training steps. */
export { initBackend, type BackendInfo, type BackendName } from "./backend.ts";
export { gcn, type GcnConfig, type GcnInputs } from "./gcn.ts";
export type { Features } from "./layers.ts";
export { type Model, type NamedWeight } from "./model.ts";
export { mlp, type MlpConfig, type MlpInputs } from "./mlp.ts";
export { loadPlanetoidCsv, type PlanetoidData } from "./planetoid-csv.ts";
export { Rng } from "./random.ts";
export { sage, type FeatureRows, type SageConfig, type SageInputs } from "./sage.ts";
export { csrGraph, fullBatchAdjacency, graphEdges, NeighborSampler, shuffledBatches, type CsrGraph, type SampledBlocks } from "./sampler.ts";
export {
  fromCoo,
  meanAdjacency,
  normalizedAdjacency,
  rowNormalize,
  selectRows,
  spmm,
  symmetricAdjacency,
  transpose,
  withValues,
  type Coo,
  type Edges,
  type SparseMatrix,
} from "./sparse.ts";
export { syntheticGraph, type SyntheticGraph, type SyntheticGraphOptions } from "./synthetic.ts";
export { accuracy, adam, evaluate, loss, maskedSoftmaxCrossEntropy, trainStep, type Batch, type Evaluation } from "./train.ts";
export * as tf from "./tf-namespace.ts";
