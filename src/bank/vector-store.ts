/**
 * Contiguous float32 storage for a vector bank: one row per key, rows reused after deletes, and the
 * checkpoint step of every row. This is what lookups read, so it stays free of per-key objects.
 */
import { StepCounts } from "./step-counts.ts";

/** What `lookup` does for a key the bank does not hold. */
export type MissingPolicy =
  /** Leave the row zero and report the miss in `found`. */
  | "zeros"
  /** Throw, naming the first missing key. */
  | "error"
  /** Fill the row (length dim) for the key, and report the miss in `found`. */
  | ((key: string, row: Float32Array) => void);

export interface LookupResult {
  /** keys.length × dim, row-major. */
  readonly values: Float32Array;
  /** 1 where the bank held the key, 0 where it did not: the miss mask. */
  readonly found: Uint8Array;
  /** The checkpoint step of each value, -1 for misses. */
  readonly steps: Float64Array;
}

const INITIAL_ROWS = 1024;

export class VectorStore {
  private data: Float32Array;
  /** NaN for rows without a key. */
  private stepOfRow: Float64Array;
  private readonly rowOf = new Map<string, number>();
  private keyOfRow: (string | undefined)[] = [];
  private readonly freeRows: number[] = [];
  private rowsUsed = 0;
  readonly steps = new StepCounts();

  constructor(readonly dim: number, capacity = INITIAL_ROWS) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`vector bank dim must be a positive integer, got ${dim}`);
    this.data = new Float32Array(capacity * dim);
    this.stepOfRow = new Float64Array(capacity).fill(NaN);
  }

  get size(): number {
    return this.rowOf.size;
  }

  /** The storage: `rows × dim`, row-major. Rows of deleted keys are zero. A new array after growth. */
  get storage(): Float32Array {
    return this.data;
  }

  /** The row of a key, or -1. Rows are stable while the key lives. */
  rowOfKey(key: string): number {
    return this.rowOf.get(key) ?? -1;
  }

  keyOfRowAt(row: number): string | undefined {
    return this.keyOfRow[row];
  }

  stepOf(key: string): number {
    const row = this.rowOf.get(key);
    return row === undefined ? -1 : this.stepOfRow[row]!;
  }

  /**
   * Stores a key's vector from `bytes[at .. at + 4·dim]` (little-endian float32, any alignment).
   * Returns the row.
   */
  setFromBytes(key: string, bytes: Uint8Array, at: number, step: number): number {
    const row = this.rowFor(key);
    new Uint8Array(this.data.buffer, row * this.dim * 4, this.dim * 4).set(bytes.subarray(at, at + this.dim * 4));
    this.setStep(row, step);
    return row;
  }

  set(key: string, values: Float32Array, step: number): number {
    if (values.length !== this.dim) throw new Error(`vector for key ${key} has ${values.length} values, the bank's dim is ${this.dim}`);
    const row = this.rowFor(key);
    this.data.set(values, row * this.dim);
    this.setStep(row, step);
    return row;
  }

  /** Deletes a key; returns its former row, or -1. */
  delete(key: string): number {
    const row = this.rowOf.get(key);
    if (row === undefined) return -1;
    this.rowOf.delete(key);
    this.keyOfRow[row] = undefined;
    this.steps.remove(this.stepOfRow[row]!);
    this.stepOfRow[row] = NaN;
    this.data.fill(0, row * this.dim, (row + 1) * this.dim);
    this.freeRows.push(row);
    return row;
  }

  lookup(keys: readonly string[], missing: MissingPolicy = "zeros", out?: Float32Array): LookupResult {
    const dim = this.dim;
    const values = out ?? new Float32Array(keys.length * dim);
    if (values.length < keys.length * dim) throw new Error(`lookup: the output holds ${values.length} floats, ${keys.length} keys need ${keys.length * dim}`);
    const found = new Uint8Array(keys.length);
    const steps = new Float64Array(keys.length);
    const data = this.data;
    for (let i = 0; i < keys.length; i++) {
      const row = this.rowOf.get(keys[i]!);
      if (row !== undefined) {
        values.set(data.subarray(row * dim, row * dim + dim), i * dim);
        found[i] = 1;
        steps[i] = this.stepOfRow[row]!;
        continue;
      }
      steps[i] = -1;
      if (missing === "error") throw new Error(`lookup: the bank holds no value for key ${JSON.stringify(keys[i])}`);
      const target = values.subarray(i * dim, i * dim + dim);
      if (missing === "zeros") target.fill(0);
      else missing(keys[i]!, target);
    }
    return { values, found, steps };
  }

  /** Every live key with its row, in row order. */
  *entries(): Generator<[key: string, row: number]> {
    for (let row = 0; row < this.rowsUsed; row++) {
      const key = this.keyOfRow[row];
      if (key !== undefined) yield [key, row];
    }
  }

  stepOfRowAt(row: number): number {
    return this.stepOfRow[row]!;
  }

  private rowFor(key: string): number {
    const existing = this.rowOf.get(key);
    if (existing !== undefined) return existing;
    const row = this.freeRows.pop() ?? this.rowsUsed++;
    if (row * this.dim >= this.data.length) this.grow();
    this.rowOf.set(key, row);
    this.keyOfRow[row] = key;
    return row;
  }

  private setStep(row: number, step: number): void {
    const old = this.stepOfRow[row]!;
    if (old === step) return;
    if (!Number.isNaN(old)) this.steps.remove(old);
    this.stepOfRow[row] = step;
    this.steps.add(step);
  }

  private grow(): void {
    const rows = Math.max(INITIAL_ROWS, (this.data.length / this.dim) * 2);
    const data = new Float32Array(rows * this.dim);
    data.set(this.data);
    this.data = data;
    const steps = new Float64Array(rows).fill(NaN);
    steps.set(this.stepOfRow);
    this.stepOfRow = steps;
  }
}
