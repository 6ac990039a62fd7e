/** The original Planetoid files as graph events: nodes (sparse features, label, split), then undirected edges once each. */
import { join } from "node:path";
import { sparseVector, type Split } from "../../src/schema/index.ts";
import type { GraphSource, SourceEvent } from "../events.ts";
import { fileFingerprint } from "../fingerprint.ts";
import { readPlanetoid, type PlanetoidGraph, type PlanetoidName } from "../planetoid/read.ts";

const PARTS = ["x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"];

export function planetoidSource(dir: string, name: PlanetoidName): GraphSource {
  let graph: Promise<PlanetoidGraph> | undefined;
  const load = () => (graph ??= readPlanetoid(dir, name));
  return {
    connector: `planetoid:${name}`,
    resumes: "by-row",
    fingerprint: () => fileFingerprint(...PARTS.map((part) => join(dir, `ind.${name}.${part}`))),
    estimateRows: async () => {
      const g = await load();
      return g.numNodes + g.edges.src.length;
    },
    events: (from) => planetoidEvents(load(), from),
  };
}

async function* planetoidEvents(loading: Promise<PlanetoidGraph>, from: number): AsyncGenerator<SourceEvent> {
  const g = await loading;
  const splits = new Map<number, Split>();
  for (const [split, ids] of [["train", g.split.train], ["val", g.split.val], ["test", g.split.test]] as const) for (const id of ids) splits.set(id, split);
  const { rowPtr, colIdx, values } = g.features;
  for (let i = from; i < g.numNodes; i++) {
    const [start, end] = [rowPtr[i]!, rowPtr[i + 1]!];
    yield {
      kind: "node",
      id: String(i),
      label: g.labels[i]! >= 0 ? g.labels[i]! : null,
      split: splits.get(i) ?? null,
      features: sparseVector(g.numFeatures, Uint32Array.from(colIdx.subarray(start, end)), values.slice(start, end)),
    };
  }
  for (let e = Math.max(0, from - g.numNodes); e < g.edges.src.length; e++) {
    yield { kind: "edge", src: String(g.edges.src[e]), dst: String(g.edges.dst[e]) };
  }
}
