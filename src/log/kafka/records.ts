import type { Bytes, Headers, LogRecord } from "../types.ts";
import type { RawRecord } from "./internals.ts";

/**
 * Key of the tombstones `compact()` writes to roll the active segment. `read` and consumers of
 * this backend skip them and `produce` refuses the key; other Kafka clients should ignore it.
 */
export const COMPACTION_MARKER_KEY = "__carls.compact";
/** `COMPACTION_MARKER_KEY` as bytes. */
export const COMPACTION_MARKER = Buffer.from(COMPACTION_MARKER_KEY);

/** Wraps bytes as a Buffer without copying. */
const asBuffer = (bytes: Bytes): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Presents a kafkajs Buffer as a plain Uint8Array (same memory), as the embedded backend returns. */
const asBytes = (buffer: Buffer): Bytes => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

export const isCompactionMarker = (key: Bytes | null): boolean =>
  key !== null && key.byteLength === COMPACTION_MARKER.length && asBuffer(key).equals(COMPACTION_MARKER);

const EMPTY = new Uint8Array(0);

function decodeHeaders(raw: RawRecord["headers"]): Headers {
  const headers: Record<string, Bytes> = {};
  for (const name in raw) {
    const value = raw[name];
    // Kafka allows repeated header keys; carls keeps the last one.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    headers[name] = last ? asBytes(last) : EMPTY;
  }
  return headers;
}

/** A record of kafkajs's consumer as carls sees it, or `null` for records carls does not deliver. */
export function decodeRecord(raw: RawRecord): LogRecord | null {
  if (raw.isControlRecord || (raw.key !== null && raw.key.equals(COMPACTION_MARKER))) return null;
  return {
    offset: Number(raw.offset),
    timestamp: Number(raw.timestamp),
    key: raw.key === null ? null : asBytes(raw.key),
    value: raw.value === null ? null : asBytes(raw.value),
    headers: decodeHeaders(raw.headers),
  };
}

export const payloadBytes = (record: LogRecord): number => (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
