/**
 * The program graph, as a person would draw it: nodes (boxes, with their replicas) and the handles
 * between them (topics, banks, services), an arrow from a node to what it writes or serves and from
 * a handle to the nodes that read or call it. As Mermaid text, as Graphviz DOT, and as SVG.
 */
import { instance } from "@viz-js/viz";
import { handleLabel, type Handle } from "./handles.ts";
import { nodeGroups, type Program } from "./program.ts";

interface Edge {
  readonly from: string;
  readonly to: string;
}

const handleId = (h: Handle) => `${h.kind}_${h.name}`.replace(/[^A-Za-z0-9_]/g, "_");
const nodeId = (name: string) => `node_${name}`.replace(/[^A-Za-z0-9_]/g, "_");

function collect(program: Program): { handles: Map<string, Handle>; edges: Edge[] } {
  const handles = new Map<string, Handle>();
  const edges: Edge[] = [];
  for (const node of program.nodes) {
    for (const h of node.writes) {
      handles.set(handleId(h), h);
      edges.push({ from: nodeId(node.name), to: handleId(h) });
    }
    for (const h of node.reads) {
      handles.set(handleId(h), h);
      edges.push({ from: handleId(h), to: nodeId(node.name) });
    }
  }
  return { handles, edges };
}

const nodeLabel = (name: string, replicas: number, critical: boolean) => `${name}${replicas > 1 ? ` ×${replicas}` : ""}${critical ? " (critical)" : ""}`;

export function toMermaid(program: Program): string {
  const { handles, edges } = collect(program);
  const lines = [`flowchart LR`];
  const groups = nodeGroups(program);
  for (const [group, nodes] of groups) {
    const boxes = nodes.map((n) => `${nodeId(n.name)}["${nodeLabel(n.name, n.replicas, n.critical)}"]`);
    if (nodes.length > 1 || group !== nodes[0]!.name) lines.push(`  subgraph ${group}`, ...boxes.map((b) => `    ${b}`), "  end");
    else lines.push(`  ${boxes[0]}`);
  }
  for (const [id, h] of handles) lines.push(h.kind === "bank" ? `  ${id}[("${handleLabel(h)}")]` : h.kind === "service" ? `  ${id}{{"${handleLabel(h)}"}}` : `  ${id}>"${handleLabel(h)}"]`);
  for (const n of program.nodes) for (const dep of n.after) lines.push(`  ${nodeId(dep)} -. after .-> ${nodeId(n.name)}`);
  for (const e of edges) lines.push(`  ${e.from} --> ${e.to}`);
  return `${lines.join("\n")}\n`;
}

export function toDot(program: Program): string {
  const { handles, edges } = collect(program);
  const q = JSON.stringify;
  const lines = [`digraph ${q(program.name)} {`, "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];'];
  const groups = nodeGroups(program);
  let cluster = 0;
  for (const [group, nodes] of groups) {
    const boxes = nodes.map((n) => `${nodeId(n.name)} [shape=box, style="rounded,filled", fillcolor=${n.critical ? q("#fde2e1") : q("#e8f0fe")}, label=${q(nodeLabel(n.name, n.replicas, n.critical))}];`);
    if (nodes.length > 1) lines.push(`  subgraph cluster_${cluster++} {`, `    label=${q(group)}; style=dashed;`, ...boxes.map((b) => `    ${b}`), "  }");
    else lines.push(`  ${boxes[0]}`);
  }
  const shape = { topic: "cds", bank: "cylinder", service: "hexagon" } as const;
  for (const [id, h] of handles) lines.push(`  ${id} [shape=${shape[h.kind]}, label=${q(handleLabel(h))}];`);
  for (const n of program.nodes) for (const dep of n.after) lines.push(`  ${nodeId(dep)} -> ${nodeId(n.name)} [style=dotted, label="after"];`);
  for (const e of edges) lines.push(`  ${e.from} -> ${e.to};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Renders the graph with Graphviz (compiled to WebAssembly: nothing to install, nothing fetched). */
export async function toSvg(program: Program): Promise<string> {
  const viz = await instance();
  return viz.renderString(toDot(program), { format: "svg", engine: "dot" });
}
