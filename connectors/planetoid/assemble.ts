/**
 * GCN `load_data` on decoded parts: features = allx then tx, labels = ally then ty, where row j of
 * tx/ty belongs to node test.index[j]; ids in min..max(test.index) missing from the index (CiteSeer)
 * stay featureless and unlabelled, as GCN's zero padding leaves them.
 */
import type { Adjacency, Csr, Int32Matrix } from "./decode.ts";
import type { PlanetoidGraph, PlanetoidName } from "./types.ts";

export interface PlanetoidParts {
  name: PlanetoidName;
  x: Csr;
  y: Int32Matrix;
  tx: Csr;
  ty: Int32Matrix;
  /** Undefined when the file at `allxPath` is absent. */
  allx: Csr | undefined;
  allxPath: string;
  ally: Int32Matrix;
  graph: Adjacency;
  testIndex: Int32Array;
}

const VAL_SIZE = 500;

export function assemblePlanetoid(parts: PlanetoidParts): PlanetoidGraph {
  const { name, x, y, tx, ty, allx, ally, graph, testIndex } = parts;
  const numClasses = y.cols;
  const numFeatures = x.cols;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`Planetoid ${name}: ${what}`);
  };
  check(ty.cols === numClasses && ally.cols === numClasses, `label widths differ: y ${y.cols}, ty ${ty.cols}, ally ${ally.cols}`);
  check(tx.cols === numFeatures && (allx === undefined || allx.cols === numFeatures), "feature widths of x, tx and allx differ");
  check(x.rows === y.rows, `x has ${x.rows} rows, y has ${y.rows}`);
  check(tx.rows === testIndex.length && ty.rows === testIndex.length, `tx (${tx.rows}), ty (${ty.rows}) and test.index (${testIndex.length}) differ in length`);
  check(allx === undefined || allx.rows === ally.rows, `allx has ${allx?.rows} rows, ally has ${ally.rows}`);

  const test = Int32Array.from(testIndex).sort();
  for (let i = 1; i < test.length; i++) check(test[i] !== test[i - 1], `test.index repeats node ${test[i]}`);
  // GCN stacks tx right after allx, so the test ids must start where allx ends.
  check(test[0] === ally.rows, `test ids start at ${test[0]}, but allx/ally end at ${ally.rows}`);
  const numNodes = test[test.length - 1]! + 1;
  check(y.rows + VAL_SIZE <= ally.rows, `train (${y.rows}) + val (${VAL_SIZE}) exceed the ${ally.rows} non-test nodes`);

  const labels = new Int32Array(numNodes).fill(-1);
  for (let i = 0; i < ally.rows; i++) labels[i] = oneHotClass(ally, i, name, "ally");
  testIndex.forEach((node, j) => (labels[node] = oneHotClass(ty, j, name, "ty")));

  const rowSources: Array<[Csr, number]> = [];
  const base = allx ?? x;
  for (let i = 0; i < base.rows; i++) rowSources[i] = [base, i];
  testIndex.forEach((node, j) => (rowSources[node] = [tx, j]));

  const { edges, selfLoops } = undirectedEdges(graph, numNodes, name);
  const graphOut: PlanetoidGraph = {
    name,
    numNodes,
    numFeatures,
    numClasses,
    edges,
    features: stackRows(rowSources, numNodes),
    labels,
    split: { train: range(0, y.rows), val: range(y.rows, y.rows + VAL_SIZE), test },
    selfLoops,
  };
  if (allx === undefined) {
    const featureless = numNodes - x.rows - testIndex.length;
    graphOut.missingFeatures =
      `${parts.allxPath} is missing: features come only from x (nodes 0..${x.rows - 1}) and tx (the ${tx.rows} test nodes); ` +
      `the other ${featureless} nodes have EMPTY feature rows, so these features are not usable for training`;
  }
  return graphOut;
}

function oneHotClass(matrix: Int32Matrix, row: number, name: string, part: string): number {
  let found = -1;
  for (let c = 0; c < matrix.cols; c++) {
    const v = matrix.data[row * matrix.cols + c]!;
    if (v === 0) continue;
    if (v !== 1 || found !== -1) throw new Error(`Planetoid ${name}: ${part} row ${row} is not one-hot`);
    found = c;
  }
  return found;
}

function stackRows(rowSources: ReadonlyArray<[Csr, number] | undefined>, numNodes: number): PlanetoidGraph["features"] {
  const rowPtr = new Int32Array(numNodes + 1);
  for (let node = 0; node < numNodes; node++) {
    const source = rowSources[node];
    const length = source === undefined ? 0 : source[0].indptr[source[1] + 1]! - source[0].indptr[source[1]]!;
    rowPtr[node + 1] = rowPtr[node]! + length;
  }
  const colIdx = new Int32Array(rowPtr[numNodes]!);
  const values = new Float32Array(colIdx.length);
  for (let node = 0; node < numNodes; node++) {
    const source = rowSources[node];
    if (source === undefined) continue;
    const [matrix, row] = source;
    const start = matrix.indptr[row]!;
    const end = matrix.indptr[row + 1]!;
    colIdx.set(matrix.indices.subarray(start, end), rowPtr[node]!);
    values.set(matrix.data.subarray(start, end), rowPtr[node]!);
  }
  return { rowPtr, colIdx, values };
}

function undirectedEdges(graph: Adjacency, numNodes: number, name: string): { edges: PlanetoidGraph["edges"]; selfLoops: number } {
  const loops = new Set<number>();
  const keys: number[] = [];
  for (const [u, neighbours] of graph) {
    for (const v of neighbours) {
      if (u >= numNodes || v >= numNodes) throw new Error(`Planetoid ${name}: graph edge ${u}-${v} is outside the ${numNodes} nodes`);
      if (u === v) loops.add(u);
      else keys.push(Math.min(u, v) * numNodes + Math.max(u, v));
    }
  }
  // Pair codes stay below numNodes² (< 2^53), so a numeric sort orders edges by (src, dst).
  const sorted = Float64Array.from(keys).sort();
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const key = sorted[i]!;
    if (i > 0 && key === sorted[i - 1]) continue;
    src.push(Math.floor(key / numNodes));
    dst.push(key % numNodes);
  }
  return { edges: { src: Int32Array.from(src), dst: Int32Array.from(dst) }, selfLoops: loops.size };
}

function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
}
