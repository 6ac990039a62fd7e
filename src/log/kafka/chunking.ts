/**
 * Values larger than a topic's `max.message.bytes` are written as consecutive records of one
 * partition, with the same key, and headers `carls.chunk` = "index/count" (index from 0) and
 * `carls.chunk.id`. The last chunk carries the caller's headers and gives the reassembled record
 * its offset and timestamp, so committing `offset + 1` commits the whole value.
 *
 * Readers rely on the chunks being consecutive: this backend's producer holds the partition while
 * it writes them. A sequence interrupted by another record (a writer that died mid-value, or a
 * concurrent writer in another process) is dropped as incomplete.
 */
import { randomBytes } from "node:crypto";
import { LogError } from "../errors.ts";
import type { Bytes, Headers, LogRecord } from "../types.ts";
import { recordSize } from "../validate.ts";

const CHUNK_HEADER = "carls.chunk";
const CHUNK_ID_HEADER = "carls.chunk.id";

/** Room kept in every record batch for its header, the record framing and the chunk headers. */
export const BATCH_OVERHEAD_BYTES = 4096;
const SMALLEST_CHUNK = 1024;

export interface RecordPiece {
  readonly key: Bytes | null;
  readonly value: Bytes | null;
  readonly headers: Headers | undefined;
}

export const isReservedHeader = (name: string): boolean => name.startsWith(CHUNK_HEADER);

/** The record itself when it fits a batch of `maxMessageBytes`, else its chunks (views, no copies). */
export function splitRecord(topic: string, record: RecordPiece, maxMessageBytes: number): RecordPiece[] {
  const limit = maxMessageBytes - BATCH_OVERHEAD_BYTES;
  const size = recordSize(record);
  if (size <= limit) return [record];
  const { key, value, headers } = record;
  const chunkBytes = limit - (size - (value?.byteLength ?? 0));
  if (value === null || chunkBytes < SMALLEST_CHUNK) {
    throw new LogError(
      "RecordTooLarge",
      `record for topic ${topic} has ${size - (value?.byteLength ?? 0)} bytes of key and headers; ` +
        `the topic's max.message.bytes (${maxMessageBytes}) leaves no room to split its value`,
    );
  }
  const count = Math.ceil(value.byteLength / chunkBytes);
  const id = Buffer.from(randomBytes(8).toString("hex"));
  const pieces: RecordPiece[] = [];
  for (let index = 0; index < count; index++) {
    const chunkHeaders: Record<string, Bytes> = index === count - 1 ? { ...headers } : {};
    chunkHeaders[CHUNK_HEADER] = Buffer.from(`${index}/${count}`);
    chunkHeaders[CHUNK_ID_HEADER] = id;
    pieces.push({ key, value: value.subarray(index * chunkBytes, (index + 1) * chunkBytes), headers: chunkHeaders });
  }
  return pieces;
}

interface Partial {
  readonly id: string;
  readonly count: number;
  readonly firstOffset: number;
  readonly parts: Bytes[];
  bytes: number;
}

const decoder = new TextDecoder();
const CHUNK_POSITION = /^(\d+)\/(\d+)$/;

function chunkOf(record: LogRecord): { index: number; count: number; id: string } | null {
  const position = record.headers[CHUNK_HEADER];
  const id = record.headers[CHUNK_ID_HEADER];
  if (position === undefined || id === undefined) return null;
  const match = CHUNK_POSITION.exec(decoder.decode(position));
  if (match === null) return null;
  return { index: Number(match[1]), count: Number(match[2]), id: decoder.decode(id) };
}

function withoutChunkHeaders(headers: Headers): Headers {
  const kept: Record<string, Bytes> = {};
  for (const name in headers) if (!isReservedHeader(name)) kept[name] = headers[name]!;
  return kept;
}

function concat(parts: readonly Bytes[]): Bytes {
  const joined = Buffer.concat(parts);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

/** Reassembles chunked values of one partition from its records, fed in offset order. */
export class ChunkAssembler {
  private partial: Partial | null = null;

  /** Offset of the first chunk of a value still incomplete, or `null`. */
  get pendingFrom(): number | null {
    return this.partial?.firstOffset ?? null;
  }

  /** Bytes of the chunks of that value received so far. */
  get pendingBytes(): number {
    return this.partial?.bytes ?? 0;
  }

  /** The record to deliver for `record`, or `null` while it is a chunk of an incomplete value. */
  push(record: LogRecord): LogRecord | null {
    const chunk = chunkOf(record);
    if (chunk === null) {
      this.partial = null;
      return record;
    }
    const continues = this.partial !== null && this.partial.id === chunk.id && this.partial.parts.length === chunk.index;
    if (chunk.index === 0) {
      this.partial = { id: chunk.id, count: chunk.count, firstOffset: record.offset, parts: [], bytes: 0 };
    } else if (!continues) {
      this.partial = null;
      return null;
    }
    const partial = this.partial!;
    const part = record.value ?? new Uint8Array(0);
    partial.parts.push(part);
    partial.bytes += part.byteLength;
    if (partial.parts.length < partial.count) return null;
    this.partial = null;
    return { ...record, value: concat(partial.parts), headers: withoutChunkHeaders(record.headers) };
  }

  reset(): void {
    this.partial = null;
  }
}
