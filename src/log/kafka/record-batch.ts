/**
 * Kafka's record batch format (magic 2), encoded and decoded directly: kafkajs builds an object and
 * a buffer per record, which made it the bottleneck for produce and read throughput.
 * https://kafka.apache.org/documentation/#recordbatch
 */
import { gunzipSync } from "node:zlib";
import type { Bytes, Headers, LogRecord } from "../types.ts";
import { LogError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";

export interface OutgoingRecord {
  readonly key: Bytes | null;
  readonly value: Bytes | null;
  readonly headers: Headers | undefined;
  readonly timestamp: number;
}

/** A record batch of a fetch, its records still encoded: read them with a `RecordCursor`. */
export interface DecodedBatch {
  readonly baseOffset: number;
  /** Offset of the batch's last record as written (compaction may have removed it). */
  readonly lastOffset: number;
  /** The buffer holding the records (the fetch's, or the batch's own once inflated). */
  readonly buf: Buffer;
  /** Where the first record starts in `buf`. */
  readonly pos: number;
  /** Where the batch's records end in `buf`. */
  readonly end: number;
  /** Records in the batch; 0 for a control (transaction marker) batch. */
  readonly count: number;
  readonly baseTimestamp: number;
  /** The broker's append time, when the topic uses it for every record. */
  readonly appendTime: number | null;
}

/** Bytes before the first record: base offset .. record count. */
const BATCH_HEADER_BYTES = 61;
/** Offset of the attributes field, where the CRC's coverage starts. */
const CRC_START = 21;
const MAGIC = 2;
const COMPRESSION_MASK = 0x07;
const LOG_APPEND_TIME = 0x08;
const CONTROL = 0x20;
const GZIP = 1;
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

function varintSize(n: number): number {
  let z = zigzag(n);
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let z = zigzag(n);
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

const bytesSize = (bytes: Bytes | null): number => (bytes === null ? 1 : varintSize(bytes.byteLength) + bytes.byteLength);

function writeBytes(buf: Buffer, pos: number, bytes: Bytes | null): number {
  if (bytes === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, bytes.byteLength);
  buf.set(bytes, pos);
  return pos + bytes.byteLength;
}

/** One uncompressed, non-transactional batch of `records`, base offset 0 (the broker assigns it). */
export function encodeRecordBatch(records: readonly OutgoingRecord[]): Buffer {
  let firstTimestamp = Infinity;
  let maxTimestamp = -Infinity;
  for (const r of records) {
    if (r.timestamp < firstTimestamp) firstTimestamp = r.timestamp;
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  const names = new Map<string, Buffer>();
  const bodySizes = new Array<number>(records.length);
  const headerCounts = new Array<number>(records.length);
  let size = BATCH_HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    let body = 1 + varintSize(r.timestamp - firstTimestamp) + varintSize(i) + bytesSize(r.key) + bytesSize(r.value);
    let headerCount = 0;
    for (const name in r.headers) {
      let encoded = names.get(name);
      if (encoded === undefined) names.set(name, (encoded = Buffer.from(name)));
      body += bytesSize(encoded) + bytesSize(r.headers[name]!);
      headerCount++;
    }
    body += varintSize(headerCount);
    bodySizes[i] = body;
    headerCounts[i] = headerCount;
    size += varintSize(body) + body;
  }

  const buf = Buffer.allocUnsafe(size);
  buf.writeBigInt64BE(0n, 0); // base offset
  buf.writeInt32BE(size - 12, 8); // batch length: everything after this field
  buf.writeInt32BE(0, 12); // partition leader epoch
  buf.writeInt8(MAGIC, 16);
  buf.writeInt16BE(0, 21); // attributes: no compression, create time, not transactional
  buf.writeInt32BE(records.length - 1, 23); // last offset delta
  buf.writeBigInt64BE(BigInt(firstTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(-1n, 43); // producer id
  buf.writeInt16BE(-1, 51); // producer epoch
  buf.writeInt32BE(-1, 53); // base sequence
  buf.writeInt32BE(records.length, 57);
  let pos = BATCH_HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    pos = writeVarint(buf, pos, bodySizes[i]!);
    buf[pos++] = 0; // record attributes
    pos = writeVarint(buf, pos, r.timestamp - firstTimestamp);
    pos = writeVarint(buf, pos, i);
    pos = writeBytes(buf, pos, r.key);
    pos = writeBytes(buf, pos, r.value);
    pos = writeVarint(buf, pos, headerCounts[i]!);
    for (const name in r.headers) {
      pos = writeBytes(buf, pos, names.get(name)!);
      pos = writeBytes(buf, pos, r.headers[name]!);
    }
  }
  buf.writeUInt32BE(crc32c(buf, CRC_START, size), 17);
  return buf;
}

/** Reads varints, varlongs and byte fields of records, without copying bytes. */
class RecordReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}

  varint(): number {
    const buf = this.buf;
    let byte = buf[this.pos++]!;
    let z = byte & 0x7f;
    for (let multiplier = 0x80; byte & 0x80; multiplier *= 0x80) {
      byte = buf[this.pos++]!;
      z += (byte & 0x7f) * multiplier;
    }
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  bytes(): Bytes | null {
    const length = this.varint();
    if (length < 0) return null;
    const start = this.pos;
    this.pos += length;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, length);
  }

  string(): string {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    return this.buf.toString("utf8", start, start + length);
  }
}

const EMPTY = new Uint8Array(0);
/** The headers of every record that has none: one object, not one a record. */
const NO_HEADERS: Headers = Object.freeze({});

/**
 * Reads the records of a batch one at a time, into its fields, with no object per record: a
 * key or value is `keyLength`/`valueLength` bytes (-1 for null) at `keyStart`/`valueStart` of
 * `buf`. `record()` makes a LogRecord of the current one, with views of `buf`.
 */
export class RecordCursor {
  offset = 0;
  timestamp = 0;
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headerCount = 0;
  buf: Buffer = Buffer.alloc(0);
  private reader = new RecordReader(this.buf, 0);
  private left = 0;
  private end = 0;
  private headersAt = 0;
  private batch: DecodedBatch | undefined;

  /** Starts on the records of `batch`. */
  reset(batch: DecodedBatch): void {
    this.batch = batch;
    this.buf = batch.buf;
    this.reader = new RecordReader(batch.buf, batch.pos);
    this.left = batch.count;
    this.end = batch.end;
  }

  /** Moves to the next record; false when the batch has no more. Throws `CorruptRecordBatch` where a record does not fit in its batch. */
  next(): boolean {
    if (this.left === 0) return false;
    this.left--;
    const reader = this.reader;
    const batch = this.batch!;
    if (reader.pos >= this.end) throw corrupt(batch, `it holds fewer records than the ${batch.count} it counts`);
    const length = reader.varint();
    const end = reader.pos + length;
    if (!(length > 0 && end <= this.end)) throw corrupt(batch, `a record of ${length} bytes does not fit in it`);
    reader.pos++; // record attributes
    const timestampDelta = reader.varint();
    this.offset = batch.baseOffset + reader.varint();
    this.timestamp = batch.appendTime ?? batch.baseTimestamp + timestampDelta;
    this.keyLength = reader.varint();
    this.keyStart = reader.pos;
    if (this.keyLength > 0) reader.pos += this.keyLength;
    this.valueLength = reader.varint();
    this.valueStart = reader.pos;
    if (this.valueLength > 0) reader.pos += this.valueLength;
    this.headerCount = reader.varint();
    this.headersAt = reader.pos;
    if (reader.pos > end) throw corrupt(batch, `the fields of the record at offset ${this.offset} overrun its length`);
    reader.pos = end;
    return true;
  }

  /** Key and value bytes of the current record. */
  payloadBytes(): number {
    return Math.max(0, this.keyLength) + Math.max(0, this.valueLength);
  }

  /** Whether the current record's key is `key`. */
  keyEquals(key: Uint8Array): boolean {
    return this.keyLength === key.byteLength && this.buf.compare(key, 0, key.byteLength, this.keyStart, this.keyStart + this.keyLength) === 0;
  }

  /** The current record as a LogRecord, its key, value and headers views of `buf`. */
  record(): LogRecord {
    return {
      offset: this.offset,
      timestamp: this.timestamp,
      key: this.view(this.keyStart, this.keyLength),
      value: this.view(this.valueStart, this.valueLength),
      headers: this.headerCount === 0 ? NO_HEADERS : readHeaders(new RecordReader(this.buf, this.headersAt), this.headerCount),
    };
  }

  private view(start: number, length: number): Bytes | null {
    return length < 0 ? null : new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, length);
  }
}

/** A record batch whose records do not fit its bytes (Kafka's CRC is not verified on read, as librdkafka does by default). */
export class CorruptRecordBatch extends LogError {
  override readonly name = "CorruptRecordBatch";

  constructor(message: string) {
    super("StoreCorrupt", message);
  }
}

const corrupt = (batch: DecodedBatch, why: string) => new CorruptRecordBatch(`record batch at offset ${batch.baseOffset} is corrupt: ${why}`);

function readHeaders(reader: RecordReader, count: number): Headers {
  const headers: Record<string, Bytes> = {};
  for (let h = 0; h < count; h++) {
    const name = reader.string();
    headers[name] = reader.bytes() ?? EMPTY;
  }
  return headers;
}

/**
 * The complete batches in a fetched record set, decoded one by one as they are iterated (a read
 * that reaches its limits stops early); a batch cut off by the fetch size limit is left out, as
 * Kafka expects.
 */
export function* decodeRecordBatches(buf: Buffer): Generator<DecodedBatch> {
  let pos = 0;
  while (pos + BATCH_HEADER_BYTES <= buf.length) {
    const baseOffset = Number(buf.readBigInt64BE(pos));
    const end = pos + 12 + buf.readInt32BE(pos + 8);
    if (end > buf.length) return;
    const magic = buf.readInt8(pos + 16);
    if (magic !== MAGIC) throw new LogError("UnsupportedFormat", `record batch at offset ${baseOffset} has message format ${magic}; carls reads only format 2`);
    const attributes = buf.readInt16BE(pos + 21);
    const lastOffset = baseOffset + buf.readInt32BE(pos + 23);
    const start = pos;
    pos = end;
    const baseTimestamp = Number(buf.readBigInt64BE(start + 27));
    const appendTime = attributes & LOG_APPEND_TIME ? Number(buf.readBigInt64BE(start + 35)) : null;
    if (attributes & CONTROL) {
      yield { baseOffset, lastOffset, buf, pos: end, end, count: 0, baseTimestamp, appendTime };
      continue;
    }
    const count = buf.readInt32BE(start + 57);
    const codec = attributes & COMPRESSION_MASK;
    if (codec === 0) {
      yield { baseOffset, lastOffset, buf, pos: start + BATCH_HEADER_BYTES, end, count, baseTimestamp, appendTime };
    } else if (codec === GZIP) {
      const inflated = gunzipSync(buf.subarray(start + BATCH_HEADER_BYTES, end));
      yield { baseOffset, lastOffset, buf: inflated, pos: 0, end: inflated.length, count, baseTimestamp, appendTime };
    } else {
      throw new LogError("UnsupportedFormat", `record batch at offset ${baseOffset} is compressed with ${CODECS[codec] ?? codec}; carls reads only uncompressed and gzip batches`);
    }
  }
}
