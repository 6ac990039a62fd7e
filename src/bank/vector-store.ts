/**
 * Contiguous float32 storage for a vector bank: one row per key, rows reused after deletes, and the
 * checkpoint step of every row. This is what lookups read, so it stays free of per-key objects:
 * keys live as bytes in a KeyIndex, and can be set from the bytes of a read without a string.
 */
import { hashBytes } from "./key-bytes.ts";
import { FindScratch, KeyIndex, UNSURE, findRows } from "./key-index.ts";
import { StepCounts } from "./step-counts.ts";
import { firstNonFinite } from "./finite.ts";

/** What `lookup` does for a key the bank does not hold. */
export type MissingPolicy =
  /** Leave the row zero and report the miss in `found`. */
  | "zeros"
  /** Throw, naming the first missing key. */
  | "error"
  /** Fill the row (length dim) for the key, and report the miss in `found`. */
  | ((key: string, row: Float32Array) => void);

export interface LookupOptions {
  /** What to do for a key the bank does not hold; "zeros" when absent. */
  readonly missing?: MissingPolicy;
  /** Where to write the values (room for keys.length × dim floats); a new array when absent. */
  readonly out?: Float32Array;
  /**
   * Also give the checkpoint step of each value. Off unless asked: each row's step is one more
   * memory read a key, 10–20 % of a lookup in a bank of 1M keys (bench/bank).
   */
  readonly steps?: boolean;
}

export interface LookupResult {
  /** keys.length × dim, row-major. */
  readonly values: Float32Array;
  /** 1 where the bank held the key, 0 where it did not: the miss mask. */
  readonly found: Uint8Array;
  /** The checkpoint step of each value, -1 for misses; only when asked for with `steps: true`. */
  readonly steps?: Float64Array;
}

/** What `lookup` gives when asked for steps. */
export type LookupResultWithSteps = LookupResult & { readonly steps: Float64Array };

/** Live rows, in row order, as bytes: what a snapshot holds and a restore takes back. */
export interface StoreRows {
  readonly count: number;
  readonly dim: number;
  /** count × dim. */
  readonly values: Float32Array;
  readonly steps: Float64Array;
  /** The keys' UTF-8, back to back in row order: key `i` is the `keyLength[i]` bytes after key `i - 1`. */
  readonly keyData: Uint8Array;
  readonly keyLength: Uint32Array;
}

const INITIAL_ROWS = 1024;
/** Rows a lookup touches and then copies at a time: enough misses under way, few enough pages for the TLB. */
const CHUNK = 128;
/** 32-bit words in a 64-byte cache line. */
const WORDS_PER_LINE = 16;

export class VectorStore {
  private data: Float32Array;
  /** `data` as bytes, for copying vectors out of a read's buffer. */
  private bytes: Uint8Array;
  /** `data` as 32-bit words: lookups copy bits, without float conversions. */
  private words: Int32Array;
  /** `data` as pairs of words, for copying rows of even width in half the moves. */
  private pairs: Float64Array;
  /** Meaningful only for rows with a key. */
  private stepOfRow: Float64Array;
  private readonly index: KeyIndex;
  private readonly freeRows: number[] = [];
  private rowsUsed = 0;
  private scratchRows = new Int32Array(0);
  private readonly scratchKeys = new FindScratch();
  readonly steps = new StepCounts();

  constructor(readonly dim: number, capacity = INITIAL_ROWS) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`vector bank dim must be a positive integer, got ${dim}`);
    const rows = Math.max(1, Math.ceil(capacity));
    this.data = new Float32Array(rows * dim);
    this.bytes = new Uint8Array(this.data.buffer);
    this.words = new Int32Array(this.data.buffer);
    this.pairs = pairsOf(this.data);
    this.stepOfRow = new Float64Array(rows);
    this.index = new KeyIndex(rows);
  }

  get size(): number {
    return this.index.size;
  }

  /** The storage: `rows × dim`, row-major. Rows of deleted keys are zero. A new array after growth. */
  get storage(): Float32Array {
    return this.data;
  }

  /**
   * Room for `more` new keys without growing. Storage nobody writes costs address space rather
   * than memory (the pages of a large zeroed allocation are mapped on first touch), so an upper
   * bound such as the offsets of a catch-up will do; the key table costs 32 bytes a key.
   */
  reserve(more: number): void {
    const rows = this.rowsUsed + Math.max(0, more - this.freeRows.length);
    const capacity = this.data.length / this.dim;
    if (rows > capacity) this.resize(Math.max(rows, 2 * capacity));
    this.index.reserveKeys(this.size + more);
  }

  /** The first value of `row` that is NaN or infinite, or -1. */
  firstNonFiniteOfRow(row: number): number {
    return firstNonFinite(this.data, row * this.dim, (row + 1) * this.dim);
  }

  /** The row of a key, or -1. Rows are stable while the key lives. */
  rowOfKey(key: string): number {
    return this.index.find(key);
  }

  keyOfRowAt(row: number): string | undefined {
    return this.index.keyOf(row);
  }

  stepOf(key: string): number {
    const row = this.index.find(key);
    return row < 0 ? -1 : this.stepOfRow[row]!;
  }

  stepOfRowAt(row: number): number {
    return this.index.hasKey(row) ? this.stepOfRow[row]! : NaN;
  }

  /**
   * Stores a key's vector from `bytes[at .. at + 4·dim]` (little-endian float32, any alignment).
   * Returns the row.
   */
  setFromBytes(key: string, bytes: Uint8Array, at: number, step: number): number {
    let row = this.index.find(key);
    if (row < 0) {
      row = this.newRow();
      this.index.add(row, key);
    }
    this.copyIn(row, bytes, at, step);
    return row;
  }

  /**
   * `setFromBytes` with the key as the UTF-8 bytes `keyData[keyStart .. keyStart + keyLength]`,
   * as a read holds them, and their `hashBytes`: no string is made.
   */
  setFromKeyBytes(keyData: Uint8Array, keyStart: number, keyLength: number, keyHash: number, bytes: Uint8Array, at: number, step: number): number {
    let row = this.index.probeBytes(keyData, keyStart, keyLength, keyHash);
    if (row < 0) {
      const slot = -1 - row;
      row = this.newRow();
      this.index.addBytesAt(slot, row, keyData, keyStart, keyLength, keyHash);
    }
    this.copyIn(row, bytes, at, step);
    return row;
  }

  set(key: string, values: Float32Array, step: number): number {
    if (values.length !== this.dim) throw new Error(`vector for key ${key} has ${values.length} values, the bank's dim is ${this.dim}`);
    let row = this.index.find(key);
    if (row < 0) {
      row = this.newRow();
      this.index.add(row, key);
    }
    this.data.set(values, row * this.dim);
    this.setStep(row, step);
    return row;
  }

  /** Deletes a key; returns its former row, or -1. */
  delete(key: string): number {
    return this.deleteRow(this.index.find(key));
  }

  /** `delete` with the key as UTF-8 bytes and their `hashBytes`. */
  deleteKeyBytes(keyData: Uint8Array, keyStart: number, keyLength: number, keyHash: number): number {
    return this.deleteRow(this.index.findBytes(keyData, keyStart, keyLength, keyHash));
  }

  /** The vectors of `keys`, with a miss mask, and each value's step when asked. */
  lookup(keys: readonly string[], options: LookupOptions & { readonly steps: true }): LookupResultWithSteps;
  lookup(keys: readonly string[], options?: LookupOptions): LookupResult;
  lookup(keys: readonly string[], { missing = "zeros", out, steps: withSteps = false }: LookupOptions = {}): LookupResult {
    const dim = this.dim;
    const n = keys.length;
    if (missing !== "zeros" && missing !== "error" && typeof missing !== "function") throw new Error(`lookup: missing must be "zeros", "error" or a function (key, row) => void, got ${JSON.stringify(missing)}`);
    const values = out ?? new Float32Array(n * dim);
    if (values.length < n * dim) throw new Error(`lookup: the output holds ${values.length} floats, ${n} keys need ${n * dim}`);
    const found = new Uint8Array(n);
    const steps = withSteps ? new Float64Array(n) : undefined;
    if (this.scratchRows.length < n) this.scratchRows = new Int32Array(n);
    this.scratchKeys.reserve(n);
    const { scratchRows: rows, scratchKeys } = this;
    const asPairs = dim % 2 === 0 && values.byteOffset % 8 === 0;
    const pairsInto = asPairs ? new Float64Array(values.buffer, values.byteOffset, (n * dim) / 2) : undefined;
    const wordsInto = asPairs ? undefined : new Int32Array(values.buffer, values.byteOffset, n * dim);
    const { table, mask, arena } = this.index.tables;
    const unsure = lookupRows(keys, rows, scratchKeys, table, mask, arena, this.words, this.pairs, pairsInto, wordsInto, dim, this.stepOfRow, steps, found);
    if (unsure > 0) this.lookupUnsure(keys, rows, values, steps, found);
    for (let i = 0; i < n; i++) {
      if (found[i]) continue;
      if (missing === "error") throw new Error(`lookup: the bank holds no value for key ${JSON.stringify(keys[i])}`);
      const target = values.subarray(i * dim, i * dim + dim);
      if (missing === "zeros") target.fill(0);
      else missing(keys[i]!, target);
    }
    return steps ? { values, found, steps } : { values, found };
  }

  /** The keys `lookupRows` left UNSURE: another key with the same hash came first. */
  private lookupUnsure(keys: readonly string[], rows: Int32Array, values: Float32Array, steps: Float64Array | undefined, found: Uint8Array): void {
    const { dim } = this;
    for (let i = 0; i < keys.length; i++) {
      if (rows[i] !== UNSURE) continue;
      const row = this.index.find(keys[i]!);
      if (row < 0) continue;
      values.set(this.data.subarray(row * dim, row * dim + dim), i * dim);
      if (steps) steps[i] = this.stepOfRow[row]!;
      found[i] = 1;
    }
  }

  /** The rows that hold a key, in order. */
  liveRows(): Int32Array {
    const rows = new Int32Array(this.size);
    for (let row = 0, n = 0; row < this.rowsUsed; row++) if (this.index.hasKey(row)) rows[n++] = row;
    return rows;
  }

  /** Every live key with its row, in row order. */
  *entries(): Generator<[key: string, row: number]> {
    for (let row = 0; row < this.rowsUsed; row++) {
      const key = this.index.keyOf(row);
      if (key !== undefined) yield [key, row];
    }
  }

  /** The live rows, packed in row order (for a snapshot). */
  rows(): StoreRows {
    const { dim } = this;
    const count = this.size;
    const values = new Float32Array(count * dim);
    const steps = new Float64Array(count);
    const keyLength = new Uint32Array(count);
    let keyBytes = 0;
    let n = 0;
    for (let row = 0; row < this.rowsUsed; row++) {
      const key = this.index.keyBytesOf(row);
      if (!key) continue;
      values.set(this.data.subarray(row * dim, row * dim + dim), n * dim);
      steps[n] = this.stepOfRow[row]!;
      keyLength[n] = key.byteLength;
      keyBytes += key.byteLength;
      n++;
    }
    const keyData = new Uint8Array(keyBytes);
    for (let row = 0, at = 0; row < this.rowsUsed; row++) {
      const key = this.index.keyBytesOf(row);
      if (!key) continue;
      keyData.set(key, at);
      at += key.byteLength;
    }
    return { count, dim, values, steps, keyData, keyLength };
  }

  /**
   * Takes `rows` into an empty store as rows 0 .. count - 1 (a snapshot restore). `rows.values`
   * may be this store's own `storage` already (read in place), else it is copied.
   */
  restore(rows: StoreRows): void {
    if (this.rowsUsed > 0 || this.size > 0) throw new Error("restore: the store is not empty");
    if (rows.dim !== this.dim) throw new Error(`restore: rows of dim ${rows.dim} into a store of dim ${this.dim}`);
    const { count, keyData, keyLength } = rows;
    this.reserve(count);
    if (rows.values.buffer !== this.data.buffer) this.data.set(rows.values.subarray(0, count * this.dim));
    this.stepOfRow.set(rows.steps.subarray(0, count));
    for (let i = 0, start = 0; i < count; start += keyLength[i]!, i++) {
      const length = keyLength[i]!;
      const hash = hashBytes(keyData, start, length);
      const slot = -1 - this.index.probeBytes(keyData, start, length, hash);
      if (slot < 0) throw new Error(`restore: key ${Buffer.from(keyData.subarray(start, start + length)).toString()} appears twice`);
      this.index.addBytesAt(slot, i, keyData, start, length, hash);
      this.steps.add(rows.steps[i]!);
    }
    this.rowsUsed = count;
  }

  private copyIn(row: number, bytes: Uint8Array, at: number, step: number): void {
    const length = this.dim * 4;
    this.bytes.set(bytes.subarray(at, at + length), row * length);
    this.setStep(row, step);
  }

  private deleteRow(row: number): number {
    if (row < 0) return -1;
    this.index.remove(row);
    this.steps.remove(this.stepOfRow[row]!);
    this.data.fill(0, row * this.dim, (row + 1) * this.dim);
    this.freeRows.push(row);
    return row;
  }

  private newRow(): number {
    const row = this.freeRows.pop() ?? this.rowsUsed++;
    if (row * this.dim >= this.data.length) this.resize(Math.max(INITIAL_ROWS, (this.data.length / this.dim) * 2));
    this.stepOfRow[row] = NaN;
    return row;
  }

  private setStep(row: number, step: number): void {
    const old = this.stepOfRow[row]!;
    if (old === step) return;
    if (!Number.isNaN(old)) this.steps.remove(old);
    this.stepOfRow[row] = step;
    this.steps.add(step);
  }

  private resize(rows: number): void {
    const data = new Float32Array(rows * this.dim);
    data.set(this.data.subarray(0, this.rowsUsed * this.dim));
    this.data = data;
    this.bytes = new Uint8Array(data.buffer);
    this.words = new Int32Array(data.buffer);
    this.pairs = pairsOf(data);
    const steps = new Float64Array(rows);
    steps.set(this.stepOfRow.subarray(0, this.rowsUsed));
    this.stepOfRow = steps;
    this.index.reserveRows(rows);
  }
}

/** Where `lookupRows`'s warm-up reads go, so that they are not optimised away. */
let sink = 0;

/**
 * `lookup` but for misses and for the keys `findRows` leaves UNSURE (returns how many): a chunk of
 * keys at a time, finds their rows, reads every cache line of those rows, then copies them (as float64 pairs
 * into `pairsInto`, else as words into `wordsInto`), so that the misses of a chunk are under way
 * together, and its pages stay in the TLB from its reads to its copy. A plain function of its
 * arrays: the same loops run from a method reading its fields ran ~1.5× slower.
 */
function lookupRows(
  keys: readonly string[], rows: Int32Array, scratch: FindScratch,
  table: Int32Array, mask: number, arena: Uint8Array,
  words: Int32Array, pairs: Float64Array, pairsInto: Float64Array | undefined, wordsInto: Int32Array | undefined, dim: number,
  stepOfRow: Float64Array, steps: Float64Array | undefined, found: Uint8Array,
): number {
  let unsure = 0;
  let read = 0;
  for (let start = 0; start < keys.length; start += CHUNK) {
    const end = Math.min(keys.length, start + CHUNK);
    unsure += findRows(keys, rows, scratch, table, mask, arena, start, end);
    read ^= touchRows(words, dim, rows, start, end, stepOfRow, steps, found);
    if (pairsInto) copyRowsAsPairs(pairs, pairsInto, dim / 2, rows, start, end);
    else copyRowsAsWords(words, wordsInto!, dim, rows, start, end);
  }
  sink = read;
  return unsure;
}

/** Whole pairs of floats of `data`, as float64s. */
const pairsOf = (data: Float32Array): Float64Array => new Float64Array(data.buffer, 0, data.buffer.byteLength >> 3);

/**
 * Reads one word of every cache line of the found rows (and each row's step when asked, a miss of
 * its own), so that the batch's misses are under way together before any row is copied. The last
 * word of a row is read too: a row need not start on a line, and then it spans one more. Returns
 * what it read, to be kept, so that the reads are not optimised away.
 */
function touchRows(words: Int32Array, dim: number, rows: Int32Array, start: number, end: number, stepOfRow: Float64Array, steps: Float64Array | undefined, found: Uint8Array): number {
  let read = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i]!;
    if (row < 0) {
      if (steps) steps[i] = -1;
      continue;
    }
    const rowEnd = row * dim + dim;
    for (let j = row * dim; j < rowEnd; j += WORDS_PER_LINE) read ^= words[j]!;
    read ^= words[rowEnd - 1]!;
    if (steps) steps[i] = stepOfRow[row]!;
    found[i] = 1;
  }
  return read;
}

/**
 * Copies the found rows into `into` as 64-bit moves, four a turn: a copy of fewer, simpler moves
 * lets the processor run further ahead. Float64 moves keep every bit (NaN payloads included).
 */
function copyRowsAsPairs(pairs: Float64Array, into: Float64Array, width: number, rows: Int32Array, start: number, end: number): void {
  const unrolled = width - (width % 4);
  for (let i = start; i < end; i++) {
    const row = rows[i]!;
    if (row < 0) continue;
    let from = row * width;
    let to = i * width;
    const blocksEnd = to + unrolled;
    for (; to < blocksEnd; to += 4, from += 4) {
      into[to] = pairs[from]!;
      into[to + 1] = pairs[from + 1]!;
      into[to + 2] = pairs[from + 2]!;
      into[to + 3] = pairs[from + 3]!;
    }
    for (const rowEnd = i * width + width; to < rowEnd; to++, from++) into[to] = pairs[from]!;
  }
}

function copyRowsAsWords(words: Int32Array, into: Int32Array, dim: number, rows: Int32Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const row = rows[i]!;
    if (row < 0) continue;
    const from = row * dim;
    const to = i * dim;
    for (let j = 0; j < dim; j++) into[to + j] = words[from + j]!;
  }
}
