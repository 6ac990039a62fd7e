/** A digest of everything a model sees of a graph, to tell whether two stores hold the same graph, node order included. */
import { createHash } from "node:crypto";
import type { GraphStore } from "./graph-store.ts";

export function graphFingerprint(graph: GraphStore): string {
  const hash = createHash("sha256");
  const bytes = (a: ArrayBufferView) => hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  for (let i = 0; i < graph.numNodes; i++) hash.update(`${graph.idOf(i)}\n`);
  const { rowPtr, colIdx, weights } = graph.snapshot();
  const masks = graph.masks();
  for (const array of [graph.labels(), masks.train, masks.val, masks.test, graph.features().data, rowPtr, colIdx, ...(weights ? [weights] : [])]) bytes(array);
  return hash.digest("hex");
}
