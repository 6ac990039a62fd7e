/**
 * A Kafka read as columns (`readColumns`), with no object per record. While every record lies in
 * one buffer (the records of one fetch response, the usual case), the columns point into it; a
 * record from another buffer (a second fetch, a gzip batch inflated on its own) or one put
 * together from chunks turns the columns into a copy, and so does a read that took under a
 * quarter of its buffer's bytes (the columns would keep the whole response alive).
 */
import { COLUMNS_MAX_BYTES, ColumnsBuilder } from "../columns.ts";
import type { Bytes, LogRecord, RecordColumns } from "../types.ts";
import type { RecordSink } from "./fetch.ts";
import type { RecordCursor } from "./record-batch.ts";

export class ColumnsSink implements RecordSink<RecordColumns> {
  private readonly out = new ColumnsBuilder(64, 0);
  /** The buffer every start points into, while the columns are in place. */
  private shared: Buffer | undefined;
  private copied = false;
  /** Key and value bytes taken. */
  private payload = 0;

  get count(): number {
    return this.out.count;
  }

  take(cursor: RecordCursor): void {
    this.shared ??= cursor.buf.byteLength <= COLUMNS_MAX_BYTES ? cursor.buf : undefined;
    if (!this.copied && cursor.buf !== this.shared) this.copy();
    const { out } = this;
    const i = this.next(cursor.offset, cursor.timestamp);
    out.keyLength[i] = cursor.keyLength;
    out.valueLength[i] = cursor.valueLength;
    this.payload += cursor.payloadBytes();
    if (this.copied) {
      out.keyStart[i] = this.append(cursor.buf, cursor.keyStart, cursor.keyLength);
      out.valueStart[i] = this.append(cursor.buf, cursor.valueStart, cursor.valueLength);
    } else {
      out.keyStart[i] = cursor.keyLength > 0 ? cursor.keyStart : 0;
      out.valueStart[i] = cursor.valueLength > 0 ? cursor.valueStart : 0;
    }
  }

  takeRecord(record: LogRecord): void {
    if (!this.copied) this.copy();
    const { out } = this;
    const i = this.next(record.offset, record.timestamp);
    [out.keyStart[i], out.keyLength[i]] = this.appendBytes(record.key);
    [out.valueStart[i], out.valueLength[i]] = this.appendBytes(record.value);
  }

  result(): RecordColumns {
    if (!this.copied && this.shared !== undefined && this.payload * 4 < this.shared.byteLength) this.copy();
    return this.copied || this.shared === undefined ? this.out.finish() : this.out.finish(new Uint8Array(this.shared.buffer, this.shared.byteOffset, this.shared.byteLength));
  }

  /** Room for one more record, with its offset and timestamp; its index. */
  private next(offset: number, timestamp: number): number {
    const { out } = this;
    out.reserveRecords(1);
    const i = out.count++;
    out.offsets[i] = offset;
    out.timestamps[i] = timestamp;
    return i;
  }

  /** Copies the keys and values taken so far out of the shared buffer, into the builder's data. */
  private copy(): void {
    this.copied = true;
    const { out, shared } = this;
    for (let i = 0; i < out.count; i++) {
      out.keyStart[i] = this.append(shared!, out.keyStart[i]!, out.keyLength[i]!);
      out.valueStart[i] = this.append(shared!, out.valueStart[i]!, out.valueLength[i]!);
    }
  }

  /** Appends `length` bytes of `buf` from `start` (none for -1 or 0); where they start in the data. */
  private append(buf: Buffer, start: number, length: number): number {
    if (length <= 0) return this.out.dataLength;
    return this.out.appendData(buf.subarray(start, start + length));
  }

  private appendBytes(bytes: Bytes | null): [start: number, length: number] {
    if (bytes === null) return [this.out.dataLength, -1];
    return [this.out.appendData(bytes), bytes.byteLength];
  }
}
