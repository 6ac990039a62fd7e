/**
 * Graph inputs for the models: GraphSAGE minibatches by uniform fan-out neighbour sampling, and
 * GCN's full-batch propagation matrix.
 */
import { Rng } from "./random.ts";
import { normalizedAdjacency, symmetricAdjacency, type Edges, type SparseMatrix } from "./sparse.ts";

/** An undirected graph in CSR: the neighbours of v are colIdx[rowPtr[v] .. rowPtr[v + 1] - 1], without duplicates. */
export interface CsrGraph {
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
}

/** The CSR graph of an edge list (symmetrised, duplicates and self-loops dropped). */
export function csrGraph(edges: Edges, numNodes: number): CsrGraph {
  const { rowPtr, colIdx } = symmetricAdjacency(edges, numNodes);
  return { rowPtr, colIdx };
}

/** Every directed entry (v, u) of the graph as an edge list. */
export function graphEdges(graph: CsrGraph): Edges {
  const src = new Int32Array(graph.colIdx.length);
  for (let v = 0; v + 1 < graph.rowPtr.length; v++) src.fill(v, graph.rowPtr[v]!, graph.rowPtr[v + 1]!);
  return { src, dst: graph.colIdx };
}

/** GCN's D^-1/2 (A + I) D^-1/2 over the whole graph. */
export function fullBatchAdjacency(graph: CsrGraph, opts: { selfLoops: boolean } = { selfLoops: true }): SparseMatrix {
  return normalizedAdjacency(graphEdges(graph), graph.rowPtr.length - 1, opts);
}

/** The layered blocks of one minibatch, input side first (the order SAGE's forward takes them). */
export interface SampledBlocks {
  /** nodes[0] are the input nodes, nodes[L] the seeds; nodes[l + 1] is a prefix of nodes[l]. */
  readonly nodes: readonly Int32Array[];
  /** blocks[l] is the (nodes[l + 1].length × nodes[l].length) mean matrix over the sampled edges. */
  readonly blocks: readonly SparseMatrix[];
}

/**
 * Uniform neighbour sampling without replacement (as GraphSAGE minibatches in PyG and DGL):
 * fanouts[h] neighbours of every node at hop h from the seeds, all of them when the node has
 * fewer or the fan-out is -1. Draws come from one generator seeded once, so a sequence of
 * sample() calls is reproducible.
 */
export class NeighborSampler {
  private readonly rng: Rng;
  private readonly numNodes: number;
  /** Local index of a global node in the layer being built, -1 elsewhere; reset after each layer. */
  private readonly local: Int32Array;

  constructor(
    private readonly graph: CsrGraph,
    private readonly fanouts: readonly number[],
    seed: number,
  ) {
    if (fanouts.length === 0 || fanouts.some((k) => !(Number.isInteger(k) && (k > 0 || k === -1)))) {
      throw new Error(`NeighborSampler: fan-outs must be positive integers or -1, got [${fanouts}]`);
    }
    this.rng = new Rng(seed);
    this.numNodes = graph.rowPtr.length - 1;
    this.local = new Int32Array(this.numNodes).fill(-1);
  }

  sample(seeds: Int32Array): SampledBlocks {
    const nodes: Int32Array[] = [seeds];
    const blocks: SparseMatrix[] = [];
    for (const fanout of this.fanouts) {
      const block = this.hop(nodes[0]!, fanout);
      nodes.unshift(block.src);
      blocks.unshift(block.matrix);
    }
    return { nodes, blocks };
  }

  private hop(dst: Int32Array, fanout: number): { src: Int32Array; matrix: SparseMatrix } {
    const { rowPtr: adjPtr, colIdx: adj } = this.graph;
    const rowPtr = new Int32Array(dst.length + 1);
    for (let i = 0; i < dst.length; i++) {
      const v = dst[i]!;
      if (!(v >= 0 && v < this.numNodes)) throw new Error(`NeighborSampler: node ${v} is not in the graph`);
      const degree = adjPtr[v + 1]! - adjPtr[v]!;
      rowPtr[i + 1] = rowPtr[i]! + (fanout === -1 ? degree : Math.min(degree, fanout));
    }
    const nnz = rowPtr[dst.length]!;
    const colIdx = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    const src = new Int32Array(dst.length + nnz);
    src.set(dst);
    let srcCount = dst.length;
    for (let i = 0; i < dst.length; i++) {
      if (this.local[dst[i]!] !== -1) {
        for (let j = 0; j < i; j++) this.local[dst[j]!] = -1;
        throw new Error(`NeighborSampler: node ${dst[i]} appears twice among the seeds`);
      }
      this.local[dst[i]!] = i;
    }
    const picked: number[] = [];
    for (let i = 0; i < dst.length; i++) {
      const start = adjPtr[dst[i]!]!;
      const degree = adjPtr[dst[i]! + 1]! - start;
      const count = rowPtr[i + 1]! - rowPtr[i]!;
      this.choose(degree, count, picked);
      for (let j = 0; j < count; j++) {
        const u = adj[start + picked[j]!]!;
        let id = this.local[u]!;
        if (id === -1) {
          id = srcCount++;
          this.local[u] = id;
          src[id] = u;
        }
        colIdx[rowPtr[i]! + j] = id;
      }
      colIdx.subarray(rowPtr[i]!, rowPtr[i + 1]!).sort();
      values.fill(1 / count, rowPtr[i]!, rowPtr[i + 1]!);
    }
    for (let j = 0; j < srcCount; j++) this.local[src[j]!] = -1;
    return { src: src.slice(0, srcCount), matrix: { shape: [dst.length, srcCount], rowPtr, colIdx, values } };
  }

  /** `count` distinct positions in [0, degree), uniformly (Floyd's algorithm), into `out`. */
  private choose(degree: number, count: number, out: number[]): void {
    out.length = 0;
    if (count === degree) {
      for (let j = 0; j < degree; j++) out.push(j);
      return;
    }
    for (let j = degree - count; j < degree; j++) {
      const t = this.rng.int(j + 1);
      out.push(out.includes(t) ? j : t);
    }
  }
}

/** The nodes in a seeded random order, cut into batches of `batchSize` (the last may be smaller). */
export function shuffledBatches(nodes: Int32Array, batchSize: number, rng: Rng): Int32Array[] {
  const order = nodes.slice();
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const batches: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.subarray(i, i + batchSize));
  return batches;
}
