import type { TopicPartitionOffset } from "../../src/log/types.ts";
export interface GraphStoreOptions {
  /** Directed graph (edge src → dst); default undirected, where src–dst and dst–src are one edge. */
  readonly directed?: boolean;
  /** Feature width; default: the width of the first feature vector seen. */
  readonly featureDim?: number;
  /** Partitions of the graph topics when `open` has to create them (default 4). */
  readonly partitions?: number;
  /** Long-poll wait of each `follow` read (default 500 ms). */
  readonly pollWaitMs?: number;
  /** Records per read (default 10,000). */
  readonly maxRecordsPerRead?: number;
  /** Read the graph topics only up to these offsets (a recorded position, for replay), not to their ends. */
  readonly until?: readonly TopicPartitionOffset[];
}

/**
 * An immutable adjacency in compressed sparse rows over node indices: the neighbours of v are
 * colIdx[rowPtr[v] .. rowPtr[v + 1] - 1], ascending. Undirected graphs have both directions of
 * every edge (a self-loop once); deleted nodes (holes) have empty rows.
 */
export interface CsrSnapshot {
  /** The store version (events applied) this was built at. */
  readonly version: number;
  readonly numNodes: number;
  readonly directed: boolean;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  /** Edge weights parallel to colIdx (1 where an edge has none); null when no edge has a weight. */
  readonly weights: Float32Array | null;
}

export interface SplitMasks {
  readonly train: Uint8Array;
  readonly val: Uint8Array;
  readonly test: Uint8Array;
}

export interface FeatureMatrix {
  /** 0 until the first feature vector fixes it. */
  readonly dim: number;
  /** Row-major numNodes × dim; rows of nodes without features are zero. */
  readonly data: Float32Array;
}

/** What training reads of a graph: a GraphStore as it stands, or a FrozenGraph made from one (replay hands one to each of its threads). */
export interface TrainingGraph {
  /** Events applied so far: what is derived from the graph holds while this does. */
  readonly version: number;
  /** Node indices in use: live nodes plus holes. */
  readonly numNodes: number;
  idOf(index: number): string;
  features(): FeatureMatrix;
  /** -1 where unknown. */
  labels(): Int32Array;
  masks(): SplitMasks;
  snapshot(): CsrSnapshot;
}
