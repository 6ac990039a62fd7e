export { GraphStore } from "./graph-store.ts";
export { buildCsr, type EdgeArrays } from "./csr.ts";
export type { Graph, NodeAttributes, EdgeAttributes } from "./graphology-view.ts";
export type * from "./types.ts";
