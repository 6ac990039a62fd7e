/** Knowledge makers: the runtime that runs them in consumer groups, and the built-in makers. */
export type { Maker, MakerContext, MakerOutput } from "./maker.ts";
export { startMaker, type MakerRunOptions, type MakerStats, type RunningMaker } from "./runtime.ts";
export { embeddingsMaker, type EmbeddingsMakerOptions } from "./embeddings.ts";
export { neighboursMaker, type NeighboursMakerOptions } from "./neighbours.ts";
export { pseudoLabelsMaker, NO_PSEUDO_LABEL, type PseudoLabelsMakerOptions } from "./pseudo-labels.ts";
