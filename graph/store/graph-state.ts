/**
 * The materialised graph: dense indexing, node data, the edge table and per-node change versions,
 * kept in step, plus a graphology view of the same graph once someone asks for it.
 */
import type { EdgeDelete, EdgeUpsert, GraphEvent, NodeDelete, NodeUpsert } from "../../src/schema/graph-records.ts";
import { ChangeTracker } from "./change-tracker.ts";
import { buildCsr } from "./csr.ts";
import { EdgeTable } from "./edge-table.ts";
import { emptyGraph, GraphologyView, type Graph } from "./graphology-view.ts";
import { NodeIndex } from "./node-index.ts";
import { NodeTable } from "./node-table.ts";
import type { CsrSnapshot } from "./types.ts";

export class GraphState {
  readonly index = new NodeIndex();
  readonly nodes: NodeTable;
  readonly changes = new ChangeTracker();
  private readonly edges: EdgeTable;
  private view: GraphologyView | undefined;
  /** Bumped whenever the CSR would differ: nodes added or removed, edges added, removed or reweighted. */
  private structure = 0;
  private cached: { readonly structure: number; readonly csr: CsrSnapshot } | undefined;

  constructor(readonly directed: boolean, featureDim: number | undefined) {
    this.nodes = new NodeTable(featureDim);
    this.edges = new EdgeTable(directed);
  }

  /** Applies one event; returns why it was refused (nothing changes then), or undefined. */
  apply(event: GraphEvent): string | undefined {
    switch (event.kind) {
      case "node":
        return this.upsertNode(event);
      case "node-delete":
        return this.deleteNode(event);
      case "edge":
        return this.upsertEdge(event);
      case "edge-delete":
        return this.deleteEdge(event);
    }
  }

  get edgeCount(): number {
    return this.edges.count;
  }

  /** The graphology graph, built now if this is the first call, then kept up to date. */
  graph(): Graph {
    this.view ??= this.buildView();
    return this.view.graph;
  }

  snapshot(): CsrSnapshot {
    if (this.cached?.structure !== this.structure) {
      const { src, dst, weight, slots } = this.edges;
      const csr = buildCsr({ src, dst, weight, length: slots }, this.index.size, {
        directed: this.directed,
        weighted: this.edges.weightedCount > 0,
        version: this.changes.version,
      });
      this.cached = { structure: this.structure, csr };
    }
    return this.cached.csr;
  }

  private upsertNode(event: NodeUpsert): string | undefined {
    const refused = event.features && this.nodes.rejects(event.features);
    if (refused) return `node ${event.id}: ${refused}`;
    this.changes.advance();
    const index = this.addNode(event.id);
    this.nodes.set(index, event.label, event.split, event.features);
    this.view?.upsertNode(event.id, this.nodes.attributes(index));
    this.changes.touch(index);
    return undefined;
  }

  private deleteNode({ id }: NodeDelete): undefined {
    this.changes.advance();
    const index = this.index.remove(id);
    if (index < 0) return;
    for (const slot of this.edges.incident(index)) {
      const src = this.edges.src[slot]!;
      this.changes.touch(src === index ? this.edges.dst[slot]! : src);
      this.edges.remove(slot);
    }
    this.view?.dropNode(id);
    this.nodes.clear(index);
    this.changes.touch(index);
    this.structure++;
  }

  private upsertEdge({ src, dst, weight }: EdgeUpsert): undefined {
    this.changes.advance();
    const s = this.addNode(src);
    const d = this.addNode(dst);
    const slot = this.edges.find(s, d);
    if (slot < 0) {
      const added = this.edges.add(s, d, weight);
      this.view?.addEdge(added, src, dst, weight);
    } else {
      const old = this.edges.weight[slot]!;
      if (weight === undefined ? Number.isNaN(old) : Math.fround(weight) === old) return;
      this.edges.setWeight(slot, weight);
      this.view?.setWeight(slot, weight);
    }
    this.changes.touch(s);
    this.changes.touch(d);
    this.structure++;
  }

  private deleteEdge({ src, dst }: EdgeDelete): undefined {
    this.changes.advance();
    const s = this.index.indexOf(src);
    const d = this.index.indexOf(dst);
    if (s < 0 || d < 0) return;
    const slot = this.edges.find(s, d);
    if (slot < 0) return;
    this.edges.remove(slot);
    this.view?.dropEdge(slot);
    this.changes.touch(s);
    this.changes.touch(d);
    this.structure++;
  }

  /** The index of `id`, adding the node (no features, no label) when the graph lacks it. */
  private addNode(id: string): number {
    const known = this.index.indexOf(id);
    if (known >= 0 && this.index.isAlive(known)) return known;
    const index = this.index.add(id);
    this.nodes.grow(this.index.size);
    this.view?.upsertNode(id, this.nodes.attributes(index));
    this.changes.touch(index);
    this.structure++;
    return index;
  }

  private buildView(): GraphologyView {
    const view = new GraphologyView(emptyGraph(this.directed));
    for (let i = 0; i < this.index.size; i++) if (this.index.isAlive(i)) view.upsertNode(this.index.idOf(i), this.nodes.attributes(i));
    const { src, dst, weight, slots } = this.edges;
    for (let slot = 0; slot < slots; slot++) {
      if (src[slot]! < 0) continue;
      const w = weight[slot]!;
      view.addEdge(slot, this.index.idOf(src[slot]!), this.index.idOf(dst[slot]!), Number.isNaN(w) ? undefined : w);
    }
    return view;
  }
}
