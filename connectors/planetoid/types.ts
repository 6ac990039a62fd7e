export type PlanetoidName = "cora" | "citeseer" | "pubmed";

export const PLANETOID_NAMES: readonly PlanetoidName[] = ["cora", "citeseer", "pubmed"];

/** A Planetoid dataset assembled as Kipf's GCN `load_data` does, with node ids after the test reorder. */
export interface PlanetoidGraph {
  name: PlanetoidName;
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  /** Undirected: each edge once with src < dst, sorted by (src, dst); no self-loops or duplicates. */
  edges: { src: Int32Array; dst: Int32Array };
  /** CSR, one row per node in id order, columns ascending within a row; raw (unnormalised) values. */
  features: { rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array };
  /** Class per node; -1 where the files give none (CiteSeer's test ids missing from test.index). */
  labels: Int32Array;
  split: { train: Int32Array; val: Int32Array; test: Int32Array };
  /** Distinct nodes with a self-loop in the graph pickle; these loops are not in `edges`. */
  selfLoops: number;
  /** Set when a feature file is missing: which one, and which nodes therefore have empty rows. */
  missingFeatures?: string;
}
