/**
 * A graph as it stood, in plain arrays that a thread can post to another (structured clone): replay
 * opens the graph once and hands a copy to each worker instead of each reading the topics again.
 */
import type { CsrSnapshot, FeatureMatrix, SplitMasks, TrainingGraph } from "./types.ts";

export interface FrozenGraphData {
  readonly version: number;
  readonly ids: readonly string[];
  readonly features: FeatureMatrix;
  readonly labels: Int32Array;
  readonly masks: SplitMasks;
  readonly snapshot: CsrSnapshot;
}

/** A copy of what `graph` holds now, each array exactly its size (a posted view would carry its whole buffer). */
export function freezeGraph(graph: TrainingGraph): FrozenGraphData {
  const n = graph.numNodes;
  const { dim, data } = graph.features();
  const masks = graph.masks();
  const snapshot = graph.snapshot();
  return {
    version: graph.version,
    ids: Array.from({ length: n }, (_, i) => graph.idOf(i)),
    features: { dim, data: data.slice(0, n * dim) },
    labels: graph.labels().slice(0, n),
    masks: { train: masks.train.slice(0, n), val: masks.val.slice(0, n), test: masks.test.slice(0, n) },
    snapshot: { ...snapshot, rowPtr: snapshot.rowPtr.slice(0, n + 1), colIdx: snapshot.colIdx.slice(), weights: snapshot.weights?.slice() ?? null },
  };
}

/** The buffers of `data`'s arrays, to transfer when posting it (each array of freezeGraph's has its own). */
export function frozenGraphBuffers(data: FrozenGraphData): ArrayBuffer[] {
  const { features, labels, masks, snapshot } = data;
  const arrays = [features.data, labels, masks.train, masks.val, masks.test, snapshot.rowPtr, snapshot.colIdx, ...(snapshot.weights ? [snapshot.weights] : [])];
  return arrays.map((array) => array.buffer as ArrayBuffer);
}

export class FrozenGraph implements TrainingGraph {
  constructor(private readonly data: FrozenGraphData) {}

  get version(): number {
    return this.data.version;
  }

  get numNodes(): number {
    return this.data.ids.length;
  }

  idOf(index: number): string {
    const id = this.data.ids[index];
    if (id === undefined) throw new Error(`FrozenGraph.idOf: no node at index ${index} (the graph has ${this.numNodes})`);
    return id;
  }

  features(): FeatureMatrix {
    return this.data.features;
  }

  labels(): Int32Array {
    return this.data.labels;
  }

  masks(): SplitMasks {
    return this.data.masks;
  }

  snapshot(): CsrSnapshot {
    return this.data.snapshot;
  }
}
