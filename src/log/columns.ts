/**
 * Columnar reads (`Log.readColumns`): records as typed-array columns over one data buffer, built
 * without an object per record. The embedded backend decodes its stored batches straight into a
 * builder, which grows its columns as a read finds more records (see batch-codec.ts); the Kafka
 * backend's columns point into its fetch response, or are copied into a builder (kafka/columns-sink.ts).
 */
import type { Bytes, RecordColumns } from "./types.ts";

/**
 * Most key and value bytes one columnar read returns, whatever its `maxBytes` (at least one record
 * is still returned): the starts are 32-bit, and a builder's buffer cannot grow without bound.
 */
export const COLUMNS_MAX_BYTES = 1024 * 1024 * 1024;

const EMPTY_DATA = new Uint8Array(0);

/** Columns with no records. */
export const emptyColumns = (): RecordColumns => ({
  count: 0,
  offsets: new Float64Array(0),
  timestamps: new Float64Array(0),
  keyData: EMPTY_DATA,
  keyStart: new Uint32Array(0),
  keyLength: new Int32Array(0),
  valueData: EMPTY_DATA,
  valueStart: new Uint32Array(0),
  valueLength: new Int32Array(0),
});

/** Key `i` of `columns` as a view into its data, or `null`. */
export function columnKey(columns: RecordColumns, i: number): Bytes | null {
  const length = columns.keyLength[i]!;
  if (length < 0) return null;
  const data = columns.keyData;
  return new Uint8Array(data.buffer, data.byteOffset + columns.keyStart[i]!, length);
}

/** Value `i` of `columns` as a view into its data, or `null` for a tombstone. */
export function columnValue(columns: RecordColumns, i: number): Bytes | null {
  const length = columns.valueLength[i]!;
  if (length < 0) return null;
  const data = columns.valueData;
  return new Uint8Array(data.buffer, data.byteOffset + columns.valueStart[i]!, length);
}

/**
 * Growable columns and one data buffer (keys and values share it). Writers fill the public arrays
 * directly, after `reserveRecords` / `reserveData`; `finish` trims them to what was written.
 */
export class ColumnsBuilder {
  count = 0;
  dataLength = 0;
  offsets: Float64Array;
  timestamps: Float64Array;
  keyStart: Uint32Array;
  keyLength: Int32Array;
  valueStart: Uint32Array;
  valueLength: Int32Array;
  data: Uint8Array;

  constructor(recordCapacity: number, dataCapacity: number) {
    const records = Math.max(1, Math.ceil(recordCapacity));
    this.offsets = new Float64Array(records);
    this.timestamps = new Float64Array(records);
    this.keyStart = new Uint32Array(records);
    this.keyLength = new Int32Array(records);
    this.valueStart = new Uint32Array(records);
    this.valueLength = new Int32Array(records);
    this.data = allocData(Math.max(0, Math.ceil(dataCapacity)));
  }

  get recordCapacity(): number {
    return this.offsets.length;
  }

  /** Room for `more` records past `count`. */
  reserveRecords(more: number): void {
    const needed = this.count + more;
    if (needed <= this.offsets.length) return;
    const capacity = Math.max(needed, this.offsets.length * 2);
    this.offsets = grow(this.offsets, new Float64Array(capacity), this.count);
    this.timestamps = grow(this.timestamps, new Float64Array(capacity), this.count);
    this.keyStart = grow(this.keyStart, new Uint32Array(capacity), this.count);
    this.keyLength = grow(this.keyLength, new Int32Array(capacity), this.count);
    this.valueStart = grow(this.valueStart, new Uint32Array(capacity), this.count);
    this.valueLength = grow(this.valueLength, new Int32Array(capacity), this.count);
  }

  /** Room for `more` data bytes past `dataLength`. */
  reserveData(more: number): void {
    const needed = this.dataLength + more;
    if (needed <= this.data.length) return;
    const data = allocData(Math.max(needed, this.data.length * 2));
    data.set(this.data.subarray(0, this.dataLength));
    this.data = data;
  }

  /** Appends `bytes` to the data; returns where they start. */
  appendData(bytes: Uint8Array): number {
    this.reserveData(bytes.byteLength);
    const start = this.dataLength;
    this.data.set(bytes, start);
    this.dataLength += bytes.byteLength;
    return start;
  }

  /**
   * The columns written so far, copied to fit when they use under half of their room. `over`: the
   * buffer the starts point into, when it is not the builder's own data.
   */
  finish(over?: Uint8Array): RecordColumns {
    const n = this.count;
    if (n === 0) return emptyColumns();
    const fit = n < this.offsets.length / 2 ? trimCopy : trimView;
    const data = over ?? (this.dataLength < this.data.length / 2 ? this.data.slice(0, this.dataLength) : this.data.subarray(0, this.dataLength));
    return {
      count: n,
      offsets: fit(this.offsets, n),
      timestamps: fit(this.timestamps, n),
      keyData: data,
      keyStart: fit(this.keyStart, n),
      keyLength: fit(this.keyLength, n),
      valueData: data,
      valueStart: fit(this.valueStart, n),
      valueLength: fit(this.valueLength, n),
    };
  }
}

type Column = Float64Array | Uint32Array | Int32Array;

function grow<T extends Column>(from: T, to: T, count: number): T {
  to.set(from.subarray(0, count) as never);
  return to;
}

const trimView = <T extends Column>(column: T, n: number): T => column.subarray(0, n) as T;
const trimCopy = <T extends Column>(column: T, n: number): T => column.slice(0, n) as T;

/** Uninitialised memory: every byte handed out is written first. */
function allocData(size: number): Uint8Array {
  if (size === 0) return EMPTY_DATA;
  const buffer = Buffer.allocUnsafe(size);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
}
