/**
 * Reads one dataset in the converted Planetoid CSV layout of shared/datasets (edges.csv src,dst with
 * each undirected edge once; features.csv sparse node,feature,value; labels.csv node,label;
 * split.json train/val/test; meta.json counts). A stopgap for experiments, not a connector.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromCoo, type Edges, type SparseMatrix } from "./sparse.ts";

export interface PlanetoidData {
  readonly numNodes: number;
  readonly numClasses: number;
  readonly edges: Edges;
  /** numNodes × numFeatures, not normalised. */
  readonly features: SparseMatrix;
  /** -1 for unlabelled nodes. */
  readonly labels: Int32Array;
  readonly split: { readonly train: Int32Array; readonly val: Int32Array; readonly test: Int32Array };
}

export function loadPlanetoidCsv(dir: string, featuresFile = "features.csv"): PlanetoidData {
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { num_nodes: number; num_features: number; num_classes: number };
  const edgeCols = readCsv(join(dir, "edges.csv"), ["src", "dst"]);
  const featureCols = readCsv(join(dir, featuresFile), ["node", "feature", "value"]);
  const labelCols = readCsv(join(dir, "labels.csv"), ["node", "label"]);
  const labels = new Int32Array(meta.num_nodes).fill(-1);
  labelCols[0]!.forEach((node, i) => (labels[node] = labelCols[1]![i]!));
  const split = JSON.parse(readFileSync(join(dir, "split.json"), "utf8")) as Record<"train" | "val" | "test", number[]>;
  return {
    numNodes: meta.num_nodes,
    numClasses: meta.num_classes,
    edges: { src: Int32Array.from(edgeCols[0]!), dst: Int32Array.from(edgeCols[1]!) },
    features: fromCoo({ row: featureCols[0]!, col: featureCols[1]!, values: featureCols[2]! }, [meta.num_nodes, meta.num_features]),
    labels,
    split: { train: Int32Array.from(split.train), val: Int32Array.from(split.val), test: Int32Array.from(split.test) },
  };
}

/** Numeric columns of a CSV with the expected header. */
function readCsv(path: string, header: readonly string[]): number[][] {
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines[0]!.trim() !== header.join(",")) throw new Error(`${path}: expected header ${header.join(",")}, found ${lines[0]}`);
  const cols: number[][] = header.map(() => []);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const fields = line.split(",");
    if (fields.length !== header.length) throw new Error(`${path}:${i + 1}: expected ${header.length} fields`);
    fields.forEach((f, j) => cols[j]!.push(Number(f)));
  }
  return cols;
}
