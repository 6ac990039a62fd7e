/**
 * The graph as a graphology graph, kept in step with the store once built. It is built on first
 * use rather than eagerly: graphology costs tens of µs per edge (objects, string-keyed adjacency,
 * GC), which would dominate materialising a million-edge graph that a trainer reads only as CSR.
 */
import { DirectedGraph, UndirectedGraph } from "graphology";
import type { Split } from "../../src/schema/graph-records.ts";

export interface NodeAttributes {
  label: number | null;
  split: Split | null;
}
export interface EdgeAttributes {
  weight?: number;
}
/** Edge keys are the edge's slot in the store's edge table, as a string. */
export type Graph = DirectedGraph<NodeAttributes, EdgeAttributes> | UndirectedGraph<NodeAttributes, EdgeAttributes>;

export const emptyGraph = (directed: boolean): Graph =>
  directed ? new DirectedGraph<NodeAttributes, EdgeAttributes>() : new UndirectedGraph<NodeAttributes, EdgeAttributes>();

const edgeAttributes = (weight: number | undefined): EdgeAttributes => (weight === undefined ? {} : { weight });

/** Applies the store's mutations to a graphology graph. */
export class GraphologyView {
  constructor(readonly graph: Graph) {}

  upsertNode(id: string, attributes: NodeAttributes): void {
    if (this.graph.hasNode(id)) this.graph.replaceNodeAttributes(id, attributes);
    else this.graph.addNode(id, attributes);
  }

  dropNode(id: string): void {
    this.graph.dropNode(id);
  }

  addEdge(slot: number, src: string, dst: string, weight: number | undefined): void {
    this.graph.addEdgeWithKey(String(slot), src, dst, edgeAttributes(weight));
  }

  setWeight(slot: number, weight: number | undefined): void {
    this.graph.replaceEdgeAttributes(String(slot), edgeAttributes(weight));
  }

  dropEdge(slot: number): void {
    this.graph.dropEdge(String(slot));
  }
}
