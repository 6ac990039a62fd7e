/**
 * Per-node data by dense index: features (a dense Float32 matrix), labels and splits.
 *
 * Features are stored dense, sparse inputs expanded: the GNN layers consume dense rows, an update
 * rewrites one row in place (a CSR matrix would have to be rebuilt or fragment), and the widths of
 * the graphs carls targets (hundreds to a few thousand columns) fit in memory dense.
 */
import { scatterSparse, type Vector } from "../../src/schema/vector.ts";
import type { Split } from "../../src/schema/graph-records.ts";
import { ensureLength } from "./growable.ts";
import type { NodeAttributes } from "./graphology-view.ts";
import type { FeatureMatrix, SplitMasks } from "./types.ts";

const SPLIT_CODES: Record<Split, number> = { train: 1, val: 2, test: 3 };
const SPLITS: readonly (Split | null)[] = [null, "train", "val", "test"];

/**
 * A reservation is a hint (node records, which count every update of a node), so it stays within
 * these: beyond them the table grows by doubling as it did without one.
 */
const MAX_RESERVED_ROWS = 2 ** 20;
const MAX_RESERVED_FEATURE_BYTES = 2 ** 28;

/** How many rows of `dim` features to make room for when `rows` are expected. */
const featureRows = (rows: number, dim: number): number => Math.min(rows, Math.floor(MAX_RESERVED_FEATURE_BYTES / 4 / dim));

export class NodeTable {
  private dim: number;
  private rows = 0;
  private features = new Float32Array(0);
  private labelOf = new Int32Array(0);
  private splitOf = new Uint8Array(0);

  constructor(featureDim: number | undefined) {
    this.dim = featureDim ?? 0;
  }

  get featureDim(): number {
    return this.dim;
  }

  /** Why `vector` cannot be stored here, or undefined when it can (the first one fixes the width). */
  rejects(vector: Vector): string | undefined {
    const width = vector.kind === "dense" ? vector.values.length : vector.dim;
    if (this.dim !== 0 && width !== this.dim) return `features have dimension ${width} but this graph's are ${this.dim}`;
    if (width === 0) return "features have dimension 0";
    return undefined;
  }

  /**
   * Room for `rows` rows without growing (an expected count, as of the node records about to be
   * read): a feature matrix grown by doubling is allocated and copied twice over, each time on
   * fresh pages. Rows in use do not change.
   */
  reserve(rows: number): void {
    const reserved = Math.min(rows, MAX_RESERVED_ROWS);
    this.labelOf = ensureLength(this.labelOf, reserved, -1);
    this.splitOf = ensureLength(this.splitOf, reserved);
    if (this.dim > 0) this.features = ensureLength(this.features, featureRows(reserved, this.dim) * this.dim);
  }

  /** Makes room for rows 0 .. numRows - 1 (new rows: no features, label -1, no split). */
  grow(numRows: number): void {
    if (numRows <= this.rows) return;
    this.labelOf = ensureLength(this.labelOf, numRows, -1);
    this.splitOf = ensureLength(this.splitOf, numRows);
    if (this.dim > 0) this.features = ensureLength(this.features, numRows * this.dim);
    this.rows = numRows;
  }

  /** Replaces row `index` (a node record is the node's whole state). Check `rejects` first. */
  set(index: number, label: number | null | undefined, split: Split | null | undefined, features: Vector | undefined): void {
    this.labelOf[index] = label ?? -1;
    this.splitOf[index] = split ? SPLIT_CODES[split] : 0;
    if (features && this.dim === 0) {
      this.dim = features.kind === "dense" ? features.values.length : features.dim;
      this.features = new Float32Array(Math.max(featureRows(this.labelOf.length, this.dim), this.rows) * this.dim);
    }
    if (this.dim === 0) return;
    const at = index * this.dim;
    if (features?.kind === "dense") this.features.set(features.values, at);
    else {
      this.features.fill(0, at, at + this.dim);
      if (features) scatterSparse(features, this.features, at);
    }
  }

  attributes(index: number): NodeAttributes {
    const label = this.labelOf[index]!;
    return { label: label < 0 ? null : label, split: SPLITS[this.splitOf[index]!]! };
  }

  clear(index: number): void {
    this.set(index, null, null, undefined);
  }

  /** Live views of the first `numRows` rows: they see later updates until the table grows. */
  featureMatrix(numRows: number): FeatureMatrix {
    return { dim: this.dim, data: this.features.subarray(0, numRows * this.dim) };
  }

  labels(numRows: number): Int32Array {
    return this.labelOf.subarray(0, numRows);
  }

  masks(numRows: number): SplitMasks {
    const masks = { train: new Uint8Array(numRows), val: new Uint8Array(numRows), test: new Uint8Array(numRows) };
    const bySplit = [undefined, masks.train, masks.val, masks.test];
    for (let i = 0; i < numRows; i++) {
      const mask = bySplit[this.splitOf[i]!];
      if (mask) mask[i] = 1;
    }
    return masks;
  }
}
